"""The surge, with the server killed in the middle of it: nothing is lost or booked twice, and guides come first.

The surge bench's world (200 demo stores, 600 guides, a livestream) and customers, each booking once over
HTTP at concurrency 64 with her idempotency key. CRASH_AFTER seconds into the wave the server is SIGKILLed
(no shutdown at all) and started again on the same port. Customers retry whatever failed, with the same key,
until they get an answer, as the mini-program does. As soon as the server answers /readyz again, all 600
guides' apps catch up at once (`myTaskList(updatedAfter:)`, what the app does after its socket drops) while
the customers' retries pour in: staff run in an admission lane of their own, so their answers must not wait
behind the customers. Prints one JSON line:

- every customer booked exactly once (one booking, one idempotency record, one task per booking), nothing
  left unpublished in the outbox, no slot over capacity (else it exits with an error);
- the outage (kill to /readyz), and how long the customers' wave took;
- the guides' catch-ups after the restart, timed from /readyz to each answer (p50, p99, max); the same 600
  catch-ups sent at once to the quiet server after the wave, their own floor (how long the server takes to
  answer them all with no customer in the way); and one guide catching up every 250 ms through the whole
  wave, as in the surge bench.

    .venv/bin/python bench/surge_crash.py                       # needs PostgreSQL and Redis on 127.0.0.1
    IRS_SURGE_CUSTOMERS=3000 IRS_CRASH_AFTER=8 ...
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import livestream_surge as surge  # noqa: E402
from bench.checkout import wait_ready  # noqa: E402
from bench.identity_ingest import create_database, drop_database  # noqa: E402

CUSTOMERS = int(os.environ.get("IRS_SURGE_CUSTOMERS", "2000"))
CONCURRENCY = int(os.environ.get("IRS_SURGE_CONCURRENCY", "64"))
CRASH_AFTER = float(os.environ.get("IRS_CRASH_AFTER", "5"))
GIVE_UP_AFTER = 300.0  # seconds a customer keeps retrying


def start_server(url: str, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-migrate"]
    return subprocess.Popen(command, env=surge.server_env(url), cwd=ROOT, stderr=subprocess.DEVNULL)


class Outage:
    """Kill the server CRASH_AFTER seconds into the wave and start it again; when it was down and back."""

    def __init__(self, url: str, port: int, server: subprocess.Popen) -> None:
        self.url, self.port, self.server = url, port, server
        self.killed_at = self.ready_at = 0.0
        self.booked_before_kill = 0

    async def run(self, client: httpx.AsyncClient, on_ready) -> None:
        await asyncio.sleep(CRASH_AFTER)
        self.booked_before_kill = await booked(self.url)
        self.server.send_signal(signal.SIGKILL)
        self.server.wait()
        self.killed_at = time.perf_counter()
        self.server = start_server(self.url, self.port)
        await wait_ready(client, self.server, within=120)
        self.ready_at = time.perf_counter()
        await on_ready()


async def booked(url: str) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(sa.text("SELECT count(*) FROM booking"))).scalar_one()
    finally:
        await engine.dispose()


async def book_until_answered(client: httpx.AsyncClient, jobs: list[tuple[str, dict]]) -> dict:
    """Each customer retries (same key) until the server answers her; how many retries that took."""
    queue: asyncio.Queue = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    answers: dict[str, str] = {}
    retries = 0

    async def worker() -> None:
        nonlocal retries
        while not queue.empty():
            token, booking_input = queue.get_nowait()
            give_up = time.perf_counter() + GIVE_UP_AFTER
            body = {"query": surge.BOOK, "variables": {"input": booking_input}}
            while True:
                try:
                    response = await client.post("/graphql", json=body, headers={"authorization": f"Bearer {token}"})
                    if response.status_code == 200:
                        payload = response.json()["data"]["bookingCreate"]
                        answers[booking_input["idempotencyKey"]] = (
                            payload["errors"][0]["code"] if payload["errors"] else "BOOKED"
                        )
                        break
                except (httpx.HTTPError, ValueError, KeyError, TypeError):
                    pass  # no answer, or not one she can read (a body cut short by the kill): she retries
                retries += 1
                if time.perf_counter() > give_up:
                    answers[booking_input["idempotencyKey"]] = "GAVE_UP"
                    break
                await asyncio.sleep(0.2)

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return {"answers": answers, "retries": retries}


async def catch_up_all(address: str, tokens: dict[int, str], since: str, ready_at: float) -> list[float]:
    """Every guide's app after its socket dropped: one catch-up each, all at once; seconds from /readyz."""
    body = {"query": surge.CATCH_UP, "variables": {"after": since}}
    limits = httpx.Limits(max_connections=len(tokens), max_keepalive_connections=0)

    async def one(client: httpx.AsyncClient, token: str) -> float | None:
        try:
            answer = await client.post("/graphql", json=body, headers={"authorization": f"Bearer {token}"})
        except httpx.HTTPError:
            return None
        ok = answer.status_code == 200 and "errors" not in answer.json()
        return time.perf_counter() - ready_at if ok else None

    async with httpx.AsyncClient(base_url=f"http://{address}", timeout=120, limits=limits) as client:
        times = await asyncio.gather(*(one(client, token) for token in tokens.values()))
    return [t for t in times if t is not None]


