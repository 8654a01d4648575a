"""Commission plans refuse bad shares, rates and overlaps (nothing written); the CSV export is the ledger."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from tests.server.assertions import count_tables
from tests.server.bookings.helpers import iso
from tests.world import gid

from .helpers import create_plan, drain, livestream_sale, month, plan_input, shares, standard_plans

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"shares": shares(GUIDE=7000, LIVESTREAM_TEAM=2000)}, "SHARES_NOT_100", ["input", "shares"]),
        ({"shares": shares(GUIDE=12000)}, "OUT_OF_RANGE", ["input", "shares", "GUIDE"]),
        ({"shares": shares(GUIDE=5000) * 2}, "DUPLICATE_PARTICIPANT", ["input", "shares"]),
        ({"rateBasisPoints": 10001}, "RATE_OUT_OF_RANGE", ["input", "rateBasisPoints"]),
        ({"rateBasisPoints": -1}, "RATE_OUT_OF_RANGE", ["input", "rateBasisPoints"]),
        ({"scope": "CATEGORY"}, "SCOPE_ID_REQUIRED", ["input", "scopeId"]),
        ({"scopeId": gid("ProductCategory", 1)}, "SCOPE_ID_NOT_ALLOWED", ["input", "scopeId"]),
        ({"scope": "LIVESTREAM", "scopeId": gid("Livestream", 2**31 - 1)}, "NOT_FOUND", ["input", "scopeId"]),
        ({"name": "x" * 65}, "TOO_LONG", ["input", "name"]),
        ({"name": "bad\u202e"}, "INVALID_FORMAT", ["input", "name"]),
    ],
)
async def test_bad_plans_are_refused_and_nothing_is_written(api, db, clock, token_for, change, code, field):
    before = await count_tables(db, ("commission_plan", "outbox"))
    payload = await create_plan(api, await token_for("admin"), plan_input(clock, **change))
    assert payload["plan"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]][:1] == [(code, field)], payload
    assert await count_tables(db, ("commission_plan", "outbox")) == before


async def test_overlapping_plans_of_one_scope_are_refused_but_consecutive_ones_are_not(api, db, clock, token_for):
    admin = await token_for("admin")
    month_later = clock.now() + timedelta(days=30)
    first = await create_plan(api, admin, plan_input(clock, effectiveTo=iso(month_later)))
    assert first["errors"] == []
    overlap = await create_plan(api, admin, plan_input(clock, effectiveFrom=iso(clock.now() + timedelta(days=3))))
    assert overlap["errors"][0]["code"] == "PLAN_OVERLAP"
    following = await create_plan(api, admin, plan_input(clock, effectiveFrom=iso(month_later)))
    assert following["errors"] == []
    past = await create_plan(
        api, admin, plan_input(clock, "LIVESTREAM", effectiveFrom=iso(clock.now() - timedelta(hours=1)))
    )
    assert past["errors"][0]["code"] == "INVALID_PERIOD"
    refused = await api(
        "mutation($i: CommissionPlanCreateInput!) { commissionPlanCreate(input: $i) { errors { code } } }",
        {"i": plan_input(clock, "LIVESTREAM")},
        await token_for("ops"),
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await count_tables(db, ("commission_plan",)) == {"commission_plan": 2}


async def test_a_plan_changed_after_payment_never_re_prices_the_order(api, db, world, clock, token_for):
    await standard_plans(api, token_for, clock)
    await livestream_sale(api, db, world, clock, token_for)
    await drain(api)
    clock.advance(hours=1)
    admin = await token_for("admin")
    plans = (await api.data("query { commissionPlans { id scope } }", token=admin))["commissionPlans"]
    live = next(p["id"] for p in plans if p["scope"] == "LIVESTREAM")
    end = """mutation($i: CommissionPlanEndInput!) {
  commissionPlanEnd(input: $i) { plan { effectiveTo } errors { code } } }"""
    ended = (await api.data(end, {"i": {"planId": live, "effectiveTo": iso(clock.now())}}, admin))["commissionPlanEnd"]
    assert ended["errors"] == []
    await drain(api)
    from server.domains.ledger.models import OrderAttribution
    from tests.server.assertions import fetch

    (attribution,) = await fetch(db, OrderAttribution)
    (plan,) = attribution.journey["plans"].values()
    assert plan["rateBasisPoints"] == 1000 and plan["shares"] == {"GUIDE": 7000, "LIVESTREAM_TEAM": 3000}


async def test_the_commission_export_is_the_months_ledger_sums(api, db, world, clock, token_for, tmp_path):
    await standard_plans(api, token_for, clock)
    await livestream_sale(api, db, world, clock, token_for)
    await drain(api)
    out = tmp_path / "commissions.csv"
    url = db.engine.url.render_as_string(hide_password=False)
    result = subprocess.run(
        [sys.executable, "-m", "server.cli", "export", "commissions", "--period", month(clock), "--output", str(out)],
        cwd=ROOT,
        env={**os.environ, "IRS_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    by_kind = {row["beneficiary_kind"]: row for row in rows}
    assert by_kind["GUIDE"]["name"] == "Sh.Guide" and by_kind["GUIDE"]["commission_fen"] == "12460"
    assert by_kind["LIVESTREAM_TEAM"]["credited_revenue_fen"] == "53400" and by_kind["GUIDE"]["orders"] == "1"
    bad = subprocess.run(
        [sys.executable, "-m", "server.cli", "export", "commissions", "--period", "2026-12-01"],
        cwd=ROOT,
        env={**os.environ, "IRS_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode != 0 and "YYYY-MM" in bad.stderr
