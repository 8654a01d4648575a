"""Leaderboards read running sums the postings keep; after sales, partial and late refunds, adjustments and a
closed period, every board of every month and day is still exactly the ledger's entries summed, and the
migration that creates the sums from an existing ledger gives the same rows."""

from __future__ import annotations

import importlib.util
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext

from server.domains.ledger.models import LedgerEntry, LedgerStanding
from server.domains.ledger.periods import window_of
from tests.server.assertions import fetch
from tests.server.bookings.helpers import customer
from tests.world import gid

from .helpers import BOARD, drain, later, livestream_sale, month, refund, sell, standard_plans
from .test_adjustments import ADJUST, CLOSE, adjustment

ZONE = ZoneInfo("Asia/Shanghai")
TYPE_OF = {"GUIDE": "StaffUser", "STORE": "Store", "TEAM": "Team", "LIVESTREAM": "Livestream"}
MIGRATION = Path(__file__).resolve().parents[3] / "migrations" / "versions" / "0026_ledger_standings.py"


def subject(entry: LedgerEntry, scope: str) -> int | None:
    """Whom an entry counts for on a board, by the board's definition (None: not on it)."""
    if scope == "GUIDE":
        return entry.beneficiary_id if entry.beneficiary_kind == "GUIDE" else None
    if scope == "TEAM":
        return entry.beneficiary_id if entry.beneficiary_kind == "LIVESTREAM_TEAM" else None
    if scope == "LIVESTREAM":
        return entry.livestream_id
    return entry.store_id


def summed(entries: list[LedgerEntry], scope: str, period: str) -> dict[str, tuple[int, int, int]]:
    """The board straight from the entries: revenue, commission, and orders accrued, by subject's id."""
    window = window_of(period, ZONE)
    sums: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    orders: dict[int, set[int]] = defaultdict(set)
    for entry in entries:
        inside = entry.period == period if window.is_month else window.start <= entry.occurred_at < window.end
        if not inside or (key := subject(entry, scope)) is None:
            continue
        sums[key][0] += entry.revenue
        sums[key][1] += entry.commission
        if entry.kind == "ACCRUAL":
            orders[key].add(entry.order_id)
    return {gid(TYPE_OF[scope], key): (r, c, len(orders[key])) for key, (r, c) in sums.items()}


async def board(api, token, scope: str, period: str) -> dict[str, tuple[int, int, int]]:
    found = (await api.data(BOARD, {"scope": scope, "period": period, "first": 50}, token))["leaderboard"]
    assert found["total"] == len(found["entries"])
    return {e["id"]: (e["creditedRevenue"]["amount"], e["commission"]["amount"], e["orders"]) for e in found["entries"]}


async def a_month_of_sales(api, db, world, clock, token_for) -> list[str]:
    """A livestream sale refunded in part, a sale without livestream adjusted by HQ, the month closed and
    the rest refunded late; returns the months and days touched."""
    await standard_plans(api, token_for, clock)
    sale = await livestream_sale(api, db, world, clock, token_for, units=3)
    _, walk_in = await customer(api, "13900000002")
    other = await sell(api, world, token_for, walk_in, 1)
    await drain(api)
    first_day, first_month = clock.now().astimezone(ZONE).strftime("%Y-%m-%d"), month(clock)
    later(clock, hours=30)
    await refund(api, token_for, sale["order"], 1)
    await drain(api)
    admin = await token_for("admin")
    posted = (await api.data(ADJUST, {"input": adjustment(world, other["id"])}, admin))["ledgerAdjust"]
    assert posted["errors"] == [], posted
    refund_day = clock.now().astimezone(ZONE).strftime("%Y-%m-%d")
    later(clock, days=40)
    admin = await token_for("admin")
    assert (await api.data(CLOSE, {"p": first_month}, admin))["periodClose"]["errors"] == []
    await refund(api, token_for, sale["order"], 2)
    await drain(api)
    late_day, late_month = clock.now().astimezone(ZONE).strftime("%Y-%m-%d"), month(clock)
    return [first_month, late_month, first_day, refund_day, late_day]


async def test_every_board_of_every_month_and_day_is_the_ledger_summed(api, db, world, clock, token_for):
    periods = await a_month_of_sales(api, db, world, clock, token_for)
    entries = await fetch(db, LedgerEntry)
    assert {e.kind for e in entries} == {"ACCRUAL", "REVERSAL", "ADJUSTMENT"}
    analyst = await token_for("analyst")
    for period in periods:
        for scope in TYPE_OF:
            assert await board(api, analyst, scope, period) == summed(entries, scope, period), (scope, period)
    late = await board(api, analyst, "STORE", periods[1])
    assert [orders for _, _, orders in late.values()] == [
        0
    ]  # a month with only a late refund: credit taken back, no order
    cities = (await api.data(BOARD, {"scope": "CITY", "period": periods[0], "first": 5}, analyst))["leaderboard"]
    shanghai = summed(entries, "STORE", periods[0])[world.gid("Store", "shanghai")]
    assert [(e["id"], e["creditedRevenue"]["amount"], e["orders"]) for e in cities["entries"]] == [
        ("上海", shanghai[0], shanghai[2])
    ]


async def test_the_migration_sums_an_existing_ledger_as_the_postings_did(api, db, world, clock, token_for):
    await a_month_of_sales(api, db, world, clock, token_for)
    kept = sorted(await fetch(db, LedgerStanding), key=lambda row: tuple(row.model_dump().values()))
    assert kept
    spec = importlib.util.spec_from_file_location("standings_migration", MIGRATION)
    assert spec and spec.loader
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)

    def backfill(connection) -> None:
        connection.execute(sa.delete(LedgerStanding))
        with Operations.context(MigrationContext.configure(connection)):
            migration._backfill(LedgerStanding.__table__)

    async with db.engine.begin() as connection:
        await connection.run_sync(backfill)
    rebuilt = sorted(await fetch(db, LedgerStanding), key=lambda row: tuple(row.model_dump().values()))
    assert [row.model_dump() for row in rebuilt] == [row.model_dump() for row in kept]
