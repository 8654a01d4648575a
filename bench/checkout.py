"""Selling on the phone under load: checkouts, a coupon's redemption race and a coupon-claim surge.

A real server process (uvicorn, `irs serve`) on a fresh PostgreSQL database
with the Redis bus, driven over HTTP through the public GraphQL API (an httpx
async client; concurrency with asyncio). Every scenario is checked against the
database afterwards; progress goes to stderr, one JSON line to stdout.

1. Hot SKUs: 200 checkouts at once at one store (S001) whose 20 hot SKUs have
   5 units each (100 in all): a guide of the store calls orderCreate (TAKE_NOW,
   1 unit of a random hot SKU) and, when it got the units, orderPay CASH.
   Checked: no SKU sold more than it had, no level negative or inconsistent,
   the paid orders' units equal the units sold (SALE movements), and every
   unit that could be sold was sold.
   Steady run (after 1): 1,000 create+pay pairs at concurrency 32 over 8 stores
   with plenty of stock: throughput, latency, and CPU per paid order of the
   server's processes and of PostgreSQL's backends serving the bench database
   (utime + stime from /proc around the wave).
2. One coupon, 100 orders: one customer claims one coupon of a campaign
   (couponCampaignCreate, couponClaim while the livestream is LIVE); guides
   create 100 unpaid orders with its code (coupons are redeemed at payment),
   then 100 orderPay CASH race. Checked: exactly one order PAID with the
   discount, the others COUPON_ALREADY_REDEEMED and still unpaid, the coupon
   REDEEMED once, by that order; one payment row.
3. Claim surge: 2,000 customers (each signed in beforehand through
   customerLogin with the development SMS code) claim from a campaign of 500
   at concurrency 64. Checked: exactly 500 coupons, campaign.claimed = 500,
   500 holders, the others SOLD_OUT.

Afterwards pgbench replays the checkout's statements (create, then pay) at the
steady run's concurrency, for the database's ceiling on the same cores.

    make bench-checkout                     # needs PostgreSQL and Redis on 127.0.0.1
    .venv/bin/python bench/checkout.py --steady-pairs 300 --claimers 600 --campaign-stock 150
    .venv/bin/python bench/checkout.py --profile /tmp/checkout.txt   # py-spy (pip install py-spy) on the
                                                                     # server during the steady run

Every option also reads an environment variable (IRS_CHECKOUT_<OPTION>, e.g.
IRS_CHECKOUT_STEADY_PAIRS=300); IRS_BENCH_POSTGRES names the PostgreSQL
server (its maintenance database), IRS_BENCH_REDIS the Redis. The exit status
is 1 when a correctness check failed or the server answered anything
unexpected (a 5xx, a top-level error such as "Internal error").
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import json
import os
import platform
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as redis
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.identity_ingest import create_database, drop_database  # noqa: E402

from server.demo.data import DEMO_PASSWORD  # noqa: E402

REDIS_URL = os.environ.get("IRS_BENCH_REDIS", "redis://127.0.0.1:6379/0")
SECRET = "checkout-bench-secret-" + "x" * 32
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

ERRORS = "errors { code field message }"
STAFF_LOGIN = """mutation($input: StaffLoginInput!) { staffLogin(input: $input) {
  session { accessToken viewer { ... on Node { id } } } errors { code message } } }"""
CUSTOMER_LOGIN = """mutation($input: CustomerLoginInput!) { customerLogin(input: $input) {
  session { accessToken viewer { ... on Node { id } } } errors { code message } } }"""
STOCK_ADJUST = f"""mutation($input: StockAdjustInput!) {{ stockAdjust(input: $input) {{
  level {{ onHand reserved available }} {ERRORS} }} }}"""
LIVESTREAM_UPDATE = f"""mutation($input: LivestreamUpdateInput!) {{ livestreamUpdate(input: $input) {{
  livestream {{ id status }} {ERRORS} }} }}"""
CAMPAIGN_CREATE = f"""mutation($input: CouponCampaignCreateInput!) {{ couponCampaignCreate(input: $input) {{
  campaign {{ id totalStock claimed claimable }} {ERRORS} }} }}"""
# What a phone's checkout screen asks for: the order's number, status, money and lines; the payment.
ORDER_CREATE = f"""mutation($input: OrderCreateInput!) {{ orderCreate(input: $input) {{
  order {{ id number status subtotal {{ amount }} discount {{ amount }} total {{ amount }} expiresAt
    lines {{ id quantity status total {{ amount }} }} coupons {{ code discount {{ amount }} }} }} {ERRORS} }} }}"""
ORDER_PAY = f"""mutation($input: OrderPayInput!) {{ orderPay(input: $input) {{
  order {{ id status paidAt total {{ amount }} discount {{ amount }} }}
  payment {{ id method status amount {{ amount }} }} {ERRORS} }} }}"""
SKU_CREATE = f"""mutation($input: ProductSkuCreateInput!) {{ productSkuCreate(input: $input) {{
  sku {{ id }} {ERRORS} }} }}"""
STORE_LOCATION = "query($store: ID!) { storeStockLocation(storeId: $store) { id } }"
STORE_UPDATE = f"""mutation($input: StoreUpdateInput!) {{ storeUpdate(input: $input) {{ store {{ id }} {ERRORS} }} }}"""
COUPON_CLAIM = f"""mutation($input: CouponClaimInput!) {{ couponClaim(input: $input) {{
  coupon {{ id code status }} {ERRORS} }} }}"""


def option(parser: argparse.ArgumentParser, name: str, default: int, help: str) -> None:
    env = "IRS_CHECKOUT_" + name.upper().replace("-", "_")
    parser.add_argument(f"--{name}", type=int, default=int(os.environ.get(env, default)), help=f"{help} [{env}]")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    option(parser, "checkouts", 200, "scenario 1: checkouts racing for the hot SKUs")
    option(parser, "hot-skus", 20, "scenario 1: hot SKUs at S001")
    option(parser, "units-per-sku", 5, "scenario 1: units of each hot SKU")
    option(parser, "steady-pairs", 1000, "steady run: create+pay pairs")
    option(parser, "steady-concurrency", 32, "steady run: pairs in flight")
    option(parser, "steady-stores", 8, "steady run: stores selling (S002 on)")
    option(parser, "redemptions", 100, "scenario 2: orders racing to redeem one coupon")
    option(parser, "claimers", 2000, "scenario 3: customers claiming")
    option(parser, "campaign-stock", 500, "scenario 3: coupons in the campaign")
    option(parser, "claim-concurrency", 64, "scenario 3: claims (and sign-ins) in flight")
    option(parser, "workers", 1, "uvicorn worker processes")
    option(parser, "pgbench-seconds", 10, "pgbench replay of the checkout's statements (0: skip)")
    parser.add_argument(
        "--profile",
        default=os.environ.get("IRS_CHECKOUT_PROFILE"),
        help="py-spy's raw (collapsed) stacks of the server during the steady run, to this file; a summary "
        "goes to stderr [IRS_CHECKOUT_PROFILE]",
    )
    parser.add_argument(
        "--keep-database",
        action="store_true",
        default=bool(os.environ.get("IRS_CHECKOUT_KEEP_DATABASE")),
        help="leave the bench database for inspection (its URL goes to stderr) [IRS_CHECKOUT_KEEP_DATABASE]",
    )
    parser.add_argument("--seed", type=int, default=int(os.environ.get("IRS_CHECKOUT_SEED", "7")))
    args = parser.parse_args(argv)
    if args.campaign_stock > args.claimers:
        parser.error("--campaign-stock must not exceed --claimers")
    return args


def log(message: str) -> None:
    print(f"[checkout {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def gid(kind: str, value: int) -> str:
    return base64.b64encode(f"{kind}:{value}".encode()).decode()


def local(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().split(":")[1])


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def percentiles(seconds: list[float]) -> dict[str, float | None]:
    ordered = sorted(seconds)

    def at(share: float) -> float | None:
        return round(ordered[min(int(len(ordered) * share), len(ordered) - 1)] * 1000, 1) if ordered else None

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "n": len(ordered)}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- CPU from /proc -----------------------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            text = handle.read()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from the 3rd on (the name may hold spaces)


def process_cpu(pid: int) -> float | None:
    """utime + stime of one process, in seconds."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS if fields else None


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def process_tree(root: int) -> list[int]:
    """The process and its descendants (uvicorn's workers are children of `irs serve`)."""
    children: dict[int, list[int]] = collections.defaultdict(list)
    for pid in _pids():
        fields = _stat(pid)
        if fields:
            children[int(fields[1])].append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def postgres_backends(database: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend connected to ``database`` (by its process title)."""
    found = {}
    marker = f" {database} ".encode()
    for pid in _pids():
        try:
            with open(f"/proc/{pid}/comm", "rb") as handle:
                if handle.read().strip() != b"postgres":
                    continue
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                title = handle.read()
        except OSError:
            continue
        if marker in title.replace(b"\0", b" "):
            cpu = process_cpu(pid)
            if cpu is not None:
                found[pid] = cpu
    return found


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) clock ticks of the whole machine, from /proc/stat."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


class CpuMeter:
    """CPU spent during a wave: the server's processes, PostgreSQL's backends of the bench database (sampled
    every 0.2 s, so a backend that came and went between samples is missed: `backends_seen` shows churn),
    this client, and the machine as a whole (other work on it included)."""

    def __init__(self, server_pid: int, database: str) -> None:
        self.server_pid, self.database = server_pid, database
        self.figures: dict[str, float | int] = {}

    def _server(self) -> float:
        return sum(process_cpu(pid) or 0.0 for pid in process_tree(self.server_pid))

    async def __aenter__(self) -> CpuMeter:
        self._pg_first = postgres_backends(self.database)
        self._pg_last = dict(self._pg_first)
        self._machine = machine_jiffies()
        self._client = time.process_time()
        self._server_before = self._server()
        self._wall = time.perf_counter()
        self._sampler = asyncio.create_task(self._sample())
        return self

    async def _sample(self) -> None:
        while True:
            await asyncio.sleep(0.2)
            self._pg_last.update(postgres_backends(self.database))

    async def __aexit__(self, *exc: object) -> None:
        server = self._server() - self._server_before
        wall = time.perf_counter() - self._wall
        self._sampler.cancel()
        self._pg_last.update(postgres_backends(self.database))
        busy, total = machine_jiffies()
        postgres = sum(cpu - self._pg_first.get(pid, 0.0) for pid, cpu in self._pg_last.items())
        self.figures = {
            "wall_s": wall,
            "server_cpu_s": server,
            "postgres_cpu_s": postgres,
            "postgres_backends_seen": len(self._pg_last),
            "client_cpu_s": time.process_time() - self._client,
            "machine_busy_share": (busy - self._machine[0]) / max(1, total - self._machine[1]),
        }

    def per(self, count: int, unit: str = "paid_order") -> dict[str, float | int | None]:
        """CPU milliseconds per ``unit`` (``count`` of them in the wave), and the shares of a core."""
        f = self.figures

        def ms(key: str) -> float | None:
            return round(float(f[key]) * 1000 / count, 2) if count else None

        return {
            f"server_cpu_ms_per_{unit}": ms("server_cpu_s"),
            f"postgres_cpu_ms_per_{unit}": ms("postgres_cpu_s"),
            f"client_cpu_ms_per_{unit}": ms("client_cpu_s"),
            "server_cpu_share_of_one_core": round(float(f["server_cpu_s"]) / float(f["wall_s"]), 2),
            "postgres_cpu_share_of_one_core": round(float(f["postgres_cpu_s"]) / float(f["wall_s"]), 2),
            "postgres_backends_seen": f["postgres_backends_seen"],
            "machine_busy_share": round(float(f["machine_busy_share"]), 2),
        }


# --- the API ------------------------------------------------------------------------------------------


@dataclass
class Api:
    """GraphQL over HTTP; records every answer that is not the schema's (a 5xx, a top-level error)."""

    client: httpx.AsyncClient
    unexpected: list[dict] = field(default_factory=list)
    retries: int = 0

    async def call(self, query: str, variables: dict, token: str | None, name: str) -> tuple[dict | None, float]:
        """The mutation's payload (None when the server did not answer one) and the request's seconds."""
        headers = {"authorization": f"Bearer {token}"} if token else {}
        body = {"query": query, "variables": variables}
        started = time.perf_counter()
        try:
            try:
                response = await self.client.post("/graphql", json=body, headers=headers)
            except (httpx.ReadError, httpx.RemoteProtocolError, httpx.ConnectError):
                # A pooled connection the server closed while idle; every mutation here that writes carries
                # an idempotencyKey, so a retry never acts twice.
                self.retries += 1
                response = await self.client.post("/graphql", json=body, headers=headers)
        except httpx.HTTPError as error:
            self._unexpected(name, variables, None, repr(error))
            return None, time.perf_counter() - started
        elapsed = time.perf_counter() - started
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        payload = (answer.get("data") or {}).get(name)
        if response.status_code != 200 or answer.get("errors") or (payload is None and name != "storeStockLocation"):
            self._unexpected(name, variables, response.status_code, answer.get("errors") or response.text[:300])
            return None, elapsed
        return payload, elapsed

    def _unexpected(self, name: str, variables: dict, status: int | None, errors: object) -> None:
        problem = {"operation": name, "status": status, "errors": errors, "variables": variables}
        self.unexpected.append(problem)
        log(f"UNEXPECTED {json.dumps(problem, ensure_ascii=False)[:600]}")


def outcome(payload: dict | None) -> str:
    if payload is None:
        return "UNEXPECTED"
    return payload["errors"][0]["code"] if payload["errors"] else "OK"


async def staff_token(api: Api, username: str) -> str:
    payload, _ = await api.call(
        STAFF_LOGIN, {"input": {"username": username, "password": DEMO_PASSWORD}}, None, "staffLogin"
    )
    if payload is None or payload["errors"]:
        raise SystemExit(f"staffLogin {username} failed: {payload}")
    return str(payload["session"]["accessToken"])


async def run_at(concurrency: int, jobs: list, work) -> list:
    """Run ``work(job)`` for every job, ``concurrency`` at a time; results in job order."""
    results: list = [None] * len(jobs)
    queue = collections.deque(enumerate(jobs))

    async def worker() -> None:
        while queue:
            index, job = queue.popleft()
            results[index] = await work(job)

    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(jobs)))))
    return results


