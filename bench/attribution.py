"""The performance engine under load: the ledger built for 100,000 paid orders, a leaderboard over 600 guides
and 100,000+ ledger rows, and the live dashboard of 200 subscribers during a 5,000-booking surge.

A fresh PostgreSQL database seeded with the demo brand (200 stores, 600 guides, the article's commission
plans); the Redis bus. Prints one JSON line; progress goes to stderr.

1. Ledger build: 100,000 PAID orders (1 line each, by the demo's guides; a third of the customers watched
   the demo livestream the day before, so their sales split 70 / 30 with its team) are written straight
   to the database with their PAID outbox events, as orders writes them; then the ledger's real durable
   consumer (`server.app.ledger_consumer`, in this process) credits them all: orders/s, and CPU ms per
   order of this process and of PostgreSQL's backends. Checked: one attribution per order, the ledger's
   revenue equals the orders' totals, one receipt per event.
2. Leaderboard: `leaderboard(scope: GUIDE, period: <this month>, first: 10)` over HTTP against a server
   process (uvicorn, `irs serve`), 200 calls one after the other (and CITY for one city): p50/p95 ms,
   once the server's relay has published the events the build wrote (its catching up is not timed).
3. Live dashboard: 200 graphql-transport-ws subscribers of `liveDashboard(livestreamId)` while 5,000
   customers book visits from the livestream over HTTP at concurrency 64: the lag of each snapshot (when a
   subscriber got it minus its `at`, the moment its figures were read) and, for each booking, the time
   from its HTTP answer to the first snapshot counting it: p50/p99.

    make bench-attribution                    # needs PostgreSQL and Redis on 127.0.0.1
    IRS_ATTRIBUTION_ORDERS=20000 IRS_ATTRIBUTION_SUBSCRIBERS=50 IRS_SURGE_CUSTOMERS=1000 \
        .venv/bin/python bench/attribution.py    # a smaller run
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import sqlalchemy as sa
import websockets
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.checkout import CpuMeter, wait_ready  # noqa: E402
from bench.identity_ingest import create_database, drop_database  # noqa: E402
from bench.livestream_surge import (  # noqa: E402
    CUSTOMERS,
    SECRET,
    book_all,
    free_port,
    free_seats,
    gid,
    next_weekday,
    prepare,
    server_env,
    stop,
    tokens_for,
)

from server.app import ledger_consumer  # noqa: E402
from server.clock import SystemClock  # noqa: E402
from server.db import Database  # noqa: E402
from server.domains.auth.tokens import TokenPolicy, encode_access_token  # noqa: E402
from server.domains.common.actor import Actor, ActorKind, Role  # noqa: E402
from server.settings import Settings  # noqa: E402

ORDERS = int(os.environ.get("IRS_ATTRIBUTION_ORDERS", "100000"))
SUBSCRIBERS = int(os.environ.get("IRS_ATTRIBUTION_SUBSCRIBERS", "200"))
BOARD_CALLS = 200
WATCHED_SHARE = 3  # one customer in WATCHED_SHARE watched the livestream
CHUNK = 5000
ZONE = ZoneInfo("Asia/Shanghai")
BOARD = """query($period: String!, $city: String) { leaderboard(scope: GUIDE, period: $period, city: $city, first: 10) {
  total entries { rank creditedRevenue { amount } } } }"""
DASHBOARD = "subscription($id: ID!) { liveDashboard(livestreamId: $id) { sequence at bookings } }"


def log(message: str) -> None:
    print(f"[attribution] {message}", file=sys.stderr, flush=True)


def stats(values: list[float], *shares: float) -> dict[str, float | None]:
    """Percentiles (nearest rank) of milliseconds."""
    ordered = sorted(values)
    return {
        f"p{round(s * 100)}": (round(ordered[min(int(len(ordered) * s), len(ordered) - 1)], 1) if ordered else None)
        for s in shares
    }


# --- 1. the ledger built from 100,000 paid orders ----------------------------------------------------------


async def _catalog(connection) -> list[tuple[int, int, int, str]]:
    rows = await connection.execute(
        sa.text(
            "SELECT s.id, s.product_id, s.price_amount, p.name FROM product_sku s JOIN product p ON p.id = s.product_id"
        )
    )
    return [tuple(row) for row in rows.all()]


async def write_paid_orders(url: str, world: dict) -> int:
    """ORDERS paid orders with their lines and PAID outbox events, as orders writes them; returns their total."""
    engine = create_async_engine(url)
    rng = random.Random(15)
    now = datetime.now(UTC)
    async with engine.begin() as connection:
        skus = await _catalog(connection)
        locations = dict(
            (
                await connection.execute(sa.text("SELECT store_id, id FROM stock_location WHERE store_id IS NOT NULL"))
            ).all()
        )
        watched = world["persons"][::WATCHED_SHARE]
        await connection.execute(
            sa.text(
                "INSERT INTO customer_event (source, event_key, type, occurred_at, received_at, person_id, "
                "home_person_id, livestream_id, properties) VALUES (:source, :key, 'LIVESTREAM_JOIN', :at, :at, "
                ":person, :person, :livestream, '{}')"
            ),
            [
                {
                    "source": "bench",
                    "key": f"watch:{p}",
                    "at": now - timedelta(days=1),
                    "person": p,
                    "livestream": world["livestream"],
                }
                for p in watched
            ],
        )
        total = 0
        for start in range(0, ORDERS, CHUNK):
            orders, lines, events = [], [], []
            for order_id in range(start + 1, min(start + CHUNK, ORDERS) + 1):
                guide, store = world["guides"][rng.randrange(len(world["guides"]))]
                sku, product, price, name = skus[rng.randrange(len(skus))]
                person = world["persons"][rng.randrange(len(world["persons"]))]
                paid_at = now - timedelta(minutes=rng.randrange(1, 600))
                total += price
                orders.append(_order(order_id, person, store, guide, price, paid_at))
                lines.append(_line(order_id, sku, product, name, price, locations[store], paid_at))
                events.append(_paid_event(order_id, person, store, guide, price, paid_at, now))
            await connection.execute(sa.text(ORDER_INSERT), orders)
            await connection.execute(sa.text(LINE_INSERT), lines)
            await connection.execute(sa.text(OUTBOX_INSERT), events)
            log(f"wrote {start + len(orders):,} paid orders")
        # The demo's plans start when it was seeded; these sales were made since the morning.
        await connection.execute(
            sa.text("UPDATE commission_plan SET effective_from = :day"), {"day": now - timedelta(days=2)}
        )
        for table in ("sales_order", "order_line", "outbox"):
            await connection.execute(sa.text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"))
        await connection.execute(sa.text("ANALYZE"))
    await engine.dispose()
    return total


ORDER_INSERT = (
    "INSERT INTO sales_order (id, person_id, store_id, channel, status, currency, subtotal, discount, total, "
    "refunded_amount, guide_id, created_by, expires_at, paid_at, created_at, updated_at) VALUES (:id, :person, "
    ":store, 'IN_STORE', 'PAID', 'CNY', :total, 0, :total, 0, :guide, :by, :at, :at, :at, :at)"
)
LINE_INSERT = (
    "INSERT INTO order_line (id, order_id, sku_id, product_id, name, quantity, unit_price, subtotal, discount, "
    "total, fulfillment, source_location_id, status, refunded_quantity, refunded_amount, created_at) VALUES "
    "(:id, :id, :sku, :product, :name, 1, :price, :price, 0, :price, 'TAKE_NOW', :location, 'COMPLETED', 0, 0, :at)"
)
OUTBOX_INSERT = (
    "INSERT INTO outbox (topic, event, payload, created_at, published_at) VALUES ('orders.all', 'PAID', "
    "CAST(:payload AS json), :at, :published)"
)


def _order(order_id: int, person: int, store: int, guide: int, price: int, paid_at: datetime) -> dict:
    return {
        "id": order_id,
        "person": person,
        "store": store,
        "total": price,
        "guide": guide,
        "by": f"staff:{guide}",
        "at": paid_at,
    }


def _line(order_id: int, sku: int, product: int, name: str, price: int, location: int, paid_at: datetime) -> dict:
    return {
        "id": order_id,
        "sku": sku,
        "product": product,
        "name": name,
        "price": price,
        "location": location,
        "at": paid_at,
    }


def _paid_event(
    order_id: int, person: int, store: int, guide: int, price: int, paid_at: datetime, now: datetime
) -> dict:
    payload = {
        "orderId": order_id,
        "storeId": store,
        "customerId": person,
        "guideId": guide,
        "bookingId": None,
        "status": "PAID",
        "total": price,
        "currency": "CNY",
        "payment": {"method": "CASH"},
        "lines": [{"lineId": order_id, "quantity": 1, "total": price, "discount": 0}],
    }
    return {"payload": json.dumps(payload), "at": paid_at, "published": now}


async def build_ledger(url: str, total: int) -> dict:
    """The real consumer credits every PAID event: throughput, CPU per order, and the checks."""
    settings = Settings(database_url=url, jwt_secret=SECRET, identity_salt=SECRET)
    db = Database.connect(url)
    consumer = ledger_consumer(db, SystemClock(), settings)
    database = url.rsplit("/", 1)[1]
    async with CpuMeter(os.getpid(), database) as meter:
        handled = 0
        while credited := await consumer.consume_once():
            handled += credited
            if handled % 10000 < credited:
                log(f"credited {handled:,} orders")
    await db.dispose()
    figures = meter.per(handled, "order")
    checks = await ledger_checks(url, total)
    return {
        "orders": handled,
        "orders_per_s": round(handled / float(meter.figures["wall_s"]), 1),
        "wall_s": round(float(meter.figures["wall_s"]), 1),
        "consumer_cpu_ms_per_order": figures["server_cpu_ms_per_order"],
        "postgres_cpu_ms_per_order": figures["postgres_cpu_ms_per_order"],
        "checks": checks,
    }


async def ledger_checks(url: str, total: int) -> dict:
    engine = create_async_engine(url)
    async with engine.connect() as connection:

        async def one(sql: str) -> int:
            return int((await connection.execute(sa.text(sql))).scalar() or 0)

        found = {
            "attributions": await one("SELECT count(*) FROM order_attribution"),
            "receipts": await one("SELECT count(*) FROM outbox_receipt WHERE consumer = 'ledger'"),
            "ledger_revenue": await one("SELECT sum(revenue) FROM ledger_entry"),
            "ledger_rows": await one("SELECT count(*) FROM ledger_entry"),
            "livestream_sales": await one("SELECT count(*) FROM order_attribution WHERE livestream_id IS NOT NULL"),
        }
    await engine.dispose()
    found["one_attribution_per_order"] = found["attributions"] == ORDERS
    found["one_receipt_per_event"] = found["receipts"] == ORDERS
    found["revenue_equals_totals"] = found["ledger_revenue"] == total
    return found


# --- 2. leaderboards -----------------------------------------------------------------------------------------


def staff_token(staff_id: int, role: Role) -> str:
    policy = TokenPolicy(secret=SECRET, access_ttl=timedelta(hours=2))
    return encode_access_token(policy, Actor(ActorKind.STAFF, staff_id, role), "bench", datetime.now(UTC))[0]


async def leaderboard_latency(client: httpx.AsyncClient, token: str) -> dict:
    period = datetime.now(ZONE).strftime("%Y-%m")
    headers = {"authorization": f"Bearer {token}"}
    figures = {}
    for name, variables in (("guides", {"period": period}), ("guides_in_city", {"period": period, "city": "上海"})):
        seconds = []
        for _ in range(BOARD_CALLS):
            started = time.perf_counter()
            body = (
                await client.post("/graphql", json={"query": BOARD, "variables": variables}, headers=headers)
            ).json()
            seconds.append((time.perf_counter() - started) * 1000)
            assert "errors" not in body, body
        figures[name] = {**stats(seconds, 0.5, 0.95), "ranked": body["data"]["leaderboard"]["total"]}
    return figures


# --- 3. the live dashboard during a surge ---------------------------------------------------------------------


class Watchers:
    """SUBSCRIBERS sockets on liveDashboard; each snapshot's arrival (wall clock) and what it says."""

    def __init__(self, address: str, token: str, livestream: str) -> None:
        self.address, self.token, self.livestream = address, token, livestream
        self.snapshots: list[tuple[int, float, float, int]] = []  # subscriber, received, at, bookings
        self.ready = 0
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._watch(n)) for n in range(SUBSCRIBERS)]
        for _ in range(600):
            if self.ready == SUBSCRIBERS:
                return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"only {self.ready} of {SUBSCRIBERS} subscribers got their first snapshot")

    async def _watch(self, number: int) -> None:
        async with websockets.connect(
            f"ws://{self.address}/graphql", subprotocols=["graphql-transport-ws"], open_timeout=60, max_size=2**22
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {self.token}"}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            variables = {"id": self.livestream}
            await ws.send(
                json.dumps({"id": "1", "type": "subscribe", "payload": {"query": DASHBOARD, "variables": variables}})
            )
            first = True
            async for raw in ws:
                message = json.loads(raw)
                if message["type"] == "ping":
                    await ws.send(json.dumps({"type": "pong"}))
                elif message["type"] == "next":
                    received = time.time()
                    board = message["payload"]["data"]["liveDashboard"]
                    at = datetime.fromisoformat(board["at"]).timestamp()
                    self.snapshots.append((number, received, at, board["bookings"]))
                    if first:
                        self.ready, first = self.ready + 1, False

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def dashboard_figures(watchers: Watchers, results: list[dict], wave_started: float) -> dict:
    during = [s for s in watchers.snapshots if s[1] >= wave_started]
    lags = [(received - at) * 1000 for _, received, at, _ in during]
    first_subscriber = sorted((received, bookings) for number, received, _, bookings in during if number == 0)
    answered = sorted(r["answered_wall"] for r in results if r["booking"])
    shown = []
    for rank, answered_at in enumerate(answered, start=1):
        seen = next(
            (received for received, bookings in first_subscriber if bookings >= rank and received >= answered_at), None
        )
        if seen is not None:
            shown.append((seen - answered_at) * 1000)
    per_subscriber = len(during) / max(1, SUBSCRIBERS)
    return {
        "subscribers": SUBSCRIBERS,
        "snapshots_received": len(during),
        "snapshots_per_subscriber": round(per_subscriber, 1),
        "snapshot_lag_ms": stats(lags, 0.5, 0.99),
        "booking_to_snapshot_ms": stats(shown, 0.5, 0.99),
        "bookings_shown": len(shown),
    }


async def surge(client: httpx.AsyncClient, address: str, world: dict, ops_token: str) -> dict:
    customer_tokens, _ = tokens_for(world)
    day = next_weekday(0)
    seats, _ = await free_seats(client, customer_tokens[0], world["stores"], day)
    random.Random(7).shuffle(seats)
    livestream = gid("Livestream", world["livestream"])
    jobs = [
        (
            customer_tokens[i],
            {"storeId": gid("Store", s), "slotStart": start, "livestreamId": livestream, "idempotencyKey": f"dash-{i}"},
        )
        for i, (s, start) in enumerate(seats[:CUSTOMERS])
    ]
    watchers = Watchers(address, ops_token, livestream)
    await watchers.start()
    log(f"{SUBSCRIBERS} subscribers on liveDashboard; {len(jobs):,} bookings at once")
    wave_started = time.time()
    offset = time.time() - time.perf_counter()
    results = await book_all(client, jobs)
    for result in results:
        result["answered_wall"] = result["answered"] + offset
    await asyncio.sleep(3)  # the last snapshots
    await watchers.close()
    booked = sum(1 for r in results if r["booking"])
    return {"bookings": booked, "errors": len(results) - booked, **dashboard_figures(watchers, results, wave_started)}


async def ops_of(url: str) -> int:
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        found = (
            await connection.execute(sa.text("SELECT id FROM staff_user WHERE role = 'LIVESTREAM_OPS' LIMIT 1"))
        ).scalar_one()
    await engine.dispose()
    return int(found)


async def run() -> dict:
    url = await create_database()
    server = None
    try:
        log("seeding the demo brand")
        world = await prepare(url)
        total = await write_paid_orders(url, world)
        log(f"crediting {ORDERS:,} paid orders")
        ledger = await build_ledger(url, total)
        log(f"ledger: {ledger['orders_per_s']} orders/s")
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "server.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-migrate",
        ]
        server = subprocess.Popen(command, env=server_env(url), cwd=ROOT, stdout=sys.stderr)
        address = f"127.0.0.1:{port}"
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        async with httpx.AsyncClient(base_url=f"http://{address}", timeout=60, limits=limits) as client:
            await wait_ready(client, server, within=120)
            log(f"the server published the build's {await _published(url):,} ledger events")
            ops = staff_token(await ops_of(url), Role.LIVESTREAM_OPS)
            boards = await leaderboard_latency(client, ops)
            log(f"leaderboard p95: {boards['guides']['p95']} ms")
            dashboard = await surge(client, address, world, ops)
    finally:
        stop(server)
    await drop_database(url)
    return {"ledger_build": ledger, "leaderboard_ms": boards, "live_dashboard": dashboard}


