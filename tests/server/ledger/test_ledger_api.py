"""The performance engine through GraphQL: a paid order is attributed and credited by plan, refunds
reverse it, statements and leaderboards are the ledger's sums, closed periods never change."""

from __future__ import annotations

import sqlalchemy as sa

from server.domains.ledger.models import LedgerEntry, OrderAttribution
from server.outbox import OutboxMessage, OutboxReceipt
from tests.server.assertions import count_tables, fetch
from tests.world import gid

from .helpers import (
    ATTRIBUTION,
    BOARD,
    STATEMENT,
    drain,
    later,
    livestream_sale,
    month,
    refund,
    sell,
    standard_plans,
)

LEDGER_TABLES = ("ledger_entry", "order_attribution", "commission_plan", "ledger_period")


async def sums(db) -> dict[tuple[str, int], tuple[int, int]]:
    found: dict[tuple[str, int], tuple[int, int]] = {}
    for entry in await fetch(db, LedgerEntry):
        revenue, commission = found.get((entry.beneficiary_kind, entry.beneficiary_id), (0, 0))
        found[(entry.beneficiary_kind, entry.beneficiary_id)] = (revenue + entry.revenue, commission + entry.commission)
    return found


async def test_a_livestream_sale_is_split_70_30_with_commission_and_frozen_on_the_order(
    api, db, world, clock, token_for
):
    await standard_plans(api, token_for, clock)
    sale = await livestream_sale(api, db, world, clock, token_for)
    assert await drain(api) == 1
    guide, team = ("GUIDE", world.ids["sh.guide"]), ("LIVESTREAM_TEAM", world.ids["team"])
    assert await sums(db) == {guide: (124600, 12460), team: (53400, 5340)}  # ¥1,780 at 10 %

    node = (await api.data(ATTRIBUTION, {"id": sale["order"]["id"]}, await token_for("sh.manager")))["node"]
    attribution = node["attribution"]
    assert attribution["livestreamId"] == gid("Livestream", sale["livestream"])
    assert attribution["teamId"] == gid("Team", world.ids["team"])
    assert attribution["guideId"] == gid("StaffUser", world.ids["sh.guide"])
    assert attribution["bookingId"] == sale["booking"] and attribution["referred"] is False
    assert (attribution["model"], attribution["windowDays"]) == ("LAST_TOUCH_LIVESTREAM", 7)
    assert attribution["touches"][0]["type"] == "BOOKING"
    (line,) = attribution["lines"]
    assert line["rateBasisPoints"] == 1000
    assert {s["participant"]: s["basisPoints"] for s in line["shares"]} == {"GUIDE": 7000, "LIVESTREAM_TEAM": 3000}
    assert sorted(e["revenue"]["amount"] for e in node["commissionEntries"]) == [53400, 124600]
    other_store = (await api.data(ATTRIBUTION, {"id": sale["order"]["id"]}, await token_for("bj.manager")))["node"]
    assert other_store is None or other_store["attribution"] is None

    assert await drain(api) == 0  # handled once
    (receipt,) = await fetch(db, OutboxReceipt)
    assert receipt.consumer == "ledger" and receipt.outcome is None


async def test_a_sale_without_livestream_goes_to_the_guide_under_the_default_plan(api, db, world, clock, token_for):
    await standard_plans(api, token_for, clock)
    sale = await livestream_sale(api, db, world, clock, token_for)
    await drain(api)
    from tests.server.bookings.helpers import customer

    _, walk_in = await customer(api, "13900000002")
    await sell(api, world, token_for, walk_in, 1)
    await drain(api)
    (attribution,) = [a for a in await fetch(db, OrderAttribution) if a.booking_id is None]
    assert attribution.livestream_id is None and attribution.guide_id == world.ids["sh.guide"]
    entries = [e for e in await fetch(db, LedgerEntry) if e.order_id == attribution.order_id]
    assert [(e.beneficiary_kind, e.revenue, e.commission) for e in entries] == [("GUIDE", 89000, 4450)]
    assert sale  # the livestream sale stays as it was


async def test_refunds_reverse_proportionally_and_a_full_refund_nets_everyone_to_zero(api, db, world, clock, token_for):
    await standard_plans(api, token_for, clock)
    sale = await livestream_sale(api, db, world, clock, token_for, units=3)
    await drain(api)
    await refund(api, token_for, sale["order"], 1)
    assert await drain(api) == 1
    guide, team = ("GUIDE", world.ids["sh.guide"]), ("LIVESTREAM_TEAM", world.ids["team"])
    after_one = await sums(db)
    assert after_one[guide][0] + after_one[team][0] == 267000 - 89000
    assert after_one[guide] == (186900 - 62300, 18690 - 6230)
    await refund(api, token_for, sale["order"], 2)
    await drain(api)
    assert await sums(db) == {guide: (0, 0), team: (0, 0)}
    reversals = [e for e in await fetch(db, LedgerEntry) if e.kind == "REVERSAL"]
    assert len(reversals) == 4 and all(e.revenue <= 0 for e in reversals)


