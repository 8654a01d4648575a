"""Steps of the ledger tests: plans, a livestream booking sold at the store, the ledger drained."""

from __future__ import annotations

from datetime import timedelta

from tests.server.bookings.helpers import book, customer, give_shifts, iso, next_local
from tests.server.coupons.helpers import add_livestream
from tests.server.orders.conftest import stock
from tests.world import gid

ERRORS = "errors { code field message }"
PLAN = (
    "id name scope scopeId shares { participant basisPoints } rateBasisPoints categoryRates { categoryId basisPoints }"
)
PLAN_CREATE = f"""mutation($input: CommissionPlanCreateInput!) {{ commissionPlanCreate(input: $input) {{
  plan {{ {PLAN} }} {ERRORS} }} }}"""
ORDER_CREATE = """mutation($input: OrderCreateInput!) { orderCreate(input: $input) {
  order { id total { amount } lines { id total { amount } } } errors { code field message } } }"""
PAY = """mutation($input: OrderPayInput!) { orderPay(input: $input) { order { id status } errors { code } } }"""
REFUND = """mutation($input: OrderRefundInput!) { orderRefund(input: $input) {
  refund { amount { amount } } errors { code field message } } }"""
ATTRIBUTION = """query($id: ID!) { node(id: $id) { ... on Order {
  attribution { livestreamId teamId guideId storeId bookingId referred model windowDays touches { livestreamId type }
                lines { lineId planId rateBasisPoints shares { participant basisPoints } } }
  commissionEntries { kind beneficiaryKind beneficiaryId revenue { amount } commission { amount } period } } } }"""
BOARD = """query($scope: PerformanceScope!, $period: String!, $store: ID, $city: String, $first: Int!) {
  leaderboard(scope: $scope, period: $period, storeId: $store, city: $city, first: $first) {
    scope period total entries { rank id name creditedRevenue { amount } commission { amount } orders isMe }
    me { rank id creditedRevenue { amount } } } }"""
STATEMENT = """query($kind: CommissionParticipant!, $id: ID!, $period: String!) {
  commissionStatement(beneficiaryKind: $kind, beneficiaryId: $id, period: $period) {
    period closed creditedRevenue { amount } commission { amount } accrued { amount } reversed { amount }
    entryCount entries { kind revenue { amount } commission { amount } } } }"""


def shares(**points: int) -> list[dict]:
    return [{"participant": participant, "basisPoints": value} for participant, value in points.items()]


def plan_input(clock, scope: str = "DEFAULT", **more) -> dict:
    return {
        "name": f"{scope} plan",
        "scope": scope,
        "effectiveFrom": iso(clock.now()),
        "shares": shares(GUIDE=10000),
        "rateBasisPoints": 500,
        **more,
    }


async def create_plan(api, token, given: dict) -> dict:
    return (await api.data(PLAN_CREATE, {"input": given}, token))["commissionPlanCreate"]


async def standard_plans(api, token_for, clock) -> None:
    """GUIDE 70 % / LIVESTREAM_TEAM 30 % at 10 % for livestream sales, GUIDE 100 % at 5 % otherwise."""
    admin = await token_for("admin")
    live = plan_input(clock, "LIVESTREAM", shares=shares(GUIDE=7000, LIVESTREAM_TEAM=3000), rateBasisPoints=1000)
    for given in (plan_input(clock), live):
        assert (await create_plan(api, admin, given))["errors"] == []


async def livestream_sale(api, db, world, clock, token_for, phone: str = "13900000001", units: int = 2) -> dict:
    """She books from a LIVE livestream; the Shanghai guide sells her ``units`` serums against the booking
    and takes cash. Returns {order, booking, livestream, customer}."""
    await give_shifts(db, world)
    await stock(db, world, 20)
    livestream_id = await add_livestream(db, world, clock)
    token, customer_id = await customer(api, phone)
    slot = next_local(clock, 0, 15)
    booked = await book(api, token, world, slot, livestreamId=gid("Livestream", livestream_id))
    assert booked["errors"] == [], booked
    order = await sell(api, world, token_for, customer_id, units, bookingId=booked["booking"]["id"])
    return {"order": order, "booking": booked["booking"]["id"], "livestream": livestream_id, "customer": customer_id}


async def sell(api, world, token_for, customer_id: str, units: int, **more) -> dict:
    guide = await token_for("sh.guide")
    given = {
        "storeId": world.gid("Store", "shanghai"),
        "customerId": customer_id,
        "lines": [{"skuId": world.gid("Sku", "sku:serum"), "quantity": units}],
        **more,
    }
    created = (await api.data(ORDER_CREATE, {"input": given}, guide))["orderCreate"]
    assert created["errors"] == [], created
    paid = (await api.data(PAY, {"input": {"orderId": created["order"]["id"], "method": "CASH"}}, guide))["orderPay"]
    assert paid["errors"] == [] and paid["order"]["status"] == "PAID", paid
    return created["order"]


async def refund(api, token_for, order: dict, units: int) -> dict:
    given = {
        "orderId": order["id"],
        "lines": [{"lineId": order["lines"][0]["id"], "quantity": units}],
        "reason": "退货",
        "restock": True,
    }
    payload = (await api.data(REFUND, {"input": given}, await token_for("sh.manager")))["orderRefund"]
    assert payload["errors"] == [], payload
    return payload


async def drain(api) -> int:
    return await api.app.state.ledger.drain()


def month(clock) -> str:
    from zoneinfo import ZoneInfo

    return clock.now().astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")


def later(clock, **delta) -> None:
    clock.current = clock.now() + timedelta(**delta)