async def sign_in_customers(api: Api, count: int, concurrency: int) -> list[tuple[str, int]]:
    """(access token, person id) of ``count`` customers, each through customerLogin with the development
    SMS code (000000) on a phone of her own: her first sign-in makes her person through OneID."""

    async def login(i: int) -> tuple[str, int]:
        payload, _ = await api.call(
            CUSTOMER_LOGIN, {"input": {"phone": f"1391{i:07d}", "smsCode": "000000"}}, None, "customerLogin"
        )
        if payload is None or payload["errors"]:
            raise SystemExit(f"customerLogin {i} failed: {payload}")
        return payload["session"]["accessToken"], local(payload["session"]["viewer"]["id"])

    return await run_at(concurrency, list(range(count)), login)


class Db:
    """The bench's own reads of the database: the checks after each scenario."""

    def __init__(self, url: str) -> None:
        self.engine = create_async_engine(url, pool_size=1, max_overflow=0)

    async def rows(self, query: str, **params: object) -> list:
        async with self.engine.connect() as connection:
            return list((await connection.execute(sa.text(query), params)).all())

    async def value(self, query: str, **params: object) -> Any:
        return (await self.rows(query, **params))[0][0]

    async def close(self) -> None:
        await self.engine.dispose()


@dataclass
class Bench:
    args: argparse.Namespace
    api: Api
    db: Db
    world: dict
    server_pid: int
    database: str

    def meter(self) -> CpuMeter:
        return CpuMeter(self.server_pid, self.database)


