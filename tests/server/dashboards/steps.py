"""Steps of the dashboard tests: a livestream with bookings from two cities, a visit checked in and paid."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from tests.live_server import LiveServer
from tests.server.bookings.helpers import BOOK, CUSTOMER_LOGIN, arrive, booking_input, give_shifts, next_local
from tests.server.bookings.test_booking_feed import create_livestream
from tests.server.orders.conftest import stock
from tests.server.orders.test_orders_api import CREATE, PAY, order_input
from tests.world import login

MONDAY = 0
HOUR = timedelta(hours=1)
CHECK_IN = """mutation($input: BookingCheckInInput!) { bookingCheckIn(input: $input) { errors { code } } }"""
CANCEL = """mutation($input: BookingCancelInput!) { bookingCancel(input: $input) { errors { code } } }"""
DASHBOARD = """subscription($l: ID!) { liveDashboard(livestreamId: $l) {
  livestreamId sequence at bookings cancelled checkedIn noShows
  bookingsByCity { city bookings } topStores { storeId name city bookings } bookingsPerMinute { minute bookings }
  paidOrders gmv { amount currency } refunded { amount } payingVisits arrivalRate purchaseRate } }"""


@dataclass
class Customer:
    token: str
    id: str


async def customer_on(server: LiveServer, phone: str) -> Customer:
    session = (await server.graphql(CUSTOMER_LOGIN, {"phone": phone}))["customerLogin"]["session"]
    return Customer(session["accessToken"], session["viewer"]["id"])


async def book(server: LiveServer, who: Customer, world, slot, **extra) -> str:
    payload = (await server.graphql(BOOK, {"input": booking_input(world, slot, **extra)}, who.token))["bookingCreate"]
    assert payload["errors"] == [], payload
    return payload["booking"]["id"]


async def sell_and_pay(server: LiveServer, world, guide: str, who: Customer, booking_id: str) -> dict:
    """A guide sells two serums (¥1,780.00) on the visit of ``booking_id`` and takes cash; the order."""
    given = order_input(world, who.id, bookingId=booking_id)
    created = (await server.graphql(CREATE, {"input": given}, guide))["orderCreate"]
    assert created["errors"] == [], created
    paid = await server.graphql(PAY, {"input": {"orderId": created["order"]["id"], "method": "CASH"}}, guide)
    assert paid["orderPay"]["errors"] == [], paid
    return paid["orderPay"]["order"]


@dataclass
class LivestreamDay:
    livestream: str
    other_livestream: str
    slot: object


async def livestream_day(server: LiveServer, db, world, clock) -> LivestreamDay:
    """Four bookings from the livestream (Shanghai 2, Beijing 1, one cancelled), one from another and one
    direct; the first Shanghai visitor checked in and bought two serums. Free later: slot + 1 h, + 6 h."""
    await give_shifts(db, world, "bj.guide")
    await stock(db, world, 10)
    ops = await login_on(server, "ops")
    watched = await create_livestream(server, world, ops, "双十一直播", clock)
    other = await create_livestream(server, world, ops, "新品发布", clock)
    slot = next_local(clock, MONDAY, 15)
    shoppers = [await customer_on(server, f"1381234567{n}") for n in range(6)]
    beijing = {"storeId": world.gid("Store", "beijing")}
    visit = await book(server, shoppers[0], world, slot, livestreamId=watched)  # one seat a slot: one guide on shift
    await book(server, shoppers[1], world, slot + HOUR * 2, livestreamId=watched)
    await book(server, shoppers[2], world, slot, livestreamId=watched, **beijing)
    dropped = await book(server, shoppers[3], world, slot + HOUR * 3, livestreamId=watched)
    await book(server, shoppers[4], world, slot + HOUR * 4, livestreamId=other)
    await book(server, shoppers[5], world, slot + HOUR * 5)
    cancelled = (await server.graphql(CANCEL, {"input": {"id": dropped}}, shoppers[3].token))["bookingCancel"]
    assert cancelled["errors"] == []
    arrive(clock, slot)
    guide = await login_on(server, "sh.guide")
    checked = (await server.graphql(CHECK_IN, {"input": {"bookingId": visit}}, guide))["bookingCheckIn"]
    assert checked["errors"] == []
    await sell_and_pay(server, world, guide, shoppers[0], visit)
    return LivestreamDay(watched, other, slot)


async def login_on(server: LiveServer, username: str) -> str:
    """A staff member's access token, signed in at the test clock's time."""

    class Calls:
        async def data(self, query, variables=None, token=None):
            return await server.graphql(query, variables, token)

    return await login(Calls(), username)
