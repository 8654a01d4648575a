"""nearbyStores latency with 10,000 stores spread over China, on PostgreSQL.

Seeds the demo brand into a throwaway database, adds 10,000 stores (two thirds
around 60 cities, a third anywhere on the mainland), each with a guide on shift
10:00-22:00 every day, then times nearbyStores (first: 10) over the GraphQL app
in-process for 300 random points (half near a city, half anywhere in mainland
China): for the search alone, and with nextFreeSlot on a Monday at 15:00 and at
21:45 store time (when no slot is left that day). Prints one JSON line.

    .venv/bin/python bench/nearby_stores.py     # needs PostgreSQL on 127.0.0.1
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.identity_ingest import create_database, drop_database  # noqa: E402

from server.app import create_app  # noqa: E402
from server.db import Database  # noqa: E402
from server.domains.common.actor import Role  # noqa: E402
from server.domains.schedule.models import ShiftPattern  # noqa: E402
from server.domains.staff.models import StaffUser  # noqa: E402
from server.domains.stores.geo import EARTH_RADIUS_M, in_mainland_china  # noqa: E402
from server.domains.stores.models import Store  # noqa: E402
from server.domains.stores.services import DayHours, hours_to_json  # noqa: E402
from server.settings import Settings  # noqa: E402

STORES = 10_000
POINTS = 300
WARM_UP = 10
BATCH = 1000
CITY_SHARE = 2 / 3
CITY_SPREAD_M = 30_000
# A spread of prefecture-level cities, WGS-84 (latitude, longitude).
CITIES = [
    (39.90, 116.41),
    (31.23, 121.47),
    (23.13, 113.26),
    (22.54, 114.06),
    (30.57, 104.07),
    (30.27, 120.16),
    (30.59, 114.31),
    (34.34, 108.94),
    (32.06, 118.80),
    (29.56, 106.55),
    (39.34, 117.36),
    (31.30, 120.59),
    (28.23, 112.94),
    (34.75, 113.63),
    (41.81, 123.43),
    (36.07, 120.38),
    (24.48, 118.09),
    (25.04, 102.72),
    (38.91, 121.61),
    (45.80, 126.53),
    (36.65, 117.12),
    (31.82, 117.23),
    (26.07, 119.30),
    (29.87, 121.54),
    (43.82, 125.32),
    (38.04, 114.51),
    (37.87, 112.55),
    (40.84, 111.75),
    (36.06, 103.83),
    (36.62, 101.78),
    (38.49, 106.23),
    (43.83, 87.62),
    (29.65, 91.11),
    (26.65, 106.63),
    (22.82, 108.37),
    (20.04, 110.34),
    (18.25, 109.51),
    (28.68, 115.86),
    (27.99, 120.70),
    (23.35, 116.68),
    (22.27, 113.58),
    (23.02, 113.75),
    (23.04, 113.12),
    (32.39, 119.41),
    (31.78, 119.95),
    (33.96, 118.28),
    (34.26, 117.18),
    (35.41, 116.59),
    (37.46, 121.45),
    (39.63, 118.18),
    (40.77, 114.89),
    (46.80, 130.36),
    (44.58, 129.63),
    (41.12, 122.99),
    (25.28, 110.29),
    (24.31, 109.41),
    (27.83, 113.13),
    (30.65, 111.29),
    (32.99, 112.53),
    (39.47, 75.99),
]
STORE_QUERY = """query($location: LocationInput!) { nearbyStores(location: $location) {
  store { id code } distanceMeters openNow } }"""
SLOT_QUERY = """query($location: LocationInput!) { nearbyStores(location: $location) {
  store { id code } distanceMeters openNow nextFreeSlot { start remaining } } }"""


def near(rng: random.Random, lat: float, lng: float, spread_m: float) -> tuple[float, float]:
    """A point up to ``spread_m`` from (lat, lng), uniform over the disc (small-distance approximation)."""
    distance, bearing = spread_m * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    north, east = distance * math.cos(bearing), distance * math.sin(bearing)
    return (
        lat + math.degrees(north / EARTH_RADIUS_M),
        lng + math.degrees(east / (EARTH_RADIUS_M * math.cos(math.radians(lat)))),
    )


def anywhere(rng: random.Random) -> tuple[float, float]:
    while True:
        lat, lng = rng.uniform(18, 54), rng.uniform(73, 135)
        if in_mainland_china(lat, lng):
            return lat, lng


def place(rng: random.Random) -> tuple[float, float]:
    if rng.random() < CITY_SHARE:
        return near(rng, *rng.choice(CITIES), CITY_SPREAD_M)
    return anywhere(rng)


async def add_stores(db: Database, rng: random.Random) -> None:
    hours = hours_to_json([DayHours(day, dt.time(10), dt.time(22)) for day in range(7)])
    for offset in range(0, STORES, BATCH):
        async with db.writer() as session:
            stores = []
            for n in range(offset, offset + BATCH):
                lat, lng = place(rng)
                stores.append(
                    Store(
                        code=f"B{n:05d}",
                        name=f"Bench {n}",
                        city="bench",
                        address="bench",
                        latitude=round(lat, 6),
                        longitude=round(lng, 6),
                        timezone="Asia/Shanghai",
                        opening_hours=hours,
                    )
                )
            session.add_all(stores)
            await session.flush()
            guides = [
                StaffUser(
                    username=f"bench.guide{s.id}",
                    password_hash="!",
                    display_name="Bench guide",
                    role=Role.GUIDE.value,
                    store_id=s.id,
                )
                for s in stores
            ]
            session.add_all(guides)
            await session.flush()
            session.add_all(
                ShiftPattern(staff_id=g.id, store_id=g.store_id, weekday=day, starts="10:00", ends="22:00")
                for g in guides
                for day in range(7)
            )
            await session.commit()
    async with db.engine.connect() as connection:
        await connection.execute(sa.text("ANALYZE"))  # statistics as autovacuum keeps them on a live database
        await connection.commit()


async def measure(client: httpx.AsyncClient, headers: dict, query: str, points) -> dict:
    latencies = []
    for n, (lat, lng) in enumerate([*points[:WARM_UP], *points]):
        body = {"query": query, "variables": {"location": {"latitude": lat, "longitude": lng}}}
        started = time.perf_counter()
        response = await client.post("/graphql", json=body, headers=headers)
        elapsed = time.perf_counter() - started
        assert "errors" not in response.json(), response.json()
        assert len(response.json()["data"]["nearbyStores"]) == 10
        if n >= WARM_UP:
            latencies.append(elapsed)
    latencies.sort()
    return {
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1),
    }


class Clock:
    """The app's clock, set by hand: slots depend on the time of day."""

    def __init__(self) -> None:
        self.current = dt.datetime.now(dt.UTC)

    def now(self) -> dt.datetime:
        return self.current