async def integrity(url: str) -> dict:
    queries = {
        "bookings": "SELECT count(*) FROM booking",
        "customers_booked_twice": "SELECT count(*) FROM (SELECT person_id FROM booking GROUP BY person_id "
        "HAVING count(*) > 1) twice",
        "idempotency_records": "SELECT count(*) FROM idempotency_record WHERE operation = 'bookingCreate'",
        "bookings_without_one_task": "SELECT count(*) FROM booking b WHERE (SELECT count(*) FROM task t "
        "WHERE t.booking_id = b.id) <> 1",
        "outbox_unpublished": "SELECT count(*) FROM outbox WHERE published_at IS NULL",
    }
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return {name: (await connection.execute(sa.text(sql))).scalar_one() for name, sql in queries.items()}
    finally:
        await engine.dispose()


async def main() -> None:
    url = await create_database()
    port = surge.free_port()
    address = f"127.0.0.1:{port}"
    outage = None
    try:
        world = await surge.prepare(url)
        customer_tokens, guide_tokens = surge.tokens_for(world)
        outage = Outage(url, port, start_server(url, port))
        limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
        async with httpx.AsyncClient(base_url=f"http://{address}", timeout=60, limits=limits) as client:
            await wait_ready(client, outage.server, within=120)
            day = surge.next_weekday(0)
            seats, capacity = await surge.free_seats(client, customer_tokens[0], world["stores"], day)
            random.Random(7).shuffle(seats)
            livestream = surge.gid("Livestream", world["livestream"])
            jobs = [
                (
                    customer_tokens[i],
                    {
                        "storeId": surge.gid("Store", store),
                        "slotStart": start,
                        "livestreamId": livestream,
                        "idempotencyKey": f"crash-{i}",
                    },
                )
                for i, (store, start) in enumerate(seats[:CUSTOMERS])
            ]
            since = surge._iso(datetime.now(UTC))
            one_guide = surge.CatchUps(address, next(iter(guide_tokens.values())), since)
            after_restart: list[float] = []

            async def guides_catch_up() -> None:
                after_restart.extend(await catch_up_all(address, guide_tokens, since, outage.ready_at))

            started = time.perf_counter()
            one_guide.start()
            crash = asyncio.create_task(outage.run(client, guides_catch_up))
            wave = await book_until_answered(client, jobs)
            await crash
            elapsed = time.perf_counter() - started
            catch_up_during_wave = await one_guide.stop()
            quiet_start = time.perf_counter()  # the same 600 catch-ups on the quiet server: their own floor
            when_quiet = await catch_up_all(address, guide_tokens, since, quiet_start)
        await asyncio.sleep(3)  # the relay's sweep after the restart
        checks = {**await integrity(url), "overbooked_slots": (await surge.overbooked(url, capacity))["over_capacity"]}
    finally:
        if outage is not None:
            surge.stop(outage.server)
        await drop_database(url)
    outcomes: dict[str, int] = {}
    for code in wave["answers"].values():
        outcomes[code] = outcomes.get(code, 0) + 1
    print(
        json.dumps(
            {
                "bench": "surge_crash",
                "customers": len(jobs),
                "concurrency": CONCURRENCY,
                "guides": len(guide_tokens),
                "killed_after_s": CRASH_AFTER,
                "booked_before_kill": outage.booked_before_kill,
                "outage_s": round(outage.ready_at - outage.killed_at, 2),
                "wave_s": round(elapsed, 1),
                "customer_outcomes": outcomes,
                "customer_retries": wave["retries"],
                "checks": checks,
                "guides_caught_up_after_restart": f"{len(after_restart)} of {len(guide_tokens)}",
                "guide_catch_up_ms_from_ready": {
                    "p50": surge.percentile(after_restart, 0.5),
                    "p99": surge.percentile(after_restart, 0.99),
                    "max": round(max(after_restart, default=0) * 1000, 1),
                },
                "guide_catch_up_ms_all_at_once_on_a_quiet_server": {
                    "p50": surge.percentile(when_quiet, 0.5),
                    "p99": surge.percentile(when_quiet, 0.99),
                    "max": round(max(when_quiet, default=0) * 1000, 1),
                },
                "one_guide_catch_up_ms_through_the_wave": catch_up_during_wave,
            }
        )
    )

    broken = [
        name
        for name in ("customers_booked_twice", "bookings_without_one_task", "outbox_unpublished", "overbooked_slots")
        if checks[name]
    ]
    if broken or checks["bookings"] != len(jobs) or outcomes.get("BOOKED") != len(jobs):
        raise SystemExit(f"the crash lost or duplicated work: {broken or outcomes}")


if __name__ == "__main__":
    asyncio.run(main())
