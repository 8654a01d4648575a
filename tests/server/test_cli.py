"""The `irs` command: schema export, migrations, demo seed."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from server.cli import schema_sdl
from server.demo import data
from tests.world import LOGIN

ROOT = Path(__file__).resolve().parents[2]


def irs(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_committed_schema_is_current():
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == schema_sdl(), "schema.graphql is stale: run `irs export-schema` and commit it"


def test_export_schema_writes_the_sdl(tmp_path):
    result = irs("export-schema", "--output", str(tmp_path / "out.graphql"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.graphql").read_text() == schema_sdl()


def test_db_upgrade_current_and_downgrade(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    assert irs("db", "upgrade", IRS_DATABASE_URL=url).returncode == 0
    current = irs("db", "current", IRS_DATABASE_URL=url)
    assert "(head)" in current.stdout
    assert irs("db", "downgrade", "base", IRS_DATABASE_URL=url).returncode == 0
    assert "(head)" not in irs("db", "current", IRS_DATABASE_URL=url).stdout


def test_seed_demo_is_refused_in_production(tmp_path):
    result = irs(
        "seed",
        "demo",
        IRS_ENV="production",
        IRS_JWT_SECRET="s" * 40,
        IRS_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'prod.db'}",
    )
    assert result.returncode != 0
    assert "never seeded when IRS_ENV=production" in result.stderr
    assert not (tmp_path / "prod.db").exists()


async def _scalar(url: str, query: str):
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        value = (await connection.execute(sa.text(query))).all()
    await engine.dispose()
    return value


def _distance_km(lat1, lng1, lat2, lng2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


async def test_seed_demo_builds_the_brand_once(fresh_url, app_with_url):
    first = irs("seed", "demo", IRS_DATABASE_URL=fresh_url)
    assert first.returncode == 0, first.stderr
    assert "200 stores" in first.stdout and "elegance2026" in first.stdout and "admin" in first.stdout
    second = irs("seed", "demo", IRS_DATABASE_URL=fresh_url)
    assert second.returncode == 0 and "nothing new" in second.stdout
    counts = {
        t: (await _scalar(fresh_url, f"SELECT count(*) FROM {t}"))[0][0]
        for t in ("store", "staff_user", "product", "product_category", "livestream", "team")
    }
    assert counts == {
        "store": 200,
        "staff_user": 4 + 200 * 4,
        "product": 50,
        "product_category": 5,
        "livestream": 1,
        "team": 1,
    }
    cities = {name: (lat, lng) for name, lat, lng in data.CITIES}
    stores = await _scalar(fresh_url, "SELECT code, city, latitude, longitude, timezone FROM store")
    assert len({city for _, city, *_ in stores}) >= 20
    assert sorted(code for code, *_ in stores) == [f"S{n:03d}" for n in range(1, 201)]
    for _, city, lat, lng, timezone in stores:
        assert _distance_km(lat, lng, *cities[city]) <= 5.0 and timezone == "Asia/Shanghai"
    featured = await _scalar(fresh_url, "SELECT count(*) FROM livestream_product")
    assert featured[0][0] == 6
    # Something to sell: a SKU per product (and the lipstick's shades), stock everywhere, the livestream's coupon.
    assert (await _scalar(fresh_url, "SELECT count(*) FROM product_sku"))[0][0] == 50 + len(data.SHADES)
    assert (await _scalar(fresh_url, "SELECT count(*) FROM stock_location"))[0][0] == 200 + len(data.WAREHOUSES)
    unsound = "SELECT count(*) FROM stock_level l WHERE l.on_hand <> (SELECT sum(quantity) FROM stock_movement m "
    unsound += "WHERE m.location_id = l.location_id AND m.sku_id = l.sku_id)"
    assert (await _scalar(fresh_url, unsound))[0][0] == 0
    (coupon,) = await _scalar(fresh_url, "SELECT channel, discount_kind, min_spend, amount_off FROM coupon_campaign")
    assert tuple(coupon) == ("IN_STORE_ONLY", "THRESHOLD", 50000, 10000)
    plans = await _scalar(fresh_url, "SELECT scope, rate_basis_points FROM commission_plan ORDER BY scope")
    assert [tuple(plan) for plan in plans] == [("DEFAULT", 300), ("LIVESTREAM", 500)]
    api = await app_with_url(fresh_url)
    for username in ("admin", "analyst", "ops1", "ops2", "s001.manager", "s001.guide1", "s200.guide3"):
        login = await api.data(LOGIN, {"u": username, "p": data.DEMO_PASSWORD})
        assert login["staffLogin"]["errors"] == [], username
