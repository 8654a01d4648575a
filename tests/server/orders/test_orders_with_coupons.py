"""Coupons in orders: priced on the server, spread over the lines exactly, redeemed once at payment; the
booking completes when she pays; orderPaid reaches the store live; who reads which orders."""

from __future__ import annotations

import asyncio

from hypothesis import given
from hypothesis import strategies as st

from server.domains.bookings.models import Booking
from server.domains.coupons.models import Coupon
from server.domains.orders.models import OrderCoupon, OrderLine, SalesOrder
from server.domains.tasks.models import Task
from tests.server.assertions import assert_user_error, fetch
from tests.server.bookings.helpers import customer
from tests.server.coupons.helpers import add_livestream, claim, create_campaign

from .conftest import stock
from .test_orders_api import CREATE, PAY, order_input

STORE_ORDERS = """query($store: ID!, $status: OrderStatus) { storeOrders(storeId: $store, status: $status) {
  totalCount edges { node { number status total { amount } customer { masked } } } } }"""
MY_ORDERS = "{ myOrders { totalCount edges { node { number status } } } }"


async def coupon_for(api, db, world, token_for, clock, shopper_token, **campaign) -> str:
    livestream = await add_livestream(db, world, clock)
    made = await create_campaign(api, await token_for("ops"), world, livestream, clock, **campaign)
    return (await claim(api, shopper_token, made["id"]))["coupon"]["code"]


def two_lines(world) -> list[dict]:
    return [
        {"skuId": world.gid("Sku", "sku:serum"), "quantity": 1},  # 890.00
        {"skuId": world.gid("Sku", "sku:lip-red"), "quantity": 2},  # 2 × 320.00
    ]


async def test_a_coupon_is_priced_on_the_server_spread_exactly_and_redeemed_at_payment(
    api, db, world, token_for, clock, shopper
):
    await stock(db, world, 5)
    await stock(db, world, 5, sku="sku:lip-red")
    code = await coupon_for(
        api, db, world, token_for, clock, shopper[0], discount={"kind": "FIXED", "amountOff": {"amount": 10001}}
    )
    guide = await token_for("sh.guide")
    order = (
        await api.data(CREATE, {"input": order_input(world, shopper[1], *two_lines(world), couponCodes=[code])}, guide)
    )["orderCreate"]["order"]
    assert (order["subtotal"]["amount"], order["discount"]["amount"], order["total"]["amount"]) == (
        153000,
        10001,
        142999,
    )
    assert sum(line["total"]["amount"] for line in order["lines"]) == 142999
    (coupon,) = await fetch(db, Coupon, code=code)
    assert coupon.status == "ISSUED"  # not before payment
    paid = (await api.data(PAY, {"input": {"orderId": order["id"], "method": "CASH"}}, guide))["orderPay"]
    assert paid["order"]["status"] == "PAID"
    (coupon,) = await fetch(db, Coupon, code=code)
    assert (coupon.status, coupon.redeemed_store_id) == ("REDEEMED", world.ids["shanghai"])
    (used,) = await fetch(db, OrderCoupon)
    assert sum(used.line_discounts.values()) == 10001


async def test_a_coupon_redeemed_by_one_order_cannot_pay_another(api, db, world, token_for, clock, shopper):
    await stock(db, world, 5)
    code = await coupon_for(api, db, world, token_for, clock, shopper[0])
    guide = await token_for("sh.guide")
    orders = [
        (await api.data(CREATE, {"input": order_input(world, shopper[1], couponCodes=[code])}, guide))["orderCreate"][
            "order"
        ]
        for _ in range(2)
    ]

    async def pay(order) -> str:
        payload = (await api.data(PAY, {"input": {"orderId": order["id"], "method": "CASH"}}, guide))["orderPay"]
        return payload["errors"][0]["code"] if payload["errors"] else "PAID"

    outcomes = await asyncio.gather(*(pay(order) for order in orders))
    assert sorted(outcomes) == ["COUPON_ALREADY_REDEEMED", "PAID"]
    statuses = sorted(row.status for row in await fetch(db, SalesOrder))
    assert statuses == ["PAID", "PENDING_PAYMENT"]
    third = (await api.data(CREATE, {"input": order_input(world, shopper[1], couponCodes=[code])}, guide))[
        "orderCreate"
    ]
    assert_user_error(third, "COUPON_ALREADY_REDEEMED", ["input", "couponCodes", "0"], "order")


