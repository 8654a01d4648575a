"""OneID ingestion throughput and the 360° view's latency, on PostgreSQL.

Ingests 200,000 events for 50,000 people (30 % of them seen on two or more
touchpoints, merged when an event links them) in batches of 500 through the
identity service, then times the 360° view (every field, over the GraphQL
app in-process) for a customer with 5,000 events. Prints one JSON line.

    .venv/bin/python bench/identity_ingest.py     # needs PostgreSQL on 127.0.0.1
    IRS_BENCH_PEOPLE=5000 ...                      # a smaller run
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from server.app import create_app  # noqa: E402
from server.db import Database  # noqa: E402
from server.domains.identity.events import EventType, RawEvent, RawIdentifier  # noqa: E402
from server.domains.identity.identifiers import IdentifierType  # noqa: E402
from server.domains.identity.ingestion import ingest  # noqa: E402
from server.domains.identity.policy import IdentityPolicy  # noqa: E402
from server.settings import Settings  # noqa: E402

ADMIN_URL = os.environ.get("IRS_BENCH_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
PEOPLE = int(os.environ.get("IRS_BENCH_PEOPLE", "50000"))
EVENTS_PER_PERSON = 4
MULTI_TOUCHPOINT = 0.30
BATCH = 500
HISTORY = 5000
VIEW_SAMPLES = 200
NOW = datetime.now(UTC).replace(microsecond=0)
TYPES = [
    EventType.PRODUCT_VIEW,
    EventType.LIVESTREAM_PRODUCT_CLICK,
    EventType.CART_ADD,
    EventType.LIVESTREAM_JOIN,
    EventType.COMMUNITY_JOIN,
    EventType.STORE_VISIT,
    EventType.POS_PURCHASE,
]

VIEW_QUERY = """query($id: ID!) { customer(id: $id) {
  id displayName name phone masked identifiers { type value } traits { city tags } consents { kind granted }
  timeline(first: 20) { totalCount edges { node { type occurredAt product { sku } store { code } } } }
  livestreamsWatched { title } productsOfInterest { product { sku } score reason }
  recommendations { product { sku } reason }
  eventCount firstSeenAt lastSeenAt lastVisitAt purchaseCount lifetimeValue { amount }
} }"""


def phone(i: int) -> str:
    return f"1352{i:07d}"


def person_events(rng: random.Random, i: int, products: list[int], stores: list[int]) -> list[RawEvent]:
    """Four events; a multi-touchpoint person first appears as two strangers, then is linked."""
    ids = {
        "phone": RawIdentifier(IdentifierType.PHONE, phone(i)),
        "openid": RawIdentifier(IdentifierType.WECHAT_OPENID, f"o{i}", "wx-mini"),
        "viewer": RawIdentifier(IdentifierType.LIVESTREAM_VIEWER_ID, f"v{i}", "channels"),
    }
    multi = rng.random() < MULTI_TOUCHPOINT
    plans = (
        [["openid"], ["viewer"], ["openid"], ["openid", "viewer", "phone"]]
        if multi
        else [["phone"], ["phone"], ["phone"], ["phone"]]
    )
    start = NOW - timedelta(days=rng.randint(1, 90))
    events = []
    for n, plan in enumerate(plans):
        kind = rng.choice(TYPES)
        events.append(
            RawEvent(
                event_id=uuid.uuid4().hex,
                type=kind,
                occurred_at=start + timedelta(hours=6 * n),
                identifiers=[ids[p] for p in plan],
                product_id=rng.choice(products) if kind != EventType.COMMUNITY_JOIN else None,
                store_id=rng.choice(stores) if kind in (EventType.STORE_VISIT, EventType.POS_PURCHASE) else None,
                properties={"amount": rng.randint(100, 3000) * 100} if kind == EventType.POS_PURCHASE else {},
            )
        )
    return events


async def create_database() -> str:
    admin = create_async_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"irs_bench_{uuid.uuid4().hex[:8]}"
    async with admin.connect() as connection:
        await connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return sa.engine.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


async def drop_database(url: str) -> None:
    admin = create_async_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{sa.engine.make_url(url).database}" WITH (FORCE)'))
    await admin.dispose()


async def ids_of(db: Database, table: str) -> list[int]:
    async with db.engine.connect() as connection:
        return list((await connection.execute(sa.text(f"SELECT id FROM {table}"))).scalars())


class AutoAnalyze:
    """ANALYZE as autovacuum would: in the background, once a table has grown by 10 % since last time.

    PostgreSQL on this machine runs with autovacuum off; a live database has
    it on, and without statistics a table that grew from empty is planned as if
    it were still tiny. Like autovacuum, it runs beside the ingest (on its own
    connection), competing for the same two cores.
    """

    def __init__(self, db: Database) -> None:
        self.db, self.analyzed_at, self.running = db, 0, None

    def after(self, events_so_far: int) -> None:
        if self.running and not self.running.done():
            return
        if events_so_far - self.analyzed_at > 0.1 * self.analyzed_at + 50:
            self.analyzed_at = events_so_far
            self.running = asyncio.create_task(self._analyze())

    async def _analyze(self) -> None:
        async with self.db.engine.connect() as connection:
            await connection.execute(sa.text("ANALYZE person, identifier, customer_event, person_merge"))
            await connection.commit()

    async def finish(self) -> None:
        if self.running:
            await self.running


async def measure_ingest(db: Database, policy: IdentityPolicy, events: list[RawEvent]) -> dict:
    latencies = []
    autovacuum = AutoAnalyze(db)
    started = time.perf_counter()
    for offset in range(0, len(events), BATCH):
        batch_started = time.perf_counter()
        async with db.writer() as session:
            await ingest(session, policy, "src:bench", events[offset : offset + BATCH], NOW)
        latencies.append(time.perf_counter() - batch_started)
        autovacuum.after(offset + BATCH)
    await autovacuum.finish()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "events": len(events),
        "seconds": round(elapsed, 1),
        "events_per_s": round(len(events) / elapsed),
        "batch_p50_ms": round(statistics.median(latencies) * 1000, 1),
        "batch_p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000, 1),
    }


async def measure_view(url: str, db: Database, policy: IdentityPolicy, products, stores, livestreams) -> dict:
    rng = random.Random(5)
    history = [
        RawEvent(
            event_id=uuid.uuid4().hex,
            type=(kind := rng.choice([*TYPES, EventType.LIVESTREAM_JOIN])),
            occurred_at=NOW - timedelta(minutes=n * 30),
            identifiers=[RawIdentifier(IdentifierType.PHONE, "13912345678")],
            product_id=rng.choice(products),
            store_id=rng.choice(stores) if kind in (EventType.STORE_VISIT, EventType.POS_PURCHASE) else None,
            livestream_id=rng.choice(livestreams) if kind == EventType.LIVESTREAM_JOIN else None,
            properties={"amount": 19900} if kind == EventType.POS_PURCHASE else {},
        )
        for n in range(HISTORY)
    ]
    person = None
    for offset in range(0, HISTORY, BATCH):
        async with db.writer() as session:
            person = (await ingest(session, policy, "src:history", history[offset : offset + BATCH], NOW))[0].person_id
    async with db.engine.connect() as connection:
        await connection.execute(sa.text("ANALYZE"))  # statistics as autovacuum keeps them on a live database
    settings = Settings(database_url=url, jwt_secret="b" * 40, identity_salt="bench-salt" * 4, log_level="WARNING")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")
        login = await client.post(
            "/graphql",
            json={
                "query": 'mutation { staffLogin(username: "admin", '
                'password: "elegance2026") { session { accessToken } } }'
            },
        )
        token = login.json()["data"]["staffLogin"]["session"]["accessToken"]
        body = {"query": VIEW_QUERY, "variables": {"id": _gid("Customer", person)}}
        headers = {"authorization": f"Bearer {token}"}
        latencies = []
        for n in range(VIEW_SAMPLES + 10):
            started = time.perf_counter()
            response = await client.post("/graphql", json=body, headers=headers)
            if n >= 10:  # warm-up
                latencies.append(time.perf_counter() - started)
            assert "errors" not in response.json(), response.json()
        latencies.sort()
        await client.aclose()
    return {
        "history_events": HISTORY,
        "samples": VIEW_SAMPLES,
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000, 1),
    }


def _gid(kind: str, value: int) -> str:
    import base64

    return base64.b64encode(f"{kind}:{value}".encode()).decode()


async def main() -> None:
    url = await create_database()
    try:
        env = {**os.environ, "IRS_DATABASE_URL": url, "IRS_LOG_LEVEL": "WARNING"}
        subprocess.run(
            [sys.executable, "-m", "server.cli", "seed", "demo"], env=env, cwd=ROOT, check=True, capture_output=True
        )
        db = Database.connect(url)
        policy = IdentityPolicy(tombstone_salt=b"bench")
        products, stores = await ids_of(db, "product"), await ids_of(db, "store")
        livestreams = await ids_of(db, "livestream")
        rng = random.Random(2026)
        events = [e for i in range(PEOPLE) for e in person_events(rng, i, products, stores)]
        events.sort(key=lambda e: e.occurred_at)  # touchpoints send roughly in time order
        ingest_figures = await measure_ingest(db, policy, events)
        async with db.engine.connect() as connection:
            persons = (
                await connection.execute(
                    sa.text(
                        "SELECT count(*) FILTER (WHERE merged_into_id IS NULL),"
                        " count(*) FILTER (WHERE merged_into_id IS NOT NULL) FROM person"
                    )
                )
            ).one()
        view_figures = await measure_view(url, db, policy, products, stores, livestreams)
        view_figures["note"] = "after ANALYZE, as autovacuum would have run on a live database"
        await db.dispose()
    finally:
        await drop_database(url)
    print(
        json.dumps(
            {
                "bench": "identity_ingest",
                "database": "postgresql",
                "people": PEOPLE,
                "batch": BATCH,
                "ingest": {**ingest_figures, "persons": persons[0], "merged_persons": persons[1]},
                "view_360": view_figures,
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