# --- the world ----------------------------------------------------------------------------------------


def server_env(url: str, var_dir: str) -> dict:
    return {
        **os.environ,
        "IRS_DATABASE_URL": url,
        "IRS_REDIS_URL": REDIS_URL,
        "IRS_JWT_SECRET": SECRET,
        "IRS_IDENTITY_SALT": SECRET,
        "IRS_VAR_DIR": var_dir,
        "IRS_LOG_LEVEL": "WARNING",
        "IRS_SCHEDULER": "false",
        "IRS_ACCESS_TOKEN_MINUTES": "60",
        "IRS_BUS_CHANNEL_PREFIX": f"irs-checkout-{uuid.uuid4().hex[:6]}:",
        "IRS_RATE_LIMIT_KEY_PREFIX": f"irs-checkout-{uuid.uuid4().hex[:6]}:limits",
    }


async def forget_limits(prefix: str) -> None:
    """The abuse-limit counters the bench's sign-ins left in Redis (they would expire in 15 minutes)."""
    client = redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


async def read_world(db: Db) -> dict:
    stores = dict(await db.rows("SELECT code, id FROM store ORDER BY code"))
    on_sale = await db.rows(
        "SELECT k.id FROM product_sku k JOIN product p ON p.id = k.product_id "
        "WHERE k.active AND p.active AND k.price_amount > :least ORDER BY k.id",
        least=DISCOUNT,
    )
    bare = await db.rows(
        "SELECT p.id, p.sku, p.price_amount FROM product p WHERE p.active AND p.price_amount > :least "
        "AND NOT EXISTS (SELECT 1 FROM product_sku k WHERE k.product_id = p.id) ORDER BY p.id",
        least=DISCOUNT,
    )
    return {
        "stores": stores,
        "skus": [sku for (sku,) in on_sale],
        "bare_products": [tuple(row) for row in bare],
        "livestream": await db.value("SELECT id FROM livestream ORDER BY id LIMIT 1"),
        "postgresql": await db.value("SHOW server_version"),
    }


async def add_skus(api: Api, admin: str, products: list) -> None:
    """Products without a SKU (a database seeded before `irs seed demo` made them) get one, its code and
    price, as HQ would add them; SKUs are what is sold."""

    async def add(product: tuple[int, str, int]) -> None:
        product_id, code, price = product
        given = {
            "productId": gid("Product", product_id),
            "code": code,
            "price": {"amount": price, "currency": "CNY"},
            "idempotencyKey": f"sku-{product_id}",
        }
        payload, _ = await api.call(SKU_CREATE, {"input": given}, admin, "productSkuCreate")
        if payload is None or payload["errors"]:
            raise SystemExit(f"productSkuCreate {given} failed: {payload}")

    await run_at(8, products, add)


async def store_locations(api: Api, admin: str, stores: list[int]) -> dict[int, int]:
    """Each store's stock location. A store written before stock locations existed (an older seed) has
    none until it is saved once: a storeUpdate changing nothing (HQ) saves it and the inventory hook makes it."""

    async def location(store: int) -> tuple[int, int]:
        for attempt in range(2):
            found, _ = await api.call(STORE_LOCATION, {"store": gid("Store", store)}, admin, "storeStockLocation")
            if found is not None and found.get("id"):
                return store, local(found["id"])
            if attempt == 0:
                saved, _ = await api.call(STORE_UPDATE, {"input": {"id": gid("Store", store)}}, admin, "storeUpdate")
                if saved is None or saved["errors"]:
                    raise SystemExit(f"storeUpdate {store} failed: {saved}")
        raise SystemExit(f"store {store} has no stock location")

    return dict(await run_at(8, stores, location))


async def stock(api: Api, token: str, location: int, sku: int, reason: str, quantity: int) -> None:
    given = {
        "locationId": gid("StockLocation", location),
        "skuId": gid("Sku", sku),
        "reason": reason,
        "quantity": quantity,
        "idempotencyKey": f"stock-{location}-{sku}-{reason}",
    }
    payload, _ = await api.call(STOCK_ADJUST, {"input": given}, token, "stockAdjust")
    if payload is None or payload["errors"]:
        raise SystemExit(f"stockAdjust {given} failed: {payload}")


# --- checkouts ----------------------------------------------------------------------------------------


@dataclass
class Checkout:
    guide: str  # her access token
    store: int
    sku: int
    customer: int
    key: str
    coupon: str | None = None


async def create_order(api: Api, job: Checkout) -> tuple[dict | None, float]:
    given = {
        "storeId": gid("Store", job.store),
        "customerId": gid("Customer", job.customer),
        "lines": [{"skuId": gid("Sku", job.sku), "quantity": 1, "fulfillment": "TAKE_NOW"}],
        "couponCodes": [job.coupon] if job.coupon else [],
        "idempotencyKey": f"create-{job.key}",
    }
    return await api.call(ORDER_CREATE, {"input": given}, job.guide, "orderCreate")


