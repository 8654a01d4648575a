"""Instructions per operation, counted by valgrind's callgrind: a figure that repeats on a shared machine.

On the 2-core machines this project is measured on, the CPU time of one build moves by a quarter from one
run to the next (other tenants, PostgreSQL on the same cores), which hides changes of a few percent. An
instruction count of the same code on the same data repeats within about 2 %, whatever else the machine
does: compare two builds by it, and confirm with the wall-clock benchmarks (an instruction is not a
nanosecond: cache misses and the kernel's share are not counted).

Each scenario runs the app in a process of its own under callgrind, with counting switched off while it
starts and warms up; then N operations go straight through the ASGI app (no socket, no HTTP client) one
after the other, counted. PostgreSQL and Redis on 127.0.0.1, as for the surge; the database is made and
dropped by the bench. Needs valgrind (`apt-get install valgrind`).

    .venv/bin/python bench/instructions.py                           # typename, me, booking, watched
    IRS_INSTRUCTIONS_SCENARIOS=me IRS_INSTRUCTIONS_N=400 ...          # one scenario, more operations
    IRS_INSTRUCTIONS_SCHEDULER=true ...                               # with the scheduler and the ledger's
                                                                      # consumer running, as `make run` does

`watched` is the booking with the news reaching its watchers, as in a surge and on the shop floor: every guide
of the booked stores holds a `myTasks` subscription and every store manager a `storeQueue` one (over the ASGI
app's WebSocket, graphql-transport-ws), and each booking is counted until its task has reached its guide and
her store's queue.

Prints one JSON line: instructions per operation, and `me_over_typename` by instructions. Everything the
process does while counting is counted, the outbox relay that publishes a booking's messages included.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa
import uvloop
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

N = int(os.environ.get("IRS_INSTRUCTIONS_N", "200"))
WARM = int(os.environ.get("IRS_INSTRUCTIONS_WARM", "100"))  # operations before counting starts
SCENARIOS = [s for s in os.environ.get("IRS_INSTRUCTIONS_SCENARIOS", "typename,me,booking,watched").split(",") if s]
WATCHED_STORES = 20  # `watched` books at the first stores only: their guides and managers subscribe
# Off by default, as in the surge: its jobs run on timers, not per operation. On, a cost that only the running
# scheduler's loops add per operation shows (the ledger's consumer woken by every commit did: 2.86M a booking).
SCHEDULER = os.environ.get("IRS_INSTRUCTIONS_SCHEDULER", "false").lower() == "true"
os.environ["IRS_SURGE_CUSTOMERS"] = str(N + WARM)  # the surge's world, sized for the bookings

from bench import graphql_throughput  # noqa: E402
from bench import livestream_surge as surge  # noqa: E402
from bench.identity_ingest import create_database, drop_database  # noqa: E402

from server.app import create_app_from_env  # noqa: E402
from server.domains.auth.tokens import TokenPolicy, encode_access_token  # noqa: E402
from server.domains.common.actor import Actor, ActorKind, Role  # noqa: E402
from server.domains.tasks.topics import staff_topic, store_queue_topic  # noqa: E402

QUERIES = {name: graphql_throughput.SCENARIOS[name][0] for name in ("typename", "me")}  # asked as that bench asks them


def _scope(kind: str, headers: list[tuple[bytes, bytes]], **more) -> dict:
    """An ASGI scope of /graphql, as a server would make it for a client on 127.0.0.1."""
    return {
        "type": kind,
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "scheme": "http" if kind == "http" else "ws",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 80),
        **more,
    }


async def asgi_post(app, body: bytes, token: str | None) -> bytes:
    """One POST /graphql straight through the ASGI app (not httpx's ASGITransport: the client's own work
    would be counted with the server's)."""
    headers = [(b"content-type", b"application/json"), (b"host", b"bench")]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope = _scope("http", headers, method="POST")
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    answer: list[bytes] = []

    async def receive():
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # the client never disconnects

    async def send(message):
        if message["type"] == "http.response.body":
            answer.append(message.get("body", b""))

    await app(scope, receive, send)
    return b"".join(answer)


class Tally:
    """The events the subscriptions were sent, in all; waited for without polling (a poll's wake-ups would be
    counted with the booking)."""

    def __init__(self) -> None:
        self.events = 0
        self._target = 0
        self._reached: asyncio.Future | None = None

    def add(self) -> None:
        self.events += 1
        if self._reached is not None and self.events >= self._target and not self._reached.done():
            self._reached.set_result(None)

    async def until(self, events: int) -> None:
        if self.events >= events:
            return
        self._target, self._reached = events, asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(30):
                await self._reached
        except TimeoutError:
            raise SystemExit(f"the subscriptions were sent {self.events} events of {events}") from None


class Watcher:
    """One subscription over the ASGI app's WebSocket (graphql-transport-ws), as the guide app holds it; adds the
    events it is sent to the tally."""

    def __init__(self, app, tally: Tally, token: str, query: str, variables: dict | None = None) -> None:
        self._tally = tally
        self._to_app: asyncio.Queue = asyncio.Queue()
        for message in (
            {"type": "websocket.connect"},
            {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}},
            {"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables or {}}},
        ):
            self._to_app.put_nowait(message if "websocket" in message["type"] else _text(message))
        headers = [(b"host", b"bench"), (b"sec-websocket-protocol", b"graphql-transport-ws")]
        scope = _scope("websocket", headers, subprotocols=["graphql-transport-ws"])
        self._running = asyncio.create_task(app(scope, self._to_app.get, self._send))

    async def _send(self, message: dict) -> None:
        if message["type"] == "websocket.send":
            text = message["text"]  # not parsed: the client's work is not the server's
            if '"type":"next"' in text:
                self._tally.add()
            elif '"type":"connection_ack"' not in text:
                raise SystemExit(f"a subscription answered {text[:300]}")
        elif message["type"] == "websocket.close":
            raise SystemExit(f"a subscription was closed: {message}")


def _text(message: dict) -> dict:
    return {"type": "websocket.receive", "text": json.dumps(message)}


MY_TASKS = "subscription { myTasks { kind task { id status assignee { id } booking { id } } } }"
STORE_QUEUE = "subscription($s: ID!) { storeQueue(storeId: $s) { kind task { id status assignee { id } } } }"


async def watchers(app, url: str, stores: list[int], tally: Tally) -> tuple[list[Watcher], dict[int, int]]:
    """Every guide of ``stores`` on myTasks and every manager on her store's queue (tokens of the bench's session),
    each subscription in place (listening on the bus) when this returns; and how many events a booking at each
    store sends (her guide's, and one per manager)."""
    policy = TokenPolicy(secret=surge.SECRET, access_ttl=timedelta(hours=2))
    now = datetime.now(UTC)
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        staff = (
            await connection.execute(
                sa.text("SELECT id, store_id, role FROM staff_user WHERE active AND store_id = ANY(:stores)"),
                {"stores": stores},
            )
        ).all()
    await engine.dispose()
    events, subscribed = dict.fromkeys(stores, 1), []
    for staff_id, store, role in staff:
        if role not in (Role.GUIDE.value, Role.STORE_MANAGER.value):
            continue
        actor = Actor(ActorKind.STAFF, staff_id, Role(role), store)
        token = encode_access_token(policy, actor, surge.BENCH_SESSION, now)[0]
        if role == Role.GUIDE.value:
            subscribed.append(Watcher(app, tally, token, MY_TASKS))
        else:
            subscribed.append(Watcher(app, tally, token, STORE_QUEUE, {"s": surge.gid("Store", store)}))
            events[store] += 1
    topics = Counter(staff_topic(staff_id) for staff_id, _, role in staff if role == Role.GUIDE.value)
    topics.update(store_queue_topic(store) for _, store, role in staff if role == Role.STORE_MANAGER.value)
    bus = app.state.runtime.bus
    for _ in range(60_000):
        if all(bus.subscribers(topic) >= wanted for topic, wanted in topics.items()):
            return subscribed, events
        await asyncio.sleep(0.001)
    raise SystemExit("the subscriptions were not all in place after a minute")


async def operations(app, scenario: str, url: str) -> tuple[list[tuple[bytes, str | None, int | None]], list[int]]:
    """The scenario's requests (body, token, the store a booking is at): WARM + N of them, each booking a seat of
    its own; and the stores booked at."""
    if scenario in QUERIES:
        login = json.loads(await asgi_post(app, json.dumps({"query": graphql_throughput.STAFF_LOGIN}).encode(), None))
        token = login["data"]["staffLogin"]["session"]["accessToken"]
        body = json.dumps({"query": QUERIES[scenario]}).encode()
        return [(body, token, None)] * (WARM + N), []
    world = await surge.prepare(url)
    customers, _guides = surge.tokens_for(world)
    stores = world["stores"][:WATCHED_STORES] if scenario == "watched" else world["stores"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        seats, _ = await surge.free_seats(client, customers[0], stores, surge.next_weekday(0), 2)
    random.Random(7).shuffle(seats)
    livestream = surge.gid("Livestream", world["livestream"])
    requests = [
        (
            json.dumps(
                {
                    "query": surge.BOOK,
                    "variables": {
                        "input": {
                            "storeId": surge.gid("Store", store),
                            "slotStart": start,
                            "livestreamId": livestream,
                            "idempotencyKey": f"counted-{n}",
                        }
                    },
                }
            ).encode(),
            customers[n],
            store,
        )
        for n, (store, start) in enumerate(seats[: WARM + N])
    ]
    return requests, stores


def count(on: bool) -> None:
    """Switch callgrind's counting for this process (callgrind_control talks to it through valgrind)."""
    switch = ["callgrind_control", "-i", "on" if on else "off", str(os.getpid())]
    subprocess.run(switch, check=True, capture_output=True)


async def child(scenario: str, url: str) -> None:
    app = create_app_from_env()
    async with app.router.lifespan_context(app):
        requests, stores = await operations(app, scenario, url)
        if len(requests) != WARM + N:
            raise SystemExit(f"{scenario}: {len(requests)} operations to send, not {WARM + N} (too few free seats?)")
        tally = Tally()
        _subscribed, events = await watchers(app, url, stores, tally) if scenario == "watched" else ([], {})
        sent = 0  # events the subscriptions are to have been sent so far
        for body, token, store in requests[:WARM]:
            await asgi_post(app, body, token)
            sent += events.get(store, 0)
            await tally.until(sent)
        count(True)
        answers = []
        for body, token, store in requests[WARM:]:
            answers.append(await asgi_post(app, body, token))
            sent += events.get(store, 0)
            await tally.until(sent)
        count(False)
        refused = [a for a in answers if b'"errors"' in a and b'"errors":[]' not in a]
        if refused:
            raise SystemExit(f"{len(refused)} of {N} {scenario} operations failed, e.g. {refused[0][:300]!r}")


def counted(scenario: str, url: str) -> int:
    """Instructions callgrind counted for N operations of the scenario, in a process of its own."""
    with tempfile.TemporaryDirectory() as scratch:
        ran = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={scratch}/callgrind.out",
                sys.executable,
                __file__,
                "--child",
                scenario,
            ],
            env={
                **surge.server_env(url),
                "IRS_INSTRUCTIONS_URL": url,
                "IRS_SCHEDULER": str(SCHEDULER).lower(),
                # `watched`'s sockets re-read their sessions on a timer: none of it while counting.
                "IRS_SOCKET_SESSION_CHECK_SECONDS": "86400",
            },
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
    found = re.search(r"Collected : (\d+)", ran.stderr)
    if ran.returncode != 0 or found is None:
        raise SystemExit(f"{scenario}: valgrind run failed ({ran.returncode}):\n{ran.stderr[-3000:]}")
    return int(found.group(1))


async def fresh_database(scenario: str) -> str:
    """A database of its own for the scenario: the demo seeded (the booking's world seeds it itself)."""
    url = await create_database()
    if scenario not in QUERIES:
        return url
    subprocess.run(
        [sys.executable, "-m", "server.cli", "seed", "demo"],
        env=surge.server_env(url),
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return url


def main() -> None:
    figures: dict[str, dict] = {}
    for scenario in SCENARIOS:
        url = asyncio.run(fresh_database(scenario))
        try:
            started = time.perf_counter()
            instructions = counted(scenario, url)
            figures[scenario] = {
                "operations": N,
                "instructions_per_operation": round(instructions / N),
                "seconds_under_valgrind": round(time.perf_counter() - started, 1),
            }
        finally:
            asyncio.run(drop_database(url))
    result: dict = {"bench": "instructions", "database": "postgresql", "python": sys.version.split()[0]}
    result["scheduler"] = SCHEDULER
    result["scenarios"] = figures
    if "me" in figures and "typename" in figures:
        typename, me = (figures[s]["instructions_per_operation"] for s in ("typename", "me"))
        result["me_over_typename"] = round(typename / me, 3)
    print(json.dumps(result))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        uvloop.run(child(sys.argv[2], os.environ["IRS_INSTRUCTIONS_URL"]))
    else:
        main()