async def test_leaderboards_and_statements_are_the_ledger_sums(api, db, world, clock, token_for):
    await standard_plans(api, token_for, clock)
    await livestream_sale(api, db, world, clock, token_for)
    await drain(api)
    period = month(clock)
    guide = await token_for("sh.guide")
    board = (await api.data(BOARD, {"scope": "GUIDE", "period": period, "first": 10}, guide))["leaderboard"]
    assert board["total"] == 1 and board["entries"][0]["creditedRevenue"]["amount"] == 124600
    assert board["entries"][0]["isMe"] is True and board["me"]["rank"] == 1
    stores = (await api.data(BOARD, {"scope": "STORE", "period": period, "first": 10}, guide))["leaderboard"]
    assert stores["entries"][0]["creditedRevenue"]["amount"] == 178000 and stores["me"]["rank"] == 1
    city = await api.data(BOARD, {"scope": "CITY", "period": period, "city": "北京", "first": 5}, guide)
    assert city["leaderboard"]["total"] == 0
    team = await api.data(BOARD, {"scope": "TEAM", "period": period, "first": 5}, await token_for("ops"))
    assert team["leaderboard"]["entries"][0]["commission"]["amount"] == 5340

    variables = {"kind": "GUIDE", "id": gid("StaffUser", world.ids["sh.guide"]), "period": period}
    statement = (await api.data(STATEMENT, variables, guide))["commissionStatement"]
    assert statement["commission"]["amount"] == 12460 and statement["entryCount"] == 1
    assert statement["closed"] is False
    other = await api(STATEMENT, variables, await token_for("bj.guide"))
    assert other["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    manager = await api.data(STATEMENT, variables, await token_for("sh.manager"))
    assert manager["commissionStatement"]["accrued"]["amount"] == 12460


async def test_a_closed_period_never_changes_and_late_refunds_land_in_the_open_one(api, db, world, clock, token_for):
    await standard_plans(api, token_for, clock)
    sale = await livestream_sale(api, db, world, clock, token_for)
    await drain(api)
    first_month = month(clock)
    close = (
        "mutation($p: String!) { periodClose(input: {period: $p}) { period { period closed } errors { code field } } }"
    )
    admin = await token_for("admin")
    early = (await api.data(close, {"p": first_month}, admin))["periodClose"]
    assert early["errors"][0]["code"] == "PERIOD_NOT_OVER"
    later(clock, days=40)
    admin = await token_for("admin")
    assert (await api.data(close, {"p": first_month}, admin))["periodClose"]["period"]["closed"] is True
    again = (await api.data(close, {"p": first_month}, admin))["periodClose"]
    assert again["errors"][0]["code"] == "PERIOD_CLOSED"
    before = [(e.id, e.period, e.revenue) for e in await fetch(db, LedgerEntry)]
    await refund(api, token_for, sale["order"], 2)
    await drain(api)
    entries = await fetch(db, LedgerEntry)
    assert [(e.id, e.period, e.revenue) for e in entries if e.kind == "ACCRUAL"] == before
    assert {e.period for e in entries if e.kind == "REVERSAL"} == {month(clock)}
    for bad in ("2026-13", "12-2026", "x" * 2000, "２０２６-１２"):
        refused = (await api.data(close, {"p": bad}, admin))["periodClose"]
        assert refused["errors"][0]["code"] == "INVALID_FORMAT"
    forbidden = await api(close, {"p": first_month}, await token_for("sh.manager"))
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_refund_event_for_an_order_never_credited_writes_nothing(api, db, world, clock, token_for):
    sale = await livestream_sale(api, db, world, clock, token_for)
    async with db.writer() as session:  # the order was paid before the ledger existed: its PAID is gone
        await session.exec(sa.delete(OutboxMessage).where(OutboxMessage.event == "PAID"))
        await session.commit()
    await refund(api, token_for, sale["order"], 1)
    before = await count_tables(db, ("ledger_entry", "order_attribution"))
    assert await drain(api) == 1
    assert await count_tables(db, ("ledger_entry", "order_attribution")) == before
    (receipt,) = await fetch(db, OutboxReceipt)
    assert receipt.outcome == "ORDER_NOT_CREDITED"