async def pay_order(api: Api, token: str, order_id: str, key: str) -> tuple[dict | None, float]:
    given = {"orderId": order_id, "method": "CASH", "idempotencyKey": f"pay-{key}"}
    return await api.call(ORDER_PAY, {"input": given}, token, "orderPay")


async def checkout(api: Api, job: Checkout) -> dict:
    """orderCreate, then orderPay CASH when the order was made (as the guide's phone does)."""
    created, create_s = await create_order(api, job)
    result = {"sku": job.sku, "create_s": create_s, "create": outcome(created), "pay": None, "pay_s": None}
    if created is not None and created["order"]:
        paid, pay_s = await pay_order(api, job.guide, created["order"]["id"], job.key)
        result.update(pay=outcome(paid), pay_s=pay_s)
    return result


def checkout_figures(results: list[dict], meter: CpuMeter) -> dict:
    paid = sum(1 for r in results if r["pay"] == "OK")
    seconds = float(meter.figures["wall_s"])
    outcomes = collections.Counter(r["create"] if r["create"] != "OK" else f"paid:{r['pay']}" for r in results)
    requests = len(results) + sum(1 for r in results if r["pay_s"] is not None)
    return {
        "paid": paid,
        "requests": requests,
        "outcomes": dict(outcomes),
        "seconds": round(seconds, 2),
        "paid_per_s": round(paid / seconds, 1),
        "order_create_ms": percentiles([r["create_s"] for r in results]),
        "order_pay_ms": percentiles([r["pay_s"] for r in results if r["pay_s"] is not None]),
        **meter.per(paid),
        "server_cpu_ms_per_request": meter.per(requests, "request")["server_cpu_ms_per_request"],
    }


async def hot_sku_race(bench: Bench, guides: list[str], customers: list[int]) -> dict:
    """Scenario 1: every checkout at once on the hot SKUs of S001; nothing oversold, nothing lost."""
    args, world = bench.args, bench.world
    store, location = world["stores"]["S001"]
    hot = world["hot_skus"]
    rng = random.Random(args.seed)
    jobs = [
        Checkout(guides[i % len(guides)], store, rng.choice(hot), rng.choice(customers), f"hot-{i}")
        for i in range(args.checkouts)
    ]
    demand = collections.Counter(job.sku for job in jobs)
    log(f"1 hot SKUs: {len(jobs)} checkouts at once on {len(hot)} SKUs x {args.units_per_sku} units at S001")
    async with bench.meter() as meter:
        results = list(await asyncio.gather(*(checkout(bench.api, job) for job in jobs)))
    figures = checkout_figures(results, meter)
    sellable = sum(min(args.units_per_sku, demand[sku]) for sku in hot)
    db = bench.db
    sold = dict(
        await db.rows(
            "SELECT sku_id, -sum(quantity) FROM stock_movement WHERE reason = 'SALE' AND location_id = :location "
            "GROUP BY sku_id",
            location=location,
        )
    )
    levels = {
        sku: (on_hand, reserved)
        for sku, on_hand, reserved in await db.rows(
            "SELECT sku_id, on_hand, reserved FROM stock_level WHERE location_id = :location", location=location
        )
    }
    broken_levels = await db.value(
        "SELECT count(*) FROM stock_level WHERE on_hand < 0 OR reserved < 0 OR reserved > on_hand"
    )
    paid_units = dict(
        await db.rows(
            "SELECT l.sku_id, sum(l.quantity) FROM order_line l JOIN sales_order o ON o.id = l.order_id "
            "WHERE o.status = 'PAID' AND o.store_id = :store AND l.sku_id = ANY(:hot) GROUP BY l.sku_id",
            store=store,
            hot=hot,
        )
    )
    paid_orders = await db.value(
        "SELECT count(DISTINCT o.id) FROM sales_order o JOIN order_line l ON l.order_id = o.id "
        "WHERE o.status = 'PAID' AND o.store_id = :store AND l.sku_id = ANY(:hot)",
        store=store,
        hot=hot,
    )
    oversold = sum(max(0, int(sold.get(sku, 0)) - args.units_per_sku) for sku in hot)
    drifted = sum(1 for sku in hot if levels.get(sku) != (args.units_per_sku - int(sold.get(sku, 0)), 0))
    units_sold = sum(int(sold.get(sku, 0)) for sku in hot)
    units_paid = sum(int(paid_units.get(sku, 0)) for sku in hot)
    ok = (
        oversold == 0
        and broken_levels == 0
        and drifted == 0
        and units_sold == units_paid == paid_orders == figures["paid"] == sellable
    )
    log(f"1 hot SKUs: paid {figures['paid']} of {sellable} sellable, {figures['outcomes']}, ok={ok}")
    return {
        "checkouts": len(jobs),
        "hot_skus": len(hot),
        "units_in_stock": len(hot) * args.units_per_sku,
        "succeeded": figures["paid"],
        "insufficient_stock": figures["outcomes"].get("INSUFFICIENT_STOCK", 0),
        **figures,
        "oversold_units": oversold,
        "negative_or_inconsistent_levels": int(broken_levels),
        "levels_not_matching_sales": drifted,
        "units_sold": units_sold,
        "units_in_paid_orders": units_paid,
        "paid_orders_in_db": int(paid_orders),
        "units_that_could_sell": sellable,
        "ok": ok,
    }