async def test_an_in_store_only_coupon_is_refused_online_and_another_customers_is_not_found(
    api, db, world, token_for, clock, shopper
):
    await stock(db, world, 5)
    code = await coupon_for(api, db, world, token_for, clock, shopper[0], channel="IN_STORE_ONLY")
    online = {
        "storeId": world.gid("Store", "shanghai"),
        "lines": [{"skuId": world.gid("Sku", "sku:serum"), "quantity": 1, "fulfillment": "PICKUP_IN_STORE"}],
        "couponCodes": [code],
    }
    refused = (await api.data(CREATE, {"input": online}, shopper[0]))["orderCreate"]
    assert_user_error(refused, "COUPON_WRONG_CHANNEL", ["input", "couponCodes", "0"], "order")
    _, someone_else = await customer(api, "13900000099")
    guide = await token_for("sh.guide")
    theirs = (await api.data(CREATE, {"input": order_input(world, someone_else, couponCodes=[code])}, guide))[
        "orderCreate"
    ]
    assert_user_error(theirs, "COUPON_NOT_FOUND", ["input", "couponCodes", "0"], "order")
    assert await fetch(db, SalesOrder) == []


async def test_paying_completes_her_booking_and_reception(api, db, world, token_for, clock, shopper):
    from tests.server.bookings.helpers import SHANGHAI, give_shifts, next_local

    await stock(db, world, 5)
    await give_shifts(db, world)
    slot = next_local(clock, 0, 15)
    book = (
        """mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { id } errors { code } } }"""
    )
    made = (
        await api.data(
            book, {"input": {"storeId": world.gid("Store", "shanghai"), "slotStart": slot.isoformat()}}, shopper[0]
        )
    )["bookingCreate"]
    assert made["errors"] == [], made
    assert SHANGHAI
    guide = await token_for("sh.guide")
    given_order = order_input(world, shopper[1], bookingId=made["booking"]["id"])
    order = (await api.data(CREATE, {"input": given_order}, guide))["orderCreate"]["order"]
    await api.data(PAY, {"input": {"orderId": order["id"], "method": "CASH"}}, guide)
    (booking,) = await fetch(db, Booking)
    assert booking.status == "COMPLETED" and booking.completed_at is not None
    (task,) = await fetch(db, Task)
    assert task.status == "DONE"


async def test_a_booking_of_another_store_or_customer_is_refused(api, db, world, token_for, clock, shopper):
    await stock(db, world, 5)
    guide = await token_for("sh.guide")
    given_order = order_input(world, shopper[1], bookingId="Qm9va2luZzo5OTk5OTk=")
    refused = (await api.data(CREATE, {"input": given_order}, guide))["orderCreate"]
    assert_user_error(refused, "WRONG_BOOKING", ["input", "bookingId"], "order")


async def test_store_orders_for_its_staff_and_hq_and_my_orders_for_her(api, db, world, token_for, shopper):
    await stock(db, world, 5)
    guide = await token_for("sh.guide")
    order = (await api.data(CREATE, {"input": order_input(world, shopper[1])}, guide))["orderCreate"]["order"]
    await api.data(PAY, {"input": {"orderId": order["id"], "method": "CASH"}}, guide)
    variables = {"store": world.gid("Store", "shanghai"), "status": "PAID"}
    for username in ("sh.guide", "sh.manager", "admin", "analyst"):
        found = (await api.data(STORE_ORDERS, variables, await token_for(username)))["storeOrders"]
        assert found["totalCount"] == 1, username
    analyst_view = (await api.data(STORE_ORDERS, variables, await token_for("analyst")))["storeOrders"]
    assert analyst_view["edges"][0]["node"]["customer"]["masked"] is True
    body = await api(STORE_ORDERS, variables, await token_for("bj.guide"))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    mine = (await api.data(MY_ORDERS, {}, shopper[0]))["myOrders"]
    assert mine["edges"][0]["node"]["status"] == "PAID"
    other, _ = await customer(api, "13900000098")
    assert (await api.data(MY_ORDERS, {}, other))["myOrders"]["totalCount"] == 0
    hidden = await api.data("query($id: ID!) { order(id: $id) { number } }", {"id": order["id"]}, other)
    assert hidden["order"] is None