async def _published(url: str) -> int:
    """Wait until the server's relay has published what the build wrote to the outbox (the ledger's
    events): the boards are timed on a server that is not catching up on 100,000 events at once."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            total = (await connection.execute(sa.text("SELECT count(*) FROM outbox"))).scalar() or 0
            while (
                await connection.execute(sa.text("SELECT count(*) FROM outbox WHERE published_at IS NULL"))
            ).scalar():
                await connection.commit()
                await asyncio.sleep(0.5)
    finally:
        await engine.dispose()
    return int(total)


def main() -> None:
    started = time.perf_counter()
    figures = asyncio.run(run())
    checks = figures["ledger_build"]["checks"]
    targets = {
        "leaderboard_p95_le_50ms": (figures["leaderboard_ms"]["guides"]["p95"] or 1e9) <= 50,
        "dashboard_lag_p99_le_1s": (figures["live_dashboard"]["snapshot_lag_ms"]["p99"] or 1e9) <= 1000,
        "dashboard_booking_to_snapshot_p99_le_1s": (figures["live_dashboard"]["booking_to_snapshot_ms"]["p99"] or 1e9)
        <= 1000,
    }
    line = {
        "bench": "attribution",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        **figures,
        "targets": targets,
        "checks_ok": all(v for k, v in checks.items() if isinstance(v, bool)),
        "wall_s": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(line, ensure_ascii=False))
    sys.exit(0 if line["checks_ok"] else 1)


if __name__ == "__main__":
    main()
