"""performance(): credit from the ledger, sales from the frozen attributions, visits from bookings."""

from __future__ import annotations

from tests.server.bookings.helpers import arrive, book, customer, give_shifts, next_local
from tests.server.coupons.helpers import add_livestream
from tests.server.orders.conftest import stock
from tests.server.social.test_ugc import SUBMIT
from tests.world import gid

from .helpers import drain, month, sell, standard_plans

PERFORMANCE = """query($scope: PerformanceScope, $id: ID, $period: String!) {
  performance(scope: $scope, id: $id, period: $period) {
    scope period creditedRevenue { amount } commission { amount } orders gmv { amount }
    averageOrderValueBooked { amount } averageOrderValueOthers { amount } aovUpliftPercent
    bookings checkIns noShows arrivalRate purchaseRate acknowledgementSecondsP50 acknowledgementSecondsP90
    slaBreaches ugcPosts } }"""
TASKS = "query { myTaskList(first: 10) { edges { node { id booking { id } } } } }"
ACK = "mutation($id: ID!) { taskAcknowledge(id: $id) { task { status } errors { code } } }"
CHECK_IN = """mutation($input: BookingCheckInInput!) {
  bookingCheckIn(input: $input) { booking { status } errors { code } } }"""


async def visit_and_buy(api, db, world, clock, token_for) -> None:
    """Two livestream bookings: one acknowledged after 2 minutes, checked in and buying 2 serums; the other
    never comes. A walk-in buys 1."""
    await give_shifts(db, world)
    await stock(db, world, 20)
    livestream = gid("Livestream", await add_livestream(db, world, clock))
    slot = next_local(clock, 0, 15)
    buyer_token, buyer = await customer(api, "13900000001")
    first = (await book(api, buyer_token, world, slot, livestreamId=livestream))["booking"]["id"]
    other_token, _ = await customer(api, "13900000002")
    other = await book(api, other_token, world, next_local(clock, 0, 16), livestreamId=livestream)
    assert other["errors"] == [], other
    clock.advance(minutes=2)
    guide = await token_for("sh.guide")
    tasks = (await api.data(TASKS, token=guide))["myTaskList"]["edges"]
    task = next(e["node"]["id"] for e in tasks if e["node"]["booking"]["id"] == first)
    assert (await api.data(ACK, {"id": task}, guide))["taskAcknowledge"]["errors"] == []
    arrive(clock, slot)
    guide = await token_for("sh.guide")
    assert (await api.data(CHECK_IN, {"input": {"bookingId": first}}, guide))["bookingCheckIn"]["errors"] == []
    await sell(api, world, token_for, buyer, 2, bookingId=first)
    share = {"platform": "WEIBO", "url": "https://weibo.com/1/abc", "bookingId": first}
    shared = await api.data(SUBMIT, {"input": share}, (await customer(api, "13900000001"))[0])
    assert shared["ugcSubmit"]["errors"] == []
    _, walk_in = await customer(api, "13900000003")
    await sell(api, world, token_for, walk_in, 1)
    await drain(api)


async def test_a_store_month_has_credit_sales_visits_and_rates(api, db, world, clock, token_for):
    await standard_plans(api, token_for, clock)
    await visit_and_buy(api, db, world, clock, token_for)
    variables = {"scope": "STORE", "id": world.gid("Store", "shanghai"), "period": month(clock)}
    found = (await api.data(PERFORMANCE, variables, await token_for("sh.manager")))["performance"]
    assert found["creditedRevenue"]["amount"] == 178000 + 89000 and found["orders"] == 2
    assert found["commission"]["amount"] == 17800 + 4450
    assert found["gmv"]["amount"] == 267000
    assert (found["averageOrderValueBooked"]["amount"], found["averageOrderValueOthers"]["amount"]) == (178000, 89000)
    assert found["aovUpliftPercent"] == 100.0
    assert (found["bookings"], found["checkIns"], found["noShows"]) == (2, 1, 0)
    assert (found["arrivalRate"], found["purchaseRate"]) == (0.5, 1.0)
    assert found["acknowledgementSecondsP50"] == 120.0
    assert found["ugcPosts"] == 1


async def test_a_guide_sees_her_own_figures_and_not_a_colleagues(api, db, world, clock, token_for):
    await standard_plans(api, token_for, clock)
    await visit_and_buy(api, db, world, clock, token_for)
    guide = await token_for("sh.guide")
    mine = {"scope": "GUIDE", "id": world.gid("StaffUser", "sh.guide"), "period": month(clock)}
    found = (await api.data(PERFORMANCE, mine, guide))["performance"]
    assert found["creditedRevenue"]["amount"] == 124600 + 89000  # 70 % of the livestream sale, all the walk-in
    assert (found["bookings"], found["checkIns"], found["ugcPosts"]) == (2, 1, 1)
    refused = await api(PERFORMANCE, mine, await token_for("bj.guide"))
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    brand = (await api.data(PERFORMANCE, {"period": month(clock)}, await token_for("analyst")))["performance"]
    assert brand["gmv"]["amount"] == 267000 and brand["scope"] is None
    team = {"scope": "TEAM", "id": world.gid("Team", "team"), "period": month(clock)}
    assert (await api.data(PERFORMANCE, team, await token_for("ops")))["performance"]["commission"]["amount"] == 5340


async def test_bad_performance_arguments_are_clear_errors(api, world, clock, token_for):
    analyst = await token_for("analyst")
    for variables in (
        {"scope": "STORE", "period": "2026-12"},  # no id
        {"scope": "STORE", "id": world.gid("Store", "shanghai"), "period": "December"},
        {"id": world.gid("Store", "shanghai"), "period": "2026-12"},  # an id without scope
        {"scope": "CITY", "id": "x" * 65, "period": "2026-12"},
        {"scope": "STORE", "id": gid("Store", 2**40), "period": "2026-12"},
    ):
        body = await api(PERFORMANCE, variables, analyst)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", (variables, body)
    customer_token, _ = await customer(api, "13900000009")
    body = await api(PERFORMANCE, {"period": "2026-12"}, customer_token)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
