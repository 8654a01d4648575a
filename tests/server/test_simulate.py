"""`irs simulate livestream`: a small day through the CLI on the test database; the KPIs it prints are
what the database holds."""

from __future__ import annotations

import re
from decimal import Decimal

from tests.server.test_cli import _scalar, irs

ROW = re.compile(r"^\|\s*(?P<label>[^|]+?)\s*\|\s*(?P<brand>[^|]*?)\s*\|\s*(?P<live>[^|]*?)\s*\|$")


def kpi_rows(stdout: str) -> dict[str, str]:
    """The KPI table's brand column, by label."""
    rows = {}
    for line in stdout.splitlines():
        if match := ROW.match(line.strip()):
            rows[match["label"]] = match["brand"]
    return rows


def fen(printed: str) -> int:
    return int(Decimal(printed.removeprefix("¥").replace(",", "")) * 100)


async def one(url: str, query: str) -> int:
    return int((await _scalar(url, query))[0][0] or 0)


async def test_a_small_day_prints_what_the_database_holds(fresh_url):
    result = irs(
        "simulate", "livestream", "--viewers", "20", "--stores", "3", "--seed", "7", IRS_DATABASE_URL=fresh_url
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 refused" in result.stdout
    kpis = kpi_rows(result.stdout)
    assert int(kpis["Bookings"]) == await one(fresh_url, "SELECT count(*) FROM booking") > 0
    checked_in = "SELECT count(*) FROM booking WHERE checked_in_at IS NOT NULL"
    assert int(kpis["Check-ins"]) == await one(fresh_url, checked_in) > 0
    no_shows = "SELECT count(*) FROM booking WHERE status = 'NO_SHOW'"
    assert int(kpis["No-shows"]) == await one(fresh_url, no_shows)
    assert int(kpis["Bookings"]) == int(kpis["Check-ins"]) + int(kpis["No-shows"])  # the day is over
    paid = "SELECT count(*) FROM sales_order WHERE paid_at IS NOT NULL"
    assert int(kpis["Orders credited"]) == await one(fresh_url, paid) > 0
    gmv = "SELECT sum(total) FROM sales_order WHERE paid_at IS NOT NULL"
    assert fen(kpis["GMV"]) == await one(fresh_url, gmv)
    assert fen(kpis["Credited revenue"]) == await one(fresh_url, "SELECT sum(revenue) FROM ledger_entry")
    assert fen(kpis["Commission"]) == await one(fresh_url, "SELECT sum(commission) FROM ledger_entry")
    by_kind = "SELECT sum(commission) FROM ledger_entry WHERE beneficiary_kind = '{}'"
    assert fen(kpis["Commission to GUIDE"]) == await one(fresh_url, by_kind.format("GUIDE")) > 0
    assert fen(kpis["Commission to LIVESTREAM_TEAM"]) == await one(fresh_url, by_kind.format("LIVESTREAM_TEAM")) > 0
    booked = "SELECT count(*) FROM sales_order WHERE paid_at IS NOT NULL AND booking_id IS NOT NULL"
    assert 0 < await one(fresh_url, booked) < int(kpis["Orders credited"])  # booked and walk-in sales both
    assert int(kpis["UGC posts"]) == await one(fresh_url, "SELECT count(*) FROM ugc_post") > 0
    featured = "SELECT count(*) FROM ugc_post WHERE status = 'FEATURED'"
    assert 0 < await one(fresh_url, featured) <= 3
    assert "Top guides" in result.stdout and "Wall time" in result.stdout
