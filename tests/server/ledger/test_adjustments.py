"""ledgerAdjust: HQ corrects a credit in an open period; a closed period, an uncredited order or bad
amounts are refused with nothing written."""

from __future__ import annotations

from server.domains.ledger.models import LedgerEntry
from tests.server.assertions import count_tables, fetch
from tests.world import gid

from .helpers import drain, later, livestream_sale, month, standard_plans

ADJUST = """mutation($input: LedgerAdjustInput!) { ledgerAdjust(input: $input) {
  entry { kind beneficiaryKind revenue { amount } commission { amount } period note } errors { code field } } }"""
CLOSE = "mutation($p: String!) { periodClose(input: {period: $p}) { errors { code } } }"


def adjustment(world, order_id: str, **more) -> dict:
    return {
        "beneficiaryKind": "GUIDE",
        "beneficiaryId": gid("StaffUser", world.ids["sh.guide"]),
        "orderId": order_id,
        "commission": {"amount": 500, "currency": "CNY"},
        "note": "陈列奖励",
        **more,
    }


async def test_hq_adjusts_a_credit_in_the_open_period_and_never_in_a_closed_one(api, db, world, clock, token_for):
    await standard_plans(api, token_for, clock)
    sale = await livestream_sale(api, db, world, clock, token_for)
    await drain(api)
    admin = await token_for("admin")
    first_month = month(clock)
    posted = (await api.data(ADJUST, {"input": adjustment(world, sale["order"]["id"])}, admin))["ledgerAdjust"]
    assert posted["errors"] == [] and posted["entry"]["kind"] == "ADJUSTMENT"
    assert posted["entry"]["period"] == first_month and posted["entry"]["note"].startswith("陈列奖励")
    later(clock, days=40)
    admin = await token_for("admin")
    assert (await api.data(CLOSE, {"p": first_month}, admin))["periodClose"]["errors"] == []
    before = await count_tables(db, ("ledger_entry", "outbox"))
    into_closed = adjustment(world, sale["order"]["id"], period=first_month)
    refused = (await api.data(ADJUST, {"input": into_closed}, admin))["ledgerAdjust"]
    assert refused["errors"] == [{"code": "PERIOD_CLOSED", "field": ["input", "period"]}]
    assert await count_tables(db, ("ledger_entry", "outbox")) == before
    current = (await api.data(ADJUST, {"input": adjustment(world, sale["order"]["id"])}, admin))["ledgerAdjust"]
    assert current["entry"]["period"] == month(clock)
    adjustments = [e for e in await fetch(db, LedgerEntry) if e.kind == "ADJUSTMENT"]
    assert [e.period for e in adjustments] == [first_month, month(clock)]


async def test_bad_adjustments_are_refused_with_nothing_written(api, db, world, clock, token_for):
    await standard_plans(api, token_for, clock)
    sale = await livestream_sale(api, db, world, clock, token_for)
    admin = await token_for("admin")
    not_yet = (await api.data(ADJUST, {"input": adjustment(world, sale["order"]["id"])}, admin))["ledgerAdjust"]
    assert not_yet["errors"][0]["code"] == "ORDER_NOT_CREDITED"  # the consumer has not run
    await drain(api)
    order = sale["order"]["id"]
    before = await count_tables(db, ("ledger_entry",))
    for change, code in (
        ({"commission": {"amount": 0, "currency": "CNY"}}, "INVALID_VALUE"),
        ({"commission": {"amount": 500, "currency": "USD"}}, "INVALID_CURRENCY"),
        ({"beneficiaryId": gid("StaffUser", 2**31 - 1)}, "NOT_FOUND"),
        ({"note": ""}, "REQUIRED"),
        ({"period": "2999-01"}, "INVALID_PERIOD"),
        ({"period": "last month"}, "INVALID_FORMAT"),
    ):
        payload = (await api.data(ADJUST, {"input": adjustment(world, order, **change)}, admin))["ledgerAdjust"]
        assert payload["errors"][0]["code"] == code, (change, payload)
    assert await count_tables(db, ("ledger_entry",)) == before
    forbidden = await api(ADJUST, {"input": adjustment(world, order)}, await token_for("sh.manager"))
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