async def steady_run(bench: Bench, guides: dict[int, list[str]], customers: list[int]) -> dict:
    """Checkouts at a steady concurrency over several stores with plenty of stock: throughput and cost."""
    args = bench.args
    rng = random.Random(args.seed + 1)
    stores = sorted(guides)
    jobs = []
    for i in range(args.steady_pairs):
        store = stores[i % len(stores)]
        guide = guides[store][i // len(stores) % len(guides[store])]
        jobs.append(
            Checkout(guide, store, rng.choice(bench.world["steady_skus"]), rng.choice(customers), f"steady-{i}")
        )
    log(f"steady: {len(jobs)} create+pay pairs at concurrency {args.steady_concurrency} over {len(stores)} stores")
    profiler = start_profiler(bench.server_pid, args.profile, args.workers)
    try:
        async with bench.meter() as meter:
            results = await run_at(args.steady_concurrency, jobs, lambda job: checkout(bench.api, job))
    finally:
        stop_profiler(profiler)
    figures = checkout_figures(results, meter)
    log(
        f"steady: {figures['paid']} paid, {figures['paid_per_s']}/s, server "
        f"{figures['server_cpu_ms_per_paid_order']} ms and PostgreSQL "
        f"{figures['postgres_cpu_ms_per_paid_order']} ms of CPU per paid order"
    )
    return {
        "pairs": len(jobs),
        "concurrency": args.steady_concurrency,
        "stores": len(stores),
        **figures,
        "checkout_ms": percentiles([r["create_s"] + r["pay_s"] for r in results if r["pay_s"] is not None]),
        "profiled": bool(args.profile),
    }


# --- coupons ------------------------------------------------------------------------------------------

DISCOUNT = 1000  # fen: each bench coupon takes ¥10 off


async def campaign_of(bench: Bench, ops: str, name: str, stock: int) -> int:
    """A FIXED ¥10 campaign of the (LIVE) demo livestream: ``stock`` coupons, one per customer."""
    now = datetime.now(UTC)
    given = {
        "name": name,
        "livestreamId": gid("Livestream", bench.world["livestream"]),
        "discount": {"kind": "FIXED", "amountOff": {"amount": DISCOUNT, "currency": "CNY"}},
        "validFrom": iso(now - timedelta(minutes=5)),
        "validUntil": iso(now + timedelta(days=1)),
        "totalStock": stock,
        "perCustomerLimit": 1,
        "idempotencyKey": f"campaign-{name}",
    }
    payload, _ = await bench.api.call(CAMPAIGN_CREATE, {"input": given}, ops, "couponCampaignCreate")
    if payload is None or payload["errors"]:
        raise SystemExit(f"couponCampaignCreate failed: {payload}")
    return local(payload["campaign"]["id"])


async def claim(api: Api, token: str, campaign: int, key: str) -> tuple[dict | None, float]:
    given = {"campaignId": gid("CouponCampaign", campaign), "idempotencyKey": key}
    return await api.call(COUPON_CLAIM, {"input": given}, token, "couponClaim")


async def one_coupon_race(bench: Bench, ops: str, guides: list[str], holder: tuple[str, int]) -> dict:
    """Scenario 2: one coupon on many unpaid orders, their payments racing: exactly one redeems it."""
    args, api, db = bench.args, bench.api, bench.db
    store, _ = bench.world["stores"]["S001"]
    campaign = await campaign_of(bench, ops, "bench one coupon", 1)
    claimed, _ = await claim(api, holder[0], campaign, "holder")
    if claimed is None or claimed["errors"]:
        raise SystemExit(f"couponClaim by the holder failed: {claimed}")
    code = claimed["coupon"]["code"]
    jobs = [
        Checkout(guides[i % len(guides)], store, bench.world["coupon_sku"], holder[1], f"coupon-{i}", coupon=code)
        for i in range(args.redemptions)
    ]
    log(f"2 one coupon: {len(jobs)} unpaid orders with coupon {code}")
    created = await run_at(16, jobs, lambda job: create_order(api, job))
    orders = [(job, p["order"]) for job, (p, _) in zip(jobs, created, strict=True) if p and p["order"]]
    discounted = sum(1 for _, order in orders if int(order["discount"]["amount"]) == DISCOUNT)
    log(f"2 one coupon: {len(orders)} created ({discounted} with the discount); their orderPay race")
    started = time.perf_counter()
    paid = await asyncio.gather(*(pay_order(api, job.guide, order["id"], job.key) for job, order in orders))
    seconds = time.perf_counter() - started
    outcomes = collections.Counter(outcome(payload) for payload, _ in paid)
    winners = [local(order["id"]) for (_, order), (p, _) in zip(orders, paid, strict=True) if outcome(p) == "OK"]
    ids = [local(order["id"]) for _, order in orders]
    statuses = dict(
        await db.rows("SELECT status, count(*) FROM sales_order WHERE id = ANY(:ids) GROUP BY status", ids=ids)
    )
    coupon_status, redeemed_by = (
        await db.rows("SELECT status, redeemed_order_id FROM coupon WHERE code = :code", code=code)
    )[0]
    payments = await db.value("SELECT count(*) FROM payment WHERE order_id = ANY(:ids)", ids=ids)
    paid_discount = await db.value(
        "SELECT coalesce(sum(discount), 0) FROM sales_order WHERE id = ANY(:ids) AND status = 'PAID'", ids=ids
    )
    ok = (
        len(orders) == discounted == args.redemptions
        and outcomes.get("OK") == 1
        and outcomes.get("COUPON_ALREADY_REDEEMED") == len(orders) - 1
        and statuses.get("PAID") == 1
        and statuses.get("PENDING_PAYMENT") == len(orders) - 1
        and (coupon_status, [redeemed_by]) == ("REDEEMED", winners)
        and payments == 1
        and paid_discount == DISCOUNT
    )
    log(f"2 one coupon: {dict(outcomes)}, orders {statuses}, coupon {coupon_status} by {redeemed_by}, ok={ok}")
    return {
        "orders": len(orders),
        "orders_with_discount": discounted,
        "pay_outcomes": dict(outcomes),
        "orders_by_status": statuses,
        "coupon_status": coupon_status,
        "coupon_redeemed_by_the_paid_order": [redeemed_by] == winners,
        "payment_rows": int(payments),
        "paid_discount": int(paid_discount),
        "seconds": round(seconds, 2),
        "order_pay_ms": percentiles([s for _, s in paid]),
        "ok": ok,
    }


async def claim_surge(bench: Bench, ops: str, customers: list[tuple[str, int]]) -> dict:
    """Scenario 3: more customers than coupons claim at once: exactly the stock is given out."""
    args, db = bench.args, bench.db
    stock = args.campaign_stock
    campaign = await campaign_of(bench, ops, "bench claim surge", stock)
    log(f"3 claim surge: {len(customers)} couponClaim on {stock} coupons at concurrency {args.claim_concurrency}")
    async with bench.meter() as meter:
        answers = await run_at(
            args.claim_concurrency, customers, lambda c: claim(bench.api, c[0], campaign, f"surge-{c[1]}")
        )
    outcomes = collections.Counter(outcome(payload) for payload, _ in answers)
    coupons, holders = (
        await db.rows("SELECT count(*), count(DISTINCT person_id) FROM coupon WHERE campaign_id = :c", c=campaign)
    )[0]
    claimed = await db.value("SELECT claimed FROM coupon_campaign WHERE id = :c", c=campaign)
    counters = await db.value(
        "SELECT coalesce(sum(claimed), 0) FROM coupon_claim_count WHERE campaign_id = :c", c=campaign
    )
    ok = (
        outcomes.get("OK") == stock
        and outcomes.get("SOLD_OUT") == len(customers) - stock
        and coupons == holders == claimed == counters == stock
    )
    log(f"3 claim surge: {dict(outcomes)}, {coupons} coupons, campaign.claimed {claimed}, ok={ok}")
    seconds = float(meter.figures["wall_s"])
    per = meter.per(len(answers), "claim")
    return {
        "claimers": len(customers),
        "campaign_stock": stock,
        "concurrency": args.claim_concurrency,
        "claimed": outcomes.get("OK", 0),
        "sold_out": outcomes.get("SOLD_OUT", 0),
        "outcomes": dict(outcomes),
        "coupons_in_db": int(coupons),
        "distinct_holders": int(holders),
        "campaign_claimed": int(claimed),
        "claim_counters": int(counters),
        "seconds": round(seconds, 2),
        "claims_per_s": round(len(answers) / seconds, 1),
        "coupon_claim_ms": percentiles([s for _, s in answers]),
        **per,
        "ok": ok,
    }


# --- profile and pgbench ------------------------------------------------------------------------------


def start_profiler(pid: int, path: str | None, workers: int) -> subprocess.Popen | None:
    if not path:
        return None
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        raise SystemExit("--profile needs py-spy in the virtualenv: .venv/bin/pip install py-spy")
    command = [str(spy), "record", "--pid", str(pid), "--format", "raw", "--rate", "100", "--output", path]
    if workers > 1:
        command.append("--subprocesses")
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_profiler(profiler: subprocess.Popen | None) -> None:
    if profiler is not None:
        profiler.send_signal(signal.SIGINT)
        profiler.wait(timeout=60)


FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")
IDLE_FILES = ("concurrent/futures/thread.py", "threading.py", "queue.py")  # a worker thread waiting for work


def profile_summary(path: str, top: int = 15) -> dict:
    """From py-spy's raw (collapsed) stacks: where samples end, by package and by function (self), and the
    server's own functions by the share of samples they are on the stack of (inclusive). Stacks ending in
    an idle worker thread's wait are left out."""
    own: collections.Counter = collections.Counter()
    own_package: collections.Counter = collections.Counter()
    server: collections.Counter = collections.Counter()
    total = 0
    for line in Path(path).read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = [_frame(frame) for frame in stack.split(";")]
        if frames[-1][2] in IDLE_FILES:
            continue
        count = int(count_text)
        total += count
        own[frames[-1][0]] += count
        own_package[frames[-1][1]] += count
        for name in {name for name, package, _ in frames if package.startswith("server/")}:
            server[name] += count

    def shares(counter: collections.Counter) -> dict[str, float]:
        return {name: round(100 * n / total, 1) for name, n in counter.most_common(top)}

    return {
        "samples": total,
        "self_percent_by_package": shares(own_package),
        "self_percent_by_function": shares(own),
        "inclusive_percent_server_functions": shares(server),
    }


def _frame(frame: str) -> tuple[str, str, str]:
    """(function (file), package, file) of one collapsed frame; py-spy names files from their sys.path
    entry (``sqlalchemy/orm/session.py``, ``server/api/http.py``)."""
    match = FRAME.match(frame.strip())
    if not match:
        return frame.strip(), "?", "?"
    path = match["file"]
    parts = path.split("/")
    if parts[0] == "server" and len(parts) > 2:
        package = "/".join(parts[:3] if parts[1] == "domains" else parts[:2])
    else:
        package = parts[0] if len(parts) > 1 else path
    return f"{match['function']} ({path})", package, path


# What the server asks of PostgreSQL for one checkout, as SQLAlchemy's events count it for orderCreate and
# orderPay CASH (one TAKE_NOW line, no coupon): per request three pooled connections, each pre-pinged on
# checkout (BEGIN, an empty query, ROLLBACK) and used in a transaction: the sign-in check's (the server
# reads the answer on it too), the use case's, the outbox relay's; 18 and 20 statements. Replayed one
# after the other on one connection (the answer's reads last, outside a transaction); constants stand
# for what the server binds, rows are as wide as the server's (SELECT *).
PING = "BEGIN;\n;\nROLLBACK;\n"
PGBENCH_CHECKOUT = f"""
\\set sku random(:first_sku, :last_sku)
\\set store random(:first_store, :last_store)
\\set person random(:first_person, :last_person)
\\set r random(1, 999999999999)
{PING}BEGIN;
SELECT *, EXISTS (SELECT * FROM refresh_token WHERE family_id = 'pgbench' AND revoked_at IS NOT NULL)
  FROM staff_user WHERE id = :guide;
ROLLBACK;
{PING}BEGIN;
SELECT * FROM store WHERE id IN (:store);
SELECT id, created_at, merged_into_id, erased_at, relationship_guide_id FROM person WHERE id = :person;
SELECT * FROM idempotency_record WHERE actor = 'pgbench' AND operation = 'orderCreate' AND key = 'c' || :r;
SAVEPOINT s;
SELECT *, product_id AS product FROM product_sku WHERE id IN (:sku) \\gset
SELECT * FROM product WHERE id IN (:product);
SELECT *, id AS location FROM stock_location WHERE store_id = :store \\gset
INSERT INTO sales_order (person_id, store_id, channel, status, currency, subtotal, discount, total,
  refunded_amount, guide_id, created_by, expires_at, created_at, updated_at)
  VALUES (:person, :store, 'IN_STORE', 'PENDING_PAYMENT', 'CNY', 10000, 0, 10000, 0, :guide, 'pgbench',
  now() + interval '30 minutes', now(), now()) RETURNING id AS order_id \\gset
INSERT INTO order_line (order_id, sku_id, product_id, name, quantity, unit_price, subtotal, discount, total,
  fulfillment, source_location_id, status, refunded_quantity, refunded_amount, created_at)
  VALUES (:order_id, :sku, :product, 'pgbench', 1, 10000, 10000, 0, 10000, 'TAKE_NOW', :location, 'RESERVED',
  0, 0, now()) RETURNING id AS line_id \\gset
UPDATE stock_level SET reserved = reserved + 1
  WHERE location_id = :location AND sku_id = :sku AND on_hand - reserved >= 1;
INSERT INTO idempotency_record (actor, operation, key, request_hash, result_id, created_at)
  VALUES ('pgbench', 'orderCreate', 'c' || :r, 'hash', :order_id, now()) RETURNING id;
INSERT INTO outbox (topic, event, payload, created_at) VALUES
  ('orders.store:' || :store, 'CREATED', '{{"orderId": 0}}', now()),
  ('orders.all', 'CREATED', '{{"orderId": 0}}', now());
RELEASE SAVEPOINT s;
COMMIT;
{PING}BEGIN;
SELECT * FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED;
UPDATE outbox SET published_at = now() WHERE id IN (SELECT id FROM outbox WHERE published_at IS NULL
  ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED);
COMMIT;
SELECT * FROM order_line WHERE order_id IN (:order_id) ORDER BY id;
SELECT * FROM order_coupon WHERE order_id IN (:order_id) ORDER BY id;
{PING}BEGIN;
SELECT *, EXISTS (SELECT * FROM refresh_token WHERE family_id = 'pgbench' AND revoked_at IS NOT NULL)
  FROM staff_user WHERE id = :guide;
ROLLBACK;
{PING}BEGIN;
SELECT * FROM sales_order WHERE id = :order_id FOR UPDATE;
SELECT * FROM idempotency_record WHERE actor = 'pgbench' AND operation = 'orderPay' AND key = 'p' || :r;
SAVEPOINT s;
INSERT INTO payment (order_id, method, status, out_trade_no, amount, currency, refunded_amount, created_by,
  created_at, settled_at) VALUES (:order_id, 'CASH', 'SUCCEEDED', 'PGB' || :r, 10000, 'CNY', 0, 'pgbench',
  now(), now()) RETURNING id AS payment_id \\gset
SELECT * FROM order_line WHERE order_id = :order_id ORDER BY id;
UPDATE stock_level SET on_hand = on_hand - 1, reserved = reserved - 1, updated_at = now()
  WHERE location_id = :location AND sku_id = :sku AND reserved >= 1 AND on_hand >= 1;
INSERT INTO stock_movement (location_id, sku_id, quantity, reason, note, reference, actor, created_at)
  VALUES (:location, :sku, -1, 'SALE', '', 'order:' || :order_id, 'pgbench', now()) RETURNING id;
UPDATE order_line SET status = 'COMPLETED', fulfilled_at = now() WHERE id = :line_id;
SELECT * FROM order_coupon WHERE order_id = :order_id ORDER BY id;
UPDATE sales_order SET status = 'PAID', paid_at = now(), updated_at = now() WHERE id = :order_id;
SELECT id, created_at, merged_into_id, erased_at, relationship_guide_id FROM person WHERE id = :person;
INSERT INTO customer_event (source, event_key, type, occurred_at, received_at, person_id, home_person_id,
  store_id, product_id, properties) VALUES ('orders', 'order:' || :order_id, 'POS_PURCHASE', now(), now(),
  :person, :person, :store, :product, '{{"amount": 10000, "currency": "CNY", "items": 1}}') RETURNING id;
INSERT INTO idempotency_record (actor, operation, key, request_hash, result_id, created_at)
  VALUES ('pgbench', 'orderPay', 'p' || :r, 'hash', :payment_id, now()) RETURNING id;
INSERT INTO outbox (topic, event, payload, created_at) VALUES
  ('orders.store:' || :store, 'PAID', '{{"orderId": 0}}', now()),
  ('orders.all', 'PAID', '{{"orderId": 0}}', now());
RELEASE SAVEPOINT s;
COMMIT;
{PING}BEGIN;
SELECT * FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED;
UPDATE outbox SET published_at = now() WHERE id IN (SELECT id FROM outbox WHERE published_at IS NULL
  ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED);
COMMIT;
SELECT * FROM sales_order WHERE id IN (:order_id);
SELECT * FROM sales_order WHERE id = :order_id;
"""
# Round trips: every line that ends a command (the \gset lines included), less the meta-commands.
ROUND_TRIPS_PER_CHECKOUT = sum(
    1 for line in PGBENCH_CHECKOUT.splitlines() if line.rstrip().endswith((";", "\\gset")) and not line.startswith("\\")
)


async def pgbench_ceiling(url: str, world: dict, customers: list[int], seconds: int, concurrency: int) -> dict | None:
    """The checkout's statements (PGBENCH_CHECKOUT) replayed by pgbench (prepared statements, as asyncpg
    runs them) at the steady run's concurrency, over the steady run's stores and SKUs: the database's
    ceiling for checkouts on the same cores, and PostgreSQL's CPU per checkout when nothing else asks."""
    if seconds <= 0:
        return None
    parsed = sa.engine.make_url(url)
    stores = sorted(world["stores"][code][0] for code in world["steady_stores"])
    if stores != list(range(stores[0], stores[0] + len(stores))):
        log("pgbench skipped: the steady stores' ids are not contiguous")
        return None
    skus = world["steady_skus"]
    variables = {
        "first_sku": min(skus),
        "last_sku": max(skus),
        "first_store": stores[0],
        "last_store": stores[-1],
        "first_person": min(customers),
        "last_person": max(customers),
        "guide": world["s001_guide_id"],
    }
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as handle:
        handle.write(PGBENCH_CHECKOUT)
    command = ["pgbench", "-n", "-M", "prepared", "-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432)]
    command += ["-U", parsed.username or "postgres", "-c", str(concurrency), "-j", "2", "-T", str(seconds)]
    for name, value in variables.items():
        command += ["-D", f"{name}={value}"]
    command += ["-f", handle.name, str(parsed.database)]
    # The server's connections plan every execution for its parameters, without JIT (server/db.py).
    env = {**os.environ, "PGOPTIONS": "-c plan_cache_mode=force_custom_plan -c jit=off"}
    try:
        process = await asyncio.create_subprocess_exec(
            *command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        async with CpuMeter(process.pid, str(parsed.database)) as meter:
            stdout, stderr = await process.communicate()
    except OSError as error:
        log(f"pgbench failed: {error}")
        return None
    finally:
        os.unlink(handle.name)
    output = stdout.decode()
    if process.returncode != 0:
        log(f"pgbench failed ({process.returncode}): {stderr.decode()[-800:]}")
        return None

    def figure(prefix: str) -> str | None:
        line = next((line for line in output.splitlines() if line.startswith(prefix)), None)
        return line.split("=" if "=" in line else ":", 1)[1].strip() if line else None

    done = int(figure("number of transactions actually processed") or 0)
    latency = figure("latency average")
    return {
        "checkouts_per_s": round(float((figure("tps") or "0").split()[0]), 1),
        "latency_avg_ms": float(latency.split()[0]) if latency else None,
        "failed": figure("number of failed transactions"),
        "postgres_cpu_ms_per_checkout": round(float(meter.figures["postgres_cpu_s"]) * 1000 / done, 2)
        if done
        else None,
        "round_trips_per_checkout": ROUND_TRIPS_PER_CHECKOUT,
        "concurrency": concurrency,
        "seconds": seconds,
    }


async def prepare_stock(api: Api, admin: str, world: dict, args: argparse.Namespace) -> None:
    """S001: each hot SKU counted at units-per-sku, the coupon SKU received for every redemption order;
    the steady stores: each steady SKU received plenty (for the steady run and pgbench's replay after it).
    All through stockAdjust, as HQ would."""
    _, s001 = world["stores"]["S001"]
    plenty = max(100_000, args.steady_pairs)
    jobs = [(s001, sku, "COUNT", args.units_per_sku) for sku in world["hot_skus"]]
    jobs.append((s001, world["coupon_sku"], "RECEIPT", args.redemptions))
    jobs += [
        (world["stores"][code][1], sku, "RECEIPT", plenty)
        for code in world["steady_stores"]
        for sku in world["steady_skus"]
    ]
    await run_at(8, jobs, lambda job: stock(api, admin, *job))


async def analyze(url: str) -> None:
    """PostgreSQL here runs without autovacuum: statistics as autovacuum would have them."""
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(sa.text("ANALYZE"))
    await engine.dispose()


def machine() -> dict:
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    models = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return {
        "cpus": os.cpu_count(),
        "cpu_model": models[0] if models else platform.processor() or "?",
        "python": platform.python_version(),
        "loadavg_at_start": [round(v, 2) for v in os.getloadavg()],
    }


def start_server(env: dict, port: int, workers: int) -> subprocess.Popen:
    """`irs serve` on the bench database; its output goes to stderr (stdout is the JSON line's)."""
    command = [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers), "--no-migrate"]
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=sys.stderr)


async def wait_ready(client: httpx.AsyncClient, server: subprocess.Popen | None = None, within: float = 30) -> None:
    """Until /readyz answers 200, or fail the bench (at once if ``server`` exited). The benches' one wait."""
    deadline = time.perf_counter() + within
    while time.perf_counter() < deadline and (server is None or server.poll() is None):
        try:
            if (await client.get("/readyz")).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit("the server did not become ready")


async def set_up(api: Api, db: Db, world: dict, args: argparse.Namespace) -> dict:
    """SKUs, stores' stock locations, stock, staff sessions, signed-in customers, the livestream LIVE."""
    admin, ops = await staff_token(api, "admin"), await staff_token(api, "ops1")
    if world["bare_products"]:
        log(f"adding a SKU to each of {len(world['bare_products'])} products (productSkuCreate)")
        await add_skus(api, admin, world["bare_products"])
        world["skus"] = (await read_world(db))["skus"]
    need = args.hot_skus + 1 + 10
    if len(world["skus"]) < need:
        raise SystemExit(f"the demo has {len(world['skus'])} SKUs on sale; {need} are needed")
    world["hot_skus"] = world["skus"][: args.hot_skus]
    world["coupon_sku"] = world["skus"][args.hot_skus]
    world["steady_skus"] = world["skus"][args.hot_skus + 1 : args.hot_skus + 11]
    world["steady_stores"] = [f"S{n:03d}" for n in range(2, 2 + args.steady_stores)]
    selling = ["S001", *world["steady_stores"]]
    if any(code not in world["stores"] for code in selling):
        raise SystemExit(f"the demo has {len(world['stores'])} stores: ask for fewer --steady-stores")
    located = await store_locations(api, admin, [world["stores"][code] for code in selling])
    world["stores"] = {code: (world["stores"][code], located[world["stores"][code]]) for code in selling}
    world["s001_guide_id"] = await db.value("SELECT id FROM staff_user WHERE username = 's001.guide1'")
    log("stock (stockAdjust) and staff sign-ins (staffLogin)")
    await prepare_stock(api, admin, world, args)
    s001_guides = [await staff_token(api, f"s001.guide{g}") for g in (1, 2, 3)]
    steady_guides = {
        world["stores"][code][0]: [await staff_token(api, f"{code.lower()}.guide{g}") for g in (1, 2, 3)]
        for code in world["steady_stores"]
    }
    log(f"signing in {args.claimers + 1} customers through customerLogin")
    started = time.perf_counter()
    customers = await sign_in_customers(api, args.claimers + 1, args.claim_concurrency)
    seconds = time.perf_counter() - started
    live, _ = await api.call(
        LIVESTREAM_UPDATE,
        {"input": {"id": gid("Livestream", world["livestream"]), "status": "LIVE"}},
        ops,
        "livestreamUpdate",
    )
    if live is None or live["errors"]:
        raise SystemExit(f"livestreamUpdate LIVE failed: {live}")
    return {
        "ops": ops,
        "s001_guides": s001_guides,
        "steady_guides": steady_guides,
        "holder": customers[0],
        "claimers": customers[1:],
        "customer_logins_per_s": round(len(customers) / seconds, 1),
    }


async def run(args: argparse.Namespace) -> dict:
    facts = machine()
    url = await create_database()
    database = str(sa.engine.make_url(url).database)
    db = Db(url)
    server = None
    scratch = tempfile.TemporaryDirectory()
    env = server_env(url, scratch.name)
    try:
        log(f"database {database}: seeding the demo brand (irs seed demo)")
        seed = [sys.executable, "-m", "server.cli", "seed", "demo"]
        subprocess.run(seed, env=env, cwd=ROOT, check=True, capture_output=True)
        world = await read_world(db)
        port = free_port()
        server = start_server(env, port, args.workers)
        connections = max(args.checkouts, args.redemptions, args.steady_concurrency, args.claim_concurrency)
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120, limits=limits) as client:
            await wait_ready(client, server)
            api = Api(client)
            cast = await set_up(api, db, world, args)
            await analyze(url)
            bench = Bench(args, api, db, world, server.pid, database)
            people = [person for _, person in cast["claimers"]]
            hot = await hot_sku_race(bench, cast["s001_guides"], people)
            steady = await steady_run(bench, cast["steady_guides"], people)
            one_coupon = await one_coupon_race(bench, cast["ops"], cast["s001_guides"], cast["holder"])
            surge = await claim_surge(bench, cast["ops"], cast["claimers"])
        stop_seconds = stop(server)
        server = None
        log(f"pgbench: the checkout's statements for {args.pgbench_seconds} s")
        ceiling = await pgbench_ceiling(url, world, people, args.pgbench_seconds, args.steady_concurrency)
    finally:
        if server is not None:
            stop(server)
        scratch.cleanup()
        await db.close()
        await forget_limits(env["IRS_RATE_LIMIT_KEY_PREFIX"])
        if args.keep_database:
            log(f"kept the database: {url}")
        else:
            await drop_database(url)
    figures = {
        "bench": "checkout",
        "database": "postgresql",
        "postgresql": world["postgresql"],
        "bus": "redis",
        "server_workers": args.workers,
        **facts,
        "loadavg_at_end": [round(v, 2) for v in os.getloadavg()],
        "customers_signed_in": len(cast["claimers"]) + 1,
        "customer_logins_per_s": cast["customer_logins_per_s"],
        "checks": {"no_oversell": hot["ok"], "one_redemption": one_coupon["ok"], "exact_claims": surge["ok"]},
        "hot_sku_race": hot,
        "steady": steady,
        "one_coupon_race": one_coupon,
        "claim_surge": surge,
        "pgbench_checkout": ceiling,
        "steady_to_pgbench": round(steady["paid_per_s"] / ceiling["checkouts_per_s"], 3) if ceiling else None,
        "unexpected_answers": len(api.unexpected),
        "unexpected_samples": api.unexpected[:5],
        "client_retries": api.retries,
        "server_stop_seconds": stop_seconds,
    }
    if args.profile:
        figures["profile"] = profile_summary(args.profile, top=10)
    return figures


def stop(server: subprocess.Popen) -> float | None:
    """SIGTERM, as an orchestrator would; killed after 30 s."""
    started = time.perf_counter()
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
        return None
    return round(time.perf_counter() - started, 1)


def main() -> None:
    args = parse_args()
    figures = asyncio.run(run(args))
    print(json.dumps(figures, ensure_ascii=False))
    if args.profile:
        summary = json.dumps(profile_summary(args.profile, top=30), ensure_ascii=False, indent=1)
        log(f"profile of the steady run ({args.profile}): {summary}")
    if figures["unexpected_answers"] or not all(figures["checks"].values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