@given(
    amounts=st.lists(st.integers(0, 10**8), min_size=1, max_size=8),
    discount=st.integers(0, 10**9),
)
def test_an_orders_line_totals_sum_to_its_total_whatever_the_discount(amounts, discount):
    from server.domains.coupons.models import DiscountKind
    from server.domains.coupons.pricing import CartLine, Terms, discounts

    lines = [CartLine(key=i, product_id=1, category_id=1, amount=a) for i, a in enumerate(amounts)]
    (applied,) = discounts(lines, [Terms(campaign_id=1, kind=DiscountKind.FIXED, amount_off=discount)])
    line_totals = [line.amount - applied.line_discounts.get(line.key, 0) for line in lines]
    assert sum(line_totals) == sum(amounts) - applied.amount
    assert all(total >= 0 for total in line_totals)


async def test_order_lines_are_stored_with_their_discount_shares(api, db, world, token_for, clock, shopper):
    await stock(db, world, 5)
    await stock(db, world, 5, sku="sku:lip-red")
    code = await coupon_for(
        api,
        db,
        world,
        token_for,
        clock,
        shopper[0],
        discount={"kind": "PERCENT", "percentOff": 15, "maxDiscount": {"amount": 100000}},
    )
    guide = await token_for("sh.guide")
    await api.data(CREATE, {"input": order_input(world, shopper[1], *two_lines(world), couponCodes=[code])}, guide)
    lines = await fetch(db, OrderLine)
    (order,) = await fetch(db, SalesOrder)
    assert order.discount == 153000 * 15 // 100
    assert sum(line.total for line in lines) == order.total == order.subtotal - order.discount


async def test_an_order_that_lost_its_coupon_to_another_drops_it_and_pays(api, db, world, token_for, clock, shopper):
    await stock(db, world, 5)
    code = await coupon_for(api, db, world, token_for, clock, shopper[0])
    guide = await token_for("sh.guide")
    apply = """mutation($input: OrderApplyCouponsInput!) { orderApplyCoupons(input: $input) {
      order { total { amount } discount { amount } coupons { code } } errors { code field } } }"""
    first, second = [
        (await api.data(CREATE, {"input": order_input(world, shopper[1], couponCodes=[code])}, guide))["orderCreate"][
            "order"
        ]
        for _ in range(2)
    ]
    await api.data(PAY, {"input": {"orderId": first["id"], "method": "CASH"}}, guide)
    refused = (await api.data(PAY, {"input": {"orderId": second["id"], "method": "CASH"}}, guide))["orderPay"]
    assert refused["errors"][0]["code"] == "COUPON_ALREADY_REDEEMED"
    again = (await api.data(apply, {"input": {"orderId": second["id"], "couponCodes": [code]}}, guide))[
        "orderApplyCoupons"
    ]
    assert_user_error(again, "COUPON_ALREADY_REDEEMED", ["input", "couponCodes", "0"], "order")
    dropped = (await api.data(apply, {"input": {"orderId": second["id"], "couponCodes": []}}, guide))[
        "orderApplyCoupons"
    ]
    assert dropped["order"] == {"total": {"amount": 178000}, "discount": {"amount": 0}, "coupons": []}
    paid = (await api.data(PAY, {"input": {"orderId": second["id"], "method": "CASH"}}, guide))["orderPay"]
    assert paid["order"]["status"] == "PAID"