def next_monday_at(hour: int, minute: int) -> dt.datetime:
    shanghai = ZoneInfo("Asia/Shanghai")
    today = dt.datetime.now(shanghai).date()
    monday = today + dt.timedelta(days=7 - today.weekday())
    return dt.datetime.combine(monday, dt.time(hour, minute), shanghai).astimezone(dt.UTC)


async def sign_in(client: httpx.AsyncClient) -> dict:
    login = await client.post(
        "/graphql",
        json={
            "query": 'mutation { staffLogin(username: "admin", password: "elegance2026") { session { accessToken } } }'
        },
    )
    return {"authorization": f"Bearer {login.json()['data']['staffLogin']['session']['accessToken']}"}


async def measure_api(url: str, points) -> dict:
    settings = Settings(database_url=url, jwt_secret="b" * 40, identity_salt="bench-salt" * 4, log_level="WARNING")
    clock = Clock()
    app = create_app(settings, clock=clock)
    figures = {}
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://bench") as client,
    ):
        for label, hour, minute in (("15:00", 15, 0), ("21:45", 21, 45)):
            clock.current = next_monday_at(hour, minute)
            headers = await sign_in(client)
            if "search" not in figures:
                figures["search"] = await measure(client, headers, STORE_QUERY, points)
            # At 21:45 no slot is left today (they close 30 minutes ahead): the week is searched.
            figures[f"with_next_free_slot_at_{label}"] = await measure(client, headers, SLOT_QUERY, points)
    return figures


async def main() -> None:
    url = await create_database()
    try:
        env = {**os.environ, "IRS_DATABASE_URL": url, "IRS_LOG_LEVEL": "WARNING"}
        subprocess.run(
            [sys.executable, "-m", "server.cli", "seed", "demo"], env=env, cwd=ROOT, check=True, capture_output=True
        )
        db = Database.connect(url)
        rng = random.Random(2026)
        await add_stores(db, rng)
        async with db.engine.connect() as connection:
            total = (await connection.execute(sa.text("SELECT count(*) FROM store"))).scalar_one()
        await db.dispose()
        points = [near(rng, *rng.choice(CITIES), 20_000) if n % 2 else anywhere(rng) for n in range(POINTS)]
        figures = await measure_api(url, points)
    finally:
        await drop_database(url)
    print(
        json.dumps(
            {
                "bench": "nearby_stores",
                "database": "postgresql",
                "stores": total,
                "points": POINTS,
                "first": 10,
                **figures,
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
