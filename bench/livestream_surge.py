"""The seed's livestream surge: 5,000 viewers book a store visit while 600 guides wait on their phones.

One livestream, the 200 demo stores, 600 guides each holding a `myTasks`
WebSocket, 5,000 customers each booking once over HTTP at concurrency 64,
against a real server process (uvicorn) on PostgreSQL with the Redis bus.
Each customer books a slot that availableSlots showed free at her store (as
the mini-program would), so every booking should succeed; a second, smaller
wave then races for already-full evening slots to prove nothing overbooks.
Afterwards the same transaction is replayed by pgbench on the same machine for
the database's ceiling. Prints one JSON line.

    .venv/bin/python bench/livestream_surge.py       # needs PostgreSQL and Redis on 127.0.0.1
    IRS_SURGE_CUSTOMERS=1000 IRS_SURGE_WORKERS=2 ...  # a smaller run, or more server processes
    IRS_SURGE_PROFILE=/tmp/surge.txt ...              # py-spy's collapsed stacks of the server (one worker)
    IRS_SURGE_CLIENT=wrk ...                          # the booking wave from wrk (Debian's `wrk`), not Python
    IRS_SURGE_CUSTOMERS=50000 IRS_SURGE_DAYS=7 ...    # a long wave over a week of slots (about 9,600 a day)

CPU is measured around the booking wave (bench.checkout.CpuMeter): the server's processes (all workers),
PostgreSQL's backends of the bench database and the load generator (this process, or wrk), in milliseconds
per booking, beside throughput: a booking's cost, whatever the machine's speed.

During the wave one guide catches up (`myTaskList(updatedAfter:)`) every 250 ms over a connection of her
own, as after a dropped socket: `guide_catch_up_ms_during_wave` times those answers (staff have an
admission lane of their own, so customers queueing must not hold her up).

Latency of a task reaching its guide is measured from the moment the booking's
HTTP response reached the client (the booking had committed by then: a lower
bound of commit-to-guide) and from the moment the request was sent (an upper
bound).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa
import websockets
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.checkout import CpuMeter, process_cpu, process_tree, wait_ready  # noqa: E402
from bench.identity_ingest import create_database, drop_database  # noqa: E402
from bench.wrk import run_wrk  # noqa: E402

from server.domains.auth.tokens import TokenPolicy, encode_access_token  # noqa: E402
from server.domains.common.actor import Actor, ActorKind, Role  # noqa: E402

REDIS_URL = os.environ.get("IRS_BENCH_REDIS", "redis://127.0.0.1:6379/0")
CUSTOMERS = int(os.environ.get("IRS_SURGE_CUSTOMERS", "5000"))
CONCURRENCY = int(os.environ.get("IRS_SURGE_CONCURRENCY", "64"))
WORKERS = int(os.environ.get("IRS_SURGE_WORKERS", "1"))
CLIENT = os.environ.get("IRS_SURGE_CLIENT", "python")  # python | wrk
DAYS = int(os.environ.get("IRS_SURGE_DAYS", "1"))  # the free seats of this many days from the next Monday
GROWTH_EVERY = 5.0  # seconds between two samples of the server's CPU and memory during the wave
WRK_SCRIPT = ROOT / "bench" / "wrk_bookings.lua"
RACERS = 500
PROFILE = os.environ.get("IRS_SURGE_PROFILE")  # a file: py-spy samples the server during the first wave
SECRET = "surge-bench-secret-" + "x" * 32
BOOK = """mutation($input: BookingCreateInput!) { bookingCreate(input: $input) {
  booking { id } errors { code } } }"""
SLOTS = """query($store: ID!, $day: Date!, $last: Date!) { availableSlots(storeId: $store, from: $day, to: $last) {
  start remaining } }"""
MY_TASKS = "subscription { myTasks { kind task { id assignee { id } booking { id } } } }"
CATCH_UP = """query($after: DateTime!) { myTaskList(updatedAfter: $after, first: 100) {
  edges { node { id updatedAt } } } }"""
CATCH_UP_EVERY = 0.25  # seconds between a guide's catch-ups during the wave


def gid(kind: str, value: int) -> str:
    import base64

    return base64.b64encode(f"{kind}:{value}".encode()).decode()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(int(len(ordered) * share), len(ordered) - 1)] * 1000, 1) if ordered else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_env(url: str) -> dict:
    return {
        **os.environ,
        "IRS_DATABASE_URL": url,
        "IRS_REDIS_URL": REDIS_URL,
        "IRS_JWT_SECRET": SECRET,
        "IRS_IDENTITY_SALT": SECRET,
        "IRS_LOG_LEVEL": "WARNING",
        "IRS_SCHEDULER": "false",
        "IRS_BUS_CHANNEL_PREFIX": f"irs-surge-{uuid.uuid4().hex[:6]}:",
    }


async def prepare(url: str) -> dict:
    """Seed the demo, add the customers, and read the guides, stores and livestream."""
    subprocess.run(
        [sys.executable, "-m", "server.cli", "seed", "demo"],
        env=server_env(url),
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(
            sa.text("INSERT INTO person (created_at) SELECT now() FROM generate_series(1, :n)"),
            {"n": CUSTOMERS + RACERS},
        )
        persons = list((await connection.execute(sa.text("SELECT id FROM person ORDER BY id"))).scalars())
        guides = list(
            (
                await connection.execute(
                    sa.text("SELECT id, store_id FROM staff_user WHERE role = 'GUIDE' ORDER BY id")
                )
            ).all()
        )
        stores = list((await connection.execute(sa.text("SELECT id FROM store ORDER BY id"))).scalars())
        livestream = (await connection.execute(sa.text("SELECT id FROM livestream LIMIT 1"))).scalar_one()
    await engine.dispose()
    return {"persons": persons, "guides": guides, "stores": stores, "livestream": livestream}


BENCH_SESSION = "bench"  # a session never ended: access tokens name one


def tokens_for(world: dict) -> tuple[list[str], dict[int, str]]:
    policy = TokenPolicy(secret=SECRET, access_ttl=timedelta(hours=2))
    now = datetime.now(UTC)
    customers = [
        encode_access_token(policy, Actor(ActorKind.CUSTOMER, p), BENCH_SESSION, now)[0] for p in world["persons"]
    ]
    guides = {
        g: encode_access_token(policy, Actor(ActorKind.STAFF, g, Role.GUIDE, s), BENCH_SESSION, now)[0]
        for g, s in world["guides"]
    }
    return customers, guides


def next_weekday(weekday: int) -> str:
    """A day every demo guide works (Monday-Thursday), at least two days ahead, as store-local date."""
    day = datetime.now(UTC).date() + timedelta(days=2)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day.isoformat()


async def free_seats(client: httpx.AsyncClient, token: str, stores: list[int], day: str, days: int = 1):
    """Every free seat of ``days`` days from ``day``, one entry per seat: (store, slot start); and each slot's
    capacity."""
    seats, capacity = [], {}
    last = (datetime.fromisoformat(day) + timedelta(days=days - 1)).date().isoformat()
    for store in stores:
        body = (
            await client.post(
                "/graphql",
                json={"query": SLOTS, "variables": {"store": gid("Store", store), "day": day, "last": last}},
                headers={"authorization": f"Bearer {token}"},
            )
        ).json()
        for slot in body["data"]["availableSlots"]:
            seats += [(store, slot["start"])] * slot["remaining"]
            capacity[(store, slot["start"])] = slot["remaining"]
    return seats, capacity


class Guides:
    """600 sockets, each subscribed to myTasks; records when each booking's task arrives and to whom."""

    def __init__(self, address: str, tokens: dict[int, str]) -> None:
        self.address, self.tokens = address, tokens
        self.arrivals: dict[str, tuple[float, int]] = {}
        self.arrived_at: dict[str, float] = {}  # wall clock (to compare with the database's created_at)
        self.ready = 0
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._listen(g, t)) for g, t in self.tokens.items()]
        for _ in range(600):
            if self.ready == len(self.tokens):
                return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"only {self.ready} of {len(self.tokens)} guides subscribed")

    async def _listen(self, guide_id: int, token: str) -> None:
        async with websockets.connect(
            f"ws://{self.address}/graphql", subprotocols=["graphql-transport-ws"], max_size=2**22, open_timeout=60
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": MY_TASKS}}))
            await asyncio.sleep(0.5)  # let the server register the subscription
            self.ready += 1
            async for raw in ws:
                message = json.loads(raw)
                if message["type"] == "ping":
                    await ws.send(json.dumps({"type": "pong"}))
                elif message["type"] == "next" and message["payload"].get("data"):
                    task = message["payload"]["data"]["myTasks"]["task"]
                    if task["booking"]:
                        self.arrivals.setdefault(task["booking"]["id"], (time.perf_counter(), guide_id))
                        self.arrived_at.setdefault(task["booking"]["id"], time.time())

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class Growth:
    """The server during a long wave, every GROWTH_EVERY seconds: bookings so far, CPU seconds and resident
    memory (all its processes). Summed up by tenths of the wave: CPU ms per booking in each, and memory at
    its end: both should stay flat as the tables grow (every cache bounded, nothing kept per request)."""

    def __init__(self, server_pid: int, url: str) -> None:
        self.server_pid, self.url = server_pid, url
        self.samples: list[tuple[int, float, float]] = []  # (bookings, server CPU s, resident MB)
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        engine = create_async_engine(self.url)
        try:
            while True:
                async with engine.connect() as connection:
                    booked = (await connection.execute(sa.text("SELECT count(*) FROM booking"))).scalar_one()
                pids = process_tree(self.server_pid)
                cpu = sum(process_cpu(pid) or 0.0 for pid in pids)
                self.samples.append((booked, cpu, sum(resident_mb(pid) for pid in pids)))
                await asyncio.sleep(GROWTH_EVERY)
        finally:
            await engine.dispose()

    async def stop(self) -> list[dict]:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        return self.tenths()

    def tenths(self) -> list[dict]:
        if len(self.samples) < 2:
            return []
        total = self.samples[-1][0]
        marks, rows, start = [total * n / 10 for n in range(1, 11)], [], self.samples[0]
        for mark in marks:
            end = next(sample for sample in self.samples if sample[0] >= mark)
            if end[0] > start[0]:
                rows.append(
                    {
                        "bookings": end[0],
                        "server_cpu_ms_per_booking": round((end[1] - start[1]) * 1000 / (end[0] - start[0]), 2),
                        "server_resident_mb": round(end[2], 1),
                    }
                )
                start = end
        return rows


def resident_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class CatchUps:
    """A guide back from a dropped socket, again and again during the wave: her `myTaskList(updatedAfter:)`
    over a connection of her own, timed from request to answer. Staff run in their own admission lane
    (IRS_HTTP_STAFF_CONCURRENCY): customers queueing must not hold her inbox up."""

    def __init__(self, address: str, token: str, since: str) -> None:
        self.address, self.token, self.since = address, token, since
        self.seconds: list[float] = []
        self.failures = 0
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        headers = {"authorization": f"Bearer {self.token}"}
        body = {"query": CATCH_UP, "variables": {"after": self.since}}
        async with httpx.AsyncClient(base_url=f"http://{self.address}", timeout=60) as client:
            while True:
                sent = time.perf_counter()
                try:
                    answer = await client.post("/graphql", json=body, headers=headers)
                    ok = answer.status_code == 200 and "errors" not in answer.json()
                except httpx.HTTPError:
                    ok = False
                if ok:
                    self.seconds.append(time.perf_counter() - sent)
                else:
                    self.failures += 1
                await asyncio.sleep(CATCH_UP_EVERY)

    async def stop(self) -> dict:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        return {
            "count": len(self.seconds),
            "failed": self.failures,
            "p50": percentile(self.seconds, 0.5),
            "p99": percentile(self.seconds, 0.99),
            "max": round(max(self.seconds, default=0) * 1000, 1),
        }


async def post_with_retry(client: httpx.AsyncClient, body: dict, headers: dict) -> httpx.Response:
    """A pooled connection the server closed while idle fails once; retried (every booking carries an
    idempotency key, so a retry never books twice)."""
    try:
        return await client.post("/graphql", json=body, headers=headers)
    except (httpx.ReadError, httpx.RemoteProtocolError):
        return await client.post("/graphql", json=body, headers=headers)


async def book_all(client: httpx.AsyncClient, jobs: list[tuple[str, dict]]) -> list[dict]:
    """Run the bookings at CONCURRENCY; per booking: sent, answered, booking id or error code."""
    queue: asyncio.Queue = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    results: list[dict] = []

    async def worker() -> None:
        while not queue.empty():
            token, booking_input = queue.get_nowait()
            sent = time.perf_counter()
            response = await post_with_retry(
                client, {"query": BOOK, "variables": {"input": booking_input}}, {"authorization": f"Bearer {token}"}
            )
            answered = time.perf_counter()
            payload = response.json()["data"]["bookingCreate"]
            results.append(
                {
                    "sent": sent,
                    "answered": answered,
                    "booking": payload["booking"]["id"] if payload["booking"] else None,
                    "error": payload["errors"][0]["code"] if payload["errors"] else None,
                }
            )

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return results


async def book_with_wrk(address: str, url: str, jobs: list[tuple[str, dict]]) -> dict:
    """The same wave from wrk (2 threads, CONCURRENCY connections): its summary, and its CPU seconds.
    wrk runs for a set time whatever its script says, so it is interrupted (it prints its summary then)
    once the database holds as many bookings as the wave made and that number has stopped growing."""
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as prepared:
        for token, booking_input in jobs:
            body = json.dumps({"query": BOOK, "variables": {"input": booking_input}}, separators=(",", ":"))
            prepared.write(f"{token}\t{body}\n")
    threads = 2
    longest = max(120, len(jobs) // 10)  # a bound, in case an answer is lost: the wave ends long before
    arguments = [f"-t{threads}", f"-c{CONCURRENCY}", f"-d{longest}s", "--timeout", "60s", "-s", str(WRK_SCRIPT)]
    arguments += [f"http://{address}/", "--", prepared.name, str(threads), str(CONCURRENCY // threads)]
    summary = await run_wrk(arguments, until=lambda process: _wave_settled(url, len(jobs), process))
    os.unlink(prepared.name)
    return summary


async def _wave_settled(url: str, expected: int, process: asyncio.subprocess.Process) -> None:
    """Until the bookings reach ``expected``, or stop growing for 2 s (a booking refused), or wrk ends."""
    engine = create_async_engine(url)
    last, still = -1, 0.0
    async with engine.connect() as connection:
        while process.returncode is None and still < 2.0:
            count = (await connection.execute(sa.text("SELECT count(*) FROM booking"))).scalar() or 0
            await connection.commit()
            if count >= expected:
                break
            still = still + 0.1 if count == last and count > 0 else 0.0
            last = count
            await asyncio.sleep(0.1)
    await engine.dispose()


async def created_times(url: str) -> dict[str, float]:
    """Each booking's created_at (epoch seconds), by global id: for notification lags of the wrk wave."""
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        rows = (await connection.execute(sa.text("SELECT id, created_at FROM booking"))).all()
    await engine.dispose()
    return {gid("Booking", booking): created.timestamp() for booking, created in rows}


async def overbooked(url: str, capacity: dict) -> dict:
    """Slots holding more bookings than their capacity, and ledger counts that disagree with the bookings."""
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        counts = (
            await connection.execute(
                sa.text("SELECT store_id, slot_start, count(*) FROM booking WHERE status <> 'CANCELLED' GROUP BY 1, 2")
            )
        ).all()
        ledger = {
            (store, start): booked
            for store, start, booked in (
                await connection.execute(sa.text("SELECT store_id, slot_start, booked FROM slot_ledger"))
            ).all()
        }
        assignees = dict((await connection.execute(sa.text("SELECT booking_id, assignee_id FROM task"))).all())
    await engine.dispose()
    by_iso = {(store, _iso(start)): n for store, start, n in counts}
    over = sum(1 for key, n in by_iso.items() if n > capacity.get(key, 0))
    mismatched = sum(1 for store, start, n in counts if ledger.get((store, start)) != n)
    return {"over_capacity": over, "ledger_mismatches": mismatched, "assignees": assignees}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def pgbench_ceiling(url: str, persons: list[int]) -> float | None:
    """The booking transaction's statements, replayed by pgbench at the same concurrency."""
    parsed = sa.engine.make_url(url)
    script = """
\\set store random(1, 200)
\\set person random(:first_person, :last_person)
\\set slot random(0, 23)
BEGIN;
SELECT id, relationship_guide_id FROM person WHERE id = :person;
SELECT id, timezone, opening_hours FROM store WHERE id = :store;
SELECT staff_id, weekday, starts, ends FROM shift_pattern WHERE store_id = :store AND weekday = 1;
INSERT INTO customer_booking_count (person_id, upcoming) VALUES (:person, 0) ON CONFLICT DO NOTHING;
UPDATE customer_booking_count SET upcoming = upcoming + 1 WHERE person_id = :person AND upcoming < 1000000;
INSERT INTO slot_ledger (store_id, slot_start, booked) VALUES (:store, now() + (:slot || ' hours')::interval, 0)
  ON CONFLICT DO NOTHING;
UPDATE slot_ledger SET booked = booked + 1 WHERE store_id = :store
  AND slot_start = now() + (:slot || ' hours')::interval AND booked < 1000000;
INSERT INTO booking (person_id, store_id, slot_start, slot_end, status, source, note, qr_nonce, created_by,
  created_at, updated_at) VALUES (:person, :store, now(), now(), 'CONFIRMED', 'LIVESTREAM', '', 'n', 'b', now(),
  now()) RETURNING id;
INSERT INTO task (kind, store_id, person_id, assignment_reason, status, priority, customer_type, due_at,
  escalations, created_at, updated_at) VALUES ('RECEPTION', :store, :person, 'r', 'OPEN', 'HIGH',
  'LIVESTREAM_REFERRAL', now(), 0, now(), now()) RETURNING id;
INSERT INTO task_history (task_id, at, actor, action, status, note) VALUES (currval('task_id_seq'), now(),
  'system', 'CREATED', 'OPEN', '');
INSERT INTO outbox (topic, event, payload, created_at) VALUES ('tasks.staff:1', 'CREATED', '{}', now()),
  ('tasks.store:1', 'CREATED', '{}', now()), ('bookings.all', 'CREATED', '{}', now());
COMMIT;
"""
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as handle:
        handle.write(script)
    try:
        output = subprocess.run(
            [
                "pgbench",
                "-n",
                "-h",
                parsed.host or "127.0.0.1",
                "-p",
                str(parsed.port or 5432),
                "-U",
                parsed.username or "postgres",
                "-D",
                f"first_person={min(persons)}",
                "-D",
                f"last_person={max(persons)}",
                "-c",
                str(CONCURRENCY),
                "-j",
                "2",
                "-T",
                "10",
                "-f",
                handle.name,
                parsed.database,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"pgbench failed: {error}: {getattr(error, 'stderr', '')[-500:]}", file=sys.stderr)
        return None
    finally:
        os.unlink(handle.name)
    line = next(line for line in output.splitlines() if line.startswith("tps"))
    return float(line.split("=")[1].split()[0])


async def main() -> None:
    url = await create_database()
    server = None
    try:
        world = await prepare(url)
        customer_tokens, guide_tokens = tokens_for(world)
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(WORKERS),
                "--no-migrate",
            ],
            env=server_env(url),
            cwd=ROOT,
        )
        address = f"127.0.0.1:{port}"
        limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
        async with httpx.AsyncClient(base_url=f"http://{address}", timeout=60, limits=limits) as client:
            await wait_ready(client, server, within=120)  # a traced or profiled server starts slowly
            day = next_weekday(0)
            seats, capacity = await free_seats(client, customer_tokens[0], world["stores"], day, DAYS)
            if len(seats) < CUSTOMERS:
                raise SystemExit(f"only {len(seats)} free seats for {CUSTOMERS} customers: raise IRS_SURGE_DAYS")
            random.Random(7).shuffle(seats)
            livestream = gid("Livestream", world["livestream"])
            jobs = [
                (
                    customer_tokens[i],
                    {
                        "storeId": gid("Store", store),
                        "slotStart": start,
                        "livestreamId": livestream,
                        "idempotencyKey": f"surge-{i}",
                    },
                )
                for i, (store, start) in enumerate(seats[:CUSTOMERS])
            ]
            guides = Guides(address, guide_tokens)
            await guides.start()
            profiler = start_profiler(server.pid)
            catch_ups = CatchUps(address, next(iter(guide_tokens.values())), _iso(datetime.now(UTC)))
            started = time.perf_counter()
            growth = Growth(server.pid, url)
            async with CpuMeter(server.pid, url.rsplit("/", 1)[1]) as meter:
                growth.start()
                catch_ups.start()
                if CLIENT == "wrk":
                    wave, results = await book_with_wrk(address, url, jobs), []
                else:
                    wave, results = None, await book_all(client, jobs)
                catch_up = await catch_ups.stop()
                by_tenth = await growth.stop()
            elapsed = time.perf_counter() - started
            stop_profiler(profiler)
            created = await created_times(url) if wave is not None else {}  # the first wave's bookings
            await asyncio.sleep(3)  # the last notifications
            # A second wave: 500 more customers race for 50 slots the first wave booked.
            targets = random.Random(8).sample(sorted(set(seats[:CUSTOMERS])), 50)
            race = [
                (
                    customer_tokens[CUSTOMERS + i],
                    {
                        "storeId": gid("Store", targets[i % 50][0]),
                        "slotStart": targets[i % 50][1],
                        "idempotencyKey": f"race-{i}",
                    },
                )
                for i in range(RACERS)
            ]
            race_results = await book_all(client, race)
            await guides.close()
        checks = await overbooked(url, capacity)
    finally:
        stop_seconds = stop(server)
    ceiling = pgbench_ceiling(url, world["persons"])
    await drop_database(url)

    if wave is None:
        booked = [r for r in results if r["booking"]]
        latencies = [r["answered"] - r["sent"] for r in results]
        delivered = [(guides.arrivals[r["booking"]], r) for r in booked if r["booking"] in guides.arrivals]
        after_commit = [at - r["answered"] for (at, _), r in delivered]
        after_request = [at - r["sent"] for (at, _), r in delivered]
        latency = {share: percentile(latencies, value) for share, value in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))}
    else:  # wrk: its own latency figures; a task's lag from its booking's created_at (the same clock)
        booked = [{"booking": b} for b in created]
        delivered = [(guides.arrivals[b["booking"]], b) for b in booked if b["booking"] in guides.arrivals]
        after_commit = after_request = [guides.arrived_at[b["booking"]] - created[b["booking"]] for _, b in delivered]
        latency = {share: wave["latency_ms"][share] for share in ("p50", "p95", "p99")}
    to_assignee = sum(1 for (_, guide), r in delivered if checks["assignees"].get(int(_local(r["booking"]))) == guide)
    rate = len(booked) / elapsed
    cost = meter.per(len(booked), "booking")
    if wave is not None:
        cost["client_cpu_ms_per_booking"] = round(wave["wrk_cpu_s"] * 1000 / max(1, len(booked)), 2)
    print(
        json.dumps(
            {
                "bench": "livestream_surge",
                "database": "postgresql",
                "bus": "redis",
                "server_workers": WORKERS,
                "cpus": os.cpu_count(),
                "customers": len(jobs),
                "concurrency": CONCURRENCY,
                "guides_connected": guides.ready,
                "booked": len(booked),
                "errors": _codes(results) if wave is None else {"refused": wave["refused"]},
                "seconds": round(elapsed, 1),
                "bookings_per_s": round(rate),
                "client": CLIENT,
                "latency_ms": latency,
                "cpu": cost,
                "tasks_delivered_to_assignee": f"{to_assignee} of {len(booked)}",
                "guide_catch_up_ms_during_wave": catch_up,
                "days_of_slots": DAYS,
                "server_by_tenth_of_wave": by_tenth,
                "notify_ms_after_response": {
                    "p50": percentile(after_commit, 0.5),
                    "p99": percentile(after_commit, 0.99),
                },
                "notify_ms_after_request": {
                    "p50": percentile(after_request, 0.5),
                    "p99": percentile(after_request, 0.99),
                },
                "race_for_full_slots": {"attempts": RACERS, "outcomes": _codes(race_results, ok="BOOKED")},
                "overbooked_slots": checks["over_capacity"],
                "ledger_mismatches": checks["ledger_mismatches"],
                "pgbench_same_transaction_tps": ceiling,
                "server_stop_seconds": stop_seconds,
                "ratio_to_pgbench": round(rate / ceiling, 2) if ceiling else None,
            }
        )
    )


def start_profiler(pid: int) -> subprocess.Popen | None:
    if not PROFILE:
        return None
    return subprocess.Popen(
        [
            str(Path(sys.executable).with_name("py-spy")),
            "record",
            "--pid",
            str(pid),
            "--format",
            "raw",
            "--rate",
            "200",
            "--output",
            PROFILE,
        ],
        stdout=subprocess.DEVNULL,
    )


def stop_profiler(profiler: subprocess.Popen | None) -> None:
    if profiler is not None:
        profiler.send_signal(signal.SIGINT)
        profiler.wait(timeout=60)


def stop(server: subprocess.Popen | None) -> float | None:
    """SIGTERM, as an orchestrator would; killed after 30 s (reported: shutdown must stay bounded)."""
    if server is None:
        return None
    started = time.perf_counter()
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
        return None
    return round(time.perf_counter() - started, 1)


def _local(global_id: str) -> str:
    import base64

    return base64.b64decode(global_id).decode().split(":")[1]


def _codes(results: list[dict], ok: str | None = None) -> dict:
    counts: dict[str, int] = {}
    for r in results:
        key = r["error"] or ok
        if key:
            counts[key] = counts.get(key, 0) + 1
    return counts


if __name__ == "__main__":
    asyncio.run(main())
