"""Orders and payments over GraphQL: a guide sells, she pays, stock and her timeline follow."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa

from server.domains.identity.models import CustomerEvent
from server.domains.inventory.models import StockLevel, StockMovement
from server.domains.orders.models import OrderLine, SalesOrder
from server.domains.payments.models import Payment
from server.outbox import OutboxMessage
from tests.server.assertions import assert_forbidden, assert_user_error, count_tables, fetch
from tests.world import gid, login

from .conftest import stock

ERRORS = "errors { code field message }"
ORDER = """id number status channel subtotal { amount } discount { amount } total { amount } refunded { amount }
  pickupCode expiresAt paidAt lines { id name quantity unitPrice { amount } total { amount } fulfillment status
  refundedQuantity sourceLocation { code } sku { code } } payments { method status qrPayload amount { amount } }"""
CREATE = f"""mutation($input: OrderCreateInput!) {{ orderCreate(input: $input) {{ order {{ {ORDER} }} {ERRORS} }} }}"""
PAY = f"""mutation($input: OrderPayInput!) {{ orderPay(input: $input) {{
  order {{ {ORDER} }} payment {{ method status qrPayload terminalReference }} {ERRORS} }} }}"""
CANCEL = f"""mutation($input: OrderIdInput!) {{ orderCancel(input: $input) {{ order {{ status }} {ERRORS} }} }}"""
ADD = f"""mutation($input: OrderAddLineInput!) {{ orderAddLine(input: $input) {{ order {{ {ORDER} }} {ERRORS} }} }}"""
REMOVE = f"""mutation($input: OrderRemoveLineInput!) {{
  orderRemoveLine(input: $input) {{ order {{ {ORDER} }} {ERRORS} }} }}"""
TABLES = ("sales_order", "order_line", "order_coupon", "payment", "stock_movement", "idempotency_record", "outbox")
ADDRESS = {
    "province": "上海市",
    "city": "上海市",
    "district": "静安区",
    "detail": "南京西路 1 号 2 楼",
    "recipient": "王小姐",
    "mobile": "13900000001",
}


def order_input(world, customer_id: str, *lines: dict, **more) -> dict:
    return {
        "storeId": world.gid("Store", "shanghai"),
        "customerId": customer_id,
        "lines": list(lines) or [{"skuId": world.gid("Sku", "sku:serum"), "quantity": 2}],
        **more,
    }


async def level(db, world, sku="sku:serum", location="loc:shanghai") -> tuple[int, int]:
    rows = await fetch(db, StockLevel, sku_id=world.ids[sku], location_id=world.ids[location])
    return (rows[0].on_hand, rows[0].reserved) if rows else (0, 0)


async def create(api, token, given) -> dict:
    return (await api.data(CREATE, {"input": given}, token))["orderCreate"]


async def test_a_guide_sells_takes_cash_and_stock_timeline_and_outbox_follow(api, db, world, token_for, shopper):
    await stock(db, world, 5)
    _, customer_id = shopper
    guide = await token_for("sh.guide")
    created = await create(api, guide, order_input(world, customer_id, idempotencyKey="sale-1"))
    assert created["errors"] == []
    order = created["order"]
    assert (order["status"], order["channel"], order["total"]["amount"]) == ("PENDING_PAYMENT", "IN_STORE", 178000)
    assert order["lines"][0]["fulfillment"] == "TAKE_NOW" and order["lines"][0]["status"] == "RESERVED"
    assert order["lines"][0]["sourceLocation"] == {"code": "STORE-S001"}
    assert await level(db, world) == (5, 2)
    again = await create(api, guide, order_input(world, customer_id, idempotencyKey="sale-1"))
    assert again["order"]["id"] == order["id"] and await level(db, world) == (5, 2)

    paid = (await api.data(PAY, {"input": {"orderId": order["id"], "method": "CASH"}}, guide))["orderPay"]
    assert paid["errors"] == [] and paid["payment"]["status"] == "SUCCEEDED"
    assert paid["order"]["status"] == "PAID" and paid["order"]["lines"][0]["status"] == "COMPLETED"
    assert await level(db, world) == (3, 0)
    (sale,) = await fetch(db, StockMovement, reason="SALE")
    assert (sale.quantity, sale.reference) == (-2, f"order:{paid['order']['number'][2:].lstrip('0')}")
    (purchase,) = await fetch(db, CustomerEvent, type="POS_PURCHASE")
    assert purchase.properties["amount"] == 178000 and purchase.store_id == world.ids["shanghai"]
    events = [(m.topic, m.event) for m in await fetch(db, OutboxMessage) if m.topic.startswith("orders")]
    assert ("orders.all", "PAID") in events and ("orders.store:1", "CREATED") in events


@pytest.mark.parametrize(
    ("line", "code", "field"),
    [
        ({"quantity": 0}, "OUT_OF_RANGE", ["input", "lines", "0", "quantity"]),
        ({"quantity": -1}, "OUT_OF_RANGE", ["input", "lines", "0", "quantity"]),
        ({"quantity": 100}, "OUT_OF_RANGE", ["input", "lines", "0", "quantity"]),
        ({"quantity": 6}, "INSUFFICIENT_STOCK", ["input", "lines", "0", "quantity"]),
        ({"skuId": gid("Sku", 999999)}, "NOT_FOUND", ["input", "lines", "0", "skuId"]),
        ({"fulfillment": "SHIP_TO_HOME"}, "ADDRESS_REQUIRED", ["input", "shippingAddress"]),
        ({"sourceLocationId": "U3RvY2tMb2NhdGlvbjoz"}, "WRONG_SOURCE", ["input", "lines", "0", "sourceLocationId"]),
    ],
)
async def test_bad_lines_are_refused_and_nothing_is_written_or_reserved(
    api, db, world, token_for, shopper, line, code, field
):
    await stock(db, world, 5)
    before = await count_tables(db, TABLES)
    given = order_input(world, shopper[1], {"skuId": world.gid("Sku", "sku:serum"), "quantity": 1, **line})
    assert_user_error(await create(api, await token_for("sh.guide"), given), code, field, "order")
    assert await count_tables(db, TABLES) == before and await level(db, world) == (5, 0)


async def test_an_inactive_sku_is_not_sold(api, db, world, token_for, shopper):
    await stock(db, world, 5)
    async with db.writer() as session:
        await session.exec(sa.text("UPDATE product_sku SET active = false WHERE code = 'SERUM-01'"))
        await session.commit()
    payload = await create(api, await token_for("sh.guide"), order_input(world, shopper[1]))
    assert_user_error(payload, "SKU_UNAVAILABLE", ["input", "lines", "0", "skuId"], "order")


async def test_a_shipping_address_needs_a_mainland_mobile(api, db, world, token_for, shopper):
    await stock(db, world, 5)
    line = {"skuId": world.gid("Sku", "sku:serum"), "quantity": 1, "fulfillment": "SHIP_TO_HOME"}
    for mobile in ("12345", "+1 650 253 0000", "010-12345678", "x" * 30):
        given = order_input(world, shopper[1], line, shippingAddress={**ADDRESS, "mobile": mobile})
        payload = await create(api, await token_for("sh.guide"), given)
        assert_user_error(payload, "INVALID_PHONE", ["input", "shippingAddress", "mobile"], "order")
    given = order_input(world, shopper[1], line, shippingAddress={**ADDRESS, "detail": ""})
    payload = await create(api, await token_for("sh.guide"), given)
    assert_user_error(payload, "REQUIRED", ["input", "shippingAddress", "detail"], "order")
    assert await fetch(db, SalesOrder) == []


async def test_ship_to_home_takes_from_the_nearest_warehouse_when_the_store_has_none(
    api, db, world, token_for, shopper
):
    await stock(db, world, 10, location="warehouse")
    line = {"skuId": world.gid("Sku", "sku:serum"), "quantity": 3, "fulfillment": "SHIP_TO_HOME"}
    payload = await create(
        api, await token_for("sh.guide"), order_input(world, shopper[1], line, shippingAddress=ADDRESS)
    )
    assert payload["errors"] == [] and payload["order"]["lines"][0]["sourceLocation"] == {"code": "WH-EAST"}
    assert await level(db, world, location="warehouse") == (10, 3)
    (order,) = await fetch(db, SalesOrder)
    assert order.shipping_address["mobile"] == "+8613900000001"


@pytest.mark.parametrize("username", ["bj.guide", "bj.manager", "analyst", "ops", "admin"])
async def test_only_the_stores_own_staff_sell_there(api, db, world, token_for, shopper, username):
    await stock(db, world, 5)
    await assert_forbidden(api, CREATE, {"input": order_input(world, shopper[1])}, await token_for(username))
    assert await fetch(db, SalesOrder) == []


async def test_a_customer_orders_online_for_pickup_but_cannot_take_now_or_pay_cash(api, db, world, shopper):
    await stock(db, world, 5)
    token, _ = shopper
    take_now = {
        "storeId": world.gid("Store", "shanghai"),
        "lines": [{"skuId": world.gid("Sku", "sku:serum"), "quantity": 1}],
    }
    assert_user_error(
        await create(api, token, take_now), "FULFILLMENT_NOT_ALLOWED", ["input", "lines", "0", "fulfillment"], "order"
    )
    pickup = {**take_now, "lines": [{**take_now["lines"][0], "fulfillment": "PICKUP_IN_STORE"}]}
    order = (await create(api, token, pickup))["order"]
    assert order["channel"] == "ONLINE" and len(order["pickupCode"]) == 6
    cash = (await api.data(PAY, {"input": {"orderId": order["id"], "method": "CASH"}}, token))["orderPay"]
    assert_user_error(cash, "METHOD_NOT_ALLOWED", ["input", "method"], "payment")
    other, _ = await __import__("tests.server.bookings.helpers", fromlist=["customer"]).customer(api, "13900000002")
    body = await api(PAY, {"input": {"orderId": order["id"], "method": "WECHAT_PAY"}}, other)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_card_payments_need_the_terminal_slip_and_a_paid_order_is_not_paid_twice(
    api, db, world, token_for, shopper
):
    await stock(db, world, 5)
    guide = await token_for("sh.guide")
    order = (await create(api, guide, order_input(world, shopper[1])))["order"]
    no_slip = (await api.data(PAY, {"input": {"orderId": order["id"], "method": "CARD_TERMINAL"}}, guide))["orderPay"]
    assert_user_error(no_slip, "TERMINAL_REFERENCE_REQUIRED", ["input", "terminalReference"], "payment")
    given = {"orderId": order["id"], "method": "CARD_TERMINAL", "terminalReference": "POS-000123"}
    paid = (await api.data(PAY, {"input": given}, guide))["orderPay"]
    assert paid["payment"]["terminalReference"] == "POS-000123"
    twice = (await api.data(PAY, {"input": {**given, "terminalReference": "POS-000124"}}, guide))["orderPay"]
    assert_user_error(twice, "NOT_PAYABLE", ["input", "orderId"], "payment")
    assert len(await fetch(db, Payment)) == 1 and await level(db, world) == (3, 0)


async def test_cancel_gives_the_units_back_and_a_cancelled_order_cannot_be_paid(api, db, world, token_for, shopper):
    await stock(db, world, 5)
    guide = await token_for("sh.guide")
    order = (await create(api, guide, order_input(world, shopper[1])))["order"]
    cancelled = (await api.data(CANCEL, {"input": {"orderId": order["id"]}}, guide))["orderCancel"]
    assert cancelled["order"]["status"] == "CANCELLED" and await level(db, world) == (5, 0)
    paid = (await api.data(PAY, {"input": {"orderId": order["id"], "method": "CASH"}}, guide))["orderPay"]
    assert_user_error(paid, "NOT_PAYABLE", ["input", "orderId"], "payment")
    again = (await api.data(CANCEL, {"input": {"orderId": order["id"]}}, guide))["orderCancel"]
    assert_user_error(again, "NOT_CHANGEABLE", ["input", "orderId"], "order")


async def test_an_unpaid_order_expires_after_thirty_minutes(api, db, world, token_for, shopper, clock):
    await stock(db, world, 5)
    guide = await token_for("sh.guide")
    order = (await create(api, guide, order_input(world, shopper[1])))["order"]
    await api.app.state.scheduler.run_once()
    assert await level(db, world) == (5, 2)
    clock.current += timedelta(minutes=31)
    await api.app.state.scheduler.run_once()
    assert await level(db, world) == (5, 0)
    (row,) = await fetch(db, SalesOrder)
    assert row.status == "EXPIRED"
    guide = await login(api, "sh.guide")  # the first token expired meanwhile
    paid = (await api.data(PAY, {"input": {"orderId": order["id"], "method": "CASH"}}, guide))["orderPay"]
    assert_user_error(paid, "NOT_PAYABLE", ["input", "orderId"], "payment")


async def test_lines_are_added_and_removed_while_unpaid(api, db, world, token_for, shopper):
    await stock(db, world, 5)
    await stock(db, world, 5, sku="sku:lip-red")
    guide = await token_for("sh.guide")
    order = (await create(api, guide, order_input(world, shopper[1])))["order"]
    line = {"skuId": world.gid("Sku", "sku:lip-red"), "quantity": 1}
    added = (await api.data(ADD, {"input": {"orderId": order["id"], "line": line}}, guide))["orderAddLine"]
    assert added["order"]["total"]["amount"] == 178000 + 32000 and await level(db, world, "sku:lip-red") == (5, 1)
    first_line = added["order"]["lines"][0]["id"]
    removed = (await api.data(REMOVE, {"input": {"orderId": order["id"], "lineId": first_line}}, guide))[
        "orderRemoveLine"
    ]
    assert removed["order"]["total"]["amount"] == 32000 and await level(db, world) == (5, 0)
    last = removed["order"]["lines"][0]["id"]
    refused = (await api.data(REMOVE, {"input": {"orderId": order["id"], "lineId": last}}, guide))["orderRemoveLine"]
    assert_user_error(refused, "LAST_LINE", ["input", "lineId"], "order")
    assert len(await fetch(db, OrderLine)) == 1


async def test_racing_orders_for_the_last_units_never_oversell(api, db, world, token_for, app_factory):
    await stock(db, world, 5)
    from tests.server.bookings.helpers import customer

    guide = await token_for("sh.guide")
    buyers = [await customer(api, f"139000010{n:02d}") for n in range(12)]

    async def buy(customer_id: str) -> str:
        payload = await create(
            api, guide, order_input(world, customer_id, {"skuId": world.gid("Sku", "sku:serum"), "quantity": 1})
        )
        return payload["errors"][0]["code"] if payload["errors"] else "OK"

    outcomes = await asyncio.gather(*(buy(customer_id) for _, customer_id in buyers))
    assert outcomes.count("OK") == 5 and outcomes.count("INSUFFICIENT_STOCK") == 7
    assert await level(db, world) == (5, 5)


async def test_a_retried_payment_with_its_key_pays_once(api, db, world, token_for, shopper):
    await stock(db, world, 5)
    guide = await token_for("sh.guide")
    order = (await create(api, guide, order_input(world, shopper[1])))["order"]
    given = {"orderId": order["id"], "method": "CASH", "idempotencyKey": "till-7"}
    first = (await api.data(PAY, {"input": given}, guide))["orderPay"]
    again = (await api.data(PAY, {"input": given}, guide))["orderPay"]
    assert first["errors"] == again["errors"] == [] and again["order"]["status"] == "PAID"
    assert len(await fetch(db, Payment)) == 1 and await level(db, world) == (3, 0)
