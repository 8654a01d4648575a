"""WeChat Pay and Alipay through the real adapters and the sandbox (their notifications, verified and
idempotent), reconciliation, refunds through the method that took the money, and fulfilment."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domains.inventory.models import StockMovement
from server.domains.messaging.models import OutboundMessage
from server.domains.orders.models import OrderLine, SalesOrder
from server.domains.orders.refunds import refunded_total
from server.domains.payments.models import Payment, Refund
from server.domains.payments.providers import NativeCharge
from tests.server.assertions import assert_user_error, count_tables, fetch

from .conftest import stock
from .test_orders_api import ADDRESS, CREATE, ERRORS, ORDER, PAY, level, order_input

REFUND = f"""mutation($input: OrderRefundInput!) {{ orderRefund(input: $input) {{
  order {{ {ORDER} }} refund {{ amount {{ amount }} status restock reason }} {ERRORS} }} }}"""
READY = f"""mutation($input: OrderIdInput!) {{
  orderMarkReadyForPickup(input: $input) {{ order {{ {ORDER} }} {ERRORS} }} }}"""
PICK_UP = f"""mutation($input: OrderPickUpInput!) {{ orderPickUp(input: $input) {{ order {{ {ORDER} }} {ERRORS} }} }}"""
SHIP = f"""mutation($input: OrderShipInput!) {{ orderShip(input: $input) {{
  order {{ lines {{ status }} }} {ERRORS} }} }}"""
DELIVER = f"""mutation($input: OrderIdInput!) {{
  orderDeliver(input: $input) {{ order {{ lines {{ status }} }} {ERRORS} }} }}"""
PROVIDERS = {"WECHAT_PAY": "wechat_pay", "ALIPAY": "alipay"}


async def qr_order(shop, world, token_for, customer_id: str, method: str, units: int = 2):
    guide = await token_for("sh.guide")
    line = {"skuId": world.gid("Sku", "sku:serum"), "quantity": units}
    order = (await shop.data(CREATE, {"input": order_input(world, customer_id, line)}, guide))["orderCreate"]["order"]
    paying = (await shop.data(PAY, {"input": {"orderId": order["id"], "method": method}}, guide))["orderPay"]
    return guide, order, paying


async def out_trade_no(db) -> str:
    (payment,) = await fetch(db, Payment)
    return payment.out_trade_no


async def post_notification(shop, provider: str, headers: dict, body: bytes):
    return await shop.client.post(f"/payments/{provider}/notify", headers=headers, content=body)


@pytest.mark.parametrize("method", ["WECHAT_PAY", "ALIPAY"])
async def test_a_qr_payment_settles_when_the_verified_notification_comes_and_a_repeat_is_harmless(
    shop, db, world, token_for, shopper, vendor, method
):
    await stock(db, world, 5)
    _guide, _order, paying = await qr_order(shop, world, token_for, shopper[1], method)
    assert paying["errors"] == [] and paying["payment"]["status"] == "PENDING"
    assert paying["payment"]["qrPayload"] and paying["order"]["status"] == "PENDING_PAYMENT"
    provider, number = PROVIDERS[method], await out_trade_no(db)
    vendor.sandbox.scan(provider, number)
    headers, body = vendor.sandbox.notification_for(provider, number)
    answer = await post_notification(shop, provider, headers, body)
    assert answer.status_code == 200
    (row,) = await fetch(db, SalesOrder)
    assert row.status == "PAID" and await level(db, world) == (3, 0)
    again = await post_notification(shop, provider, headers, body)
    assert again.status_code == 200
    assert len(await fetch(db, StockMovement, reason="SALE")) == 1


@pytest.mark.parametrize("method", ["WECHAT_PAY", "ALIPAY"])
async def test_bad_notifications_are_refused_and_write_nothing(shop, db, world, token_for, shopper, vendor, method):
    await stock(db, world, 5)
    await qr_order(shop, world, token_for, shopper[1], method)
    provider, number = PROVIDERS[method], await out_trade_no(db)
    vendor.sandbox.scan(provider, number)
    headers, body = vendor.sandbox.notification_for(provider, number)
    tampered = body.replace(b"a", b"b", 1) if provider == "alipay" else body[:-3] + b"xx}"
    wrong_amount_field = {"wechat_pay": "amount", "alipay": "total_amount"}[provider]
    wrong_amount = {
        "wechat_pay": {"total": 1, "payer_total": 1, "currency": "CNY", "payer_currency": "CNY"},
        "alipay": "0.01",
    }[provider]
    cases = [
        (headers, tampered),
        (headers, b"garbage"),
        vendor.sandbox.notification_for(provider, number, **{wrong_amount_field: wrong_amount}),
    ]
    stranger = shop.app.state.runtime.payments.by_name[provider]
    await stranger.create_native(NativeCharge("IRS0000NOSUCHCHARGE", "x", 178000, "CNY"), "http://127.0.0.1:9/notify")
    vendor.sandbox.scan(provider, "IRS0000NOSUCHCHARGE")
    cases.append(vendor.sandbox.notification_for(provider, "IRS0000NOSUCHCHARGE"))
    before = await count_tables(db, ("sales_order", "payment", "stock_movement", "customer_event"))
    for bad_headers, bad_body in cases:
        answer = await post_notification(shop, provider, bad_headers, bad_body)
        assert answer.status_code != 200 or answer.text.strip() == "fail", answer.text
    (row,) = await fetch(db, SalesOrder)
    assert row.status == "PENDING_PAYMENT" and await level(db, world) == (5, 2)
    assert await count_tables(db, ("sales_order", "payment", "stock_movement", "customer_event")) == before
    unknown = await shop.client.post("/payments/paypal/notify", content=b"{}")
    assert unknown.status_code == 404


async def test_reconciliation_settles_a_payment_whose_notification_was_lost(
    shop, db, world, token_for, shopper, vendor, clock
):
    await stock(db, world, 5)
    await qr_order(shop, world, token_for, shopper[1], "WECHAT_PAY")
    number = await out_trade_no(db)
    await vendor.sandbox.pay("wechat_pay", number)  # paid; its notification goes nowhere (lost)
    clock.current += timedelta(minutes=6)
    await shop.app.state.scheduler.run_once()
    (row,) = await fetch(db, SalesOrder)
    assert row.status == "PAID"


async def test_an_order_with_a_pending_qr_payment_does_not_expire_meanwhile(
    shop, db, world, token_for, shopper, vendor, clock
):
    await stock(db, world, 5)
    await qr_order(shop, world, token_for, shopper[1], "ALIPAY")
    clock.current += timedelta(minutes=31)
    await shop.app.state.scheduler.run_once()  # reconciliation: still waiting at Alipay
    (row,) = await fetch(db, SalesOrder)
    assert row.status == "PENDING_PAYMENT" and await level(db, world) == (5, 2)
    clock.current += timedelta(minutes=40)
    await shop.app.state.scheduler.run_once()  # the charge is closed, then the order expires
    await shop.app.state.scheduler.run_once()
    (row,) = await fetch(db, SalesOrder)
    assert row.status == "EXPIRED" and await level(db, world) == (5, 0)


async def paid_by_cash(api, db, world, token_for, customer_id: str, units: int = 3):
    await stock(db, world, 5)
    guide = await token_for("sh.guide")
    line = {"skuId": world.gid("Sku", "sku:serum"), "quantity": units}
    order = (await api.data(CREATE, {"input": order_input(world, customer_id, line)}, guide))["orderCreate"]["order"]
    await api.data(PAY, {"input": {"orderId": order["id"], "method": "CASH"}}, guide)
    return order


async def test_refunds_are_cumulative_never_exceed_what_was_paid_and_restock(api, db, world, token_for, shopper):
    order = await paid_by_cash(api, db, world, token_for, shopper[1])
    manager = await token_for("sh.manager")
    line_id = order["lines"][0]["id"]
    given = {"orderId": order["id"], "lines": [{"lineId": line_id, "quantity": 1}], "reason": "过敏", "restock": True}
    first = (await api.data(REFUND, {"input": given}, manager))["orderRefund"]
    assert first["errors"] == [] and first["refund"]["amount"]["amount"] == 89000
    assert await level(db, world) == (3, 0)  # 5 - 3 sold + 1 back
    too_many = {**given, "lines": [{"lineId": line_id, "quantity": 3}]}
    before = await count_tables(db, ("refund", "stock_movement"))
    refused = (await api.data(REFUND, {"input": too_many}, manager))["orderRefund"]
    assert_user_error(refused, "REFUND_EXCEEDS_PAID", ["input", "lines", "0", "quantity"], "refund")
    assert await count_tables(db, ("refund", "stock_movement")) == before
    rest = (
        await api.data(
            REFUND, {"input": {**too_many, "lines": [{"lineId": line_id, "quantity": 2}], "restock": False}}, manager
        )
    )["orderRefund"]
    assert rest["order"]["refunded"]["amount"] == rest["order"]["total"]["amount"] == 267000
    assert await level(db, world) == (3, 0)
    (row,) = await fetch(db, OrderLine)
    assert (row.refunded_quantity, row.refunded_amount) == (3, 267000)


@pytest.mark.parametrize("username", ["sh.guide", "bj.manager", "analyst"])
async def test_only_the_stores_manager_or_hq_refunds(api, db, world, token_for, shopper, username):
    order = await paid_by_cash(api, db, world, token_for, shopper[1])
    given = {
        "orderId": order["id"],
        "lines": [{"lineId": order["lines"][0]["id"], "quantity": 1}],
        "reason": "x",
        "restock": True,
    }
    body = await api(REFUND, {"input": given}, await token_for(username))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await fetch(db, Refund) == []


async def test_an_unpaid_order_has_nothing_to_refund(api, db, world, token_for, shopper):
    await stock(db, world, 5)
    guide = await token_for("sh.guide")
    order = (await api.data(CREATE, {"input": order_input(world, shopper[1])}, guide))["orderCreate"]["order"]
    given = {
        "orderId": order["id"],
        "lines": [{"lineId": order["lines"][0]["id"], "quantity": 1}],
        "reason": "x",
        "restock": True,
    }
    refused = (await api.data(REFUND, {"input": given}, await token_for("sh.manager")))["orderRefund"]
    assert_user_error(refused, "NOT_REFUNDABLE", ["input", "orderId"], "refund")


@pytest.mark.parametrize("method", ["WECHAT_PAY", "ALIPAY"])
async def test_a_qr_payment_is_refunded_through_its_provider(shop, db, world, token_for, shopper, vendor, method):
    await stock(db, world, 5)
    _, order, _ = await qr_order(shop, world, token_for, shopper[1], method)
    provider, number = PROVIDERS[method], await out_trade_no(db)
    await vendor.sandbox.pay(provider, number)  # paid at the vendor; its own delivery goes nowhere
    headers, body = vendor.sandbox.notification_for(provider, number)
    await post_notification(shop, provider, headers, body)
    manager = await token_for("sh.manager")
    line = order["lines"][0]["id"]
    given = {"orderId": order["id"], "lines": [{"lineId": line, "quantity": 1}], "reason": "退货", "restock": True}
    first = (await shop.data(REFUND, {"input": given}, manager))["orderRefund"]
    assert first["errors"] == [] and first["refund"]["amount"]["amount"] == 89000
    rest = (await shop.data(REFUND, {"input": given}, manager))["orderRefund"]
    assert rest["order"]["refunded"]["amount"] == 178000
    assert vendor.sandbox.charge(provider, number).refunded == 178000
    assert [r.amount for r in await fetch(db, Refund)] == [89000, 89000]


@given(
    line_total=st.integers(0, 10**10),
    quantity=st.integers(1, 99),
    steps=st.lists(st.integers(1, 99), min_size=1, max_size=10),
)
def test_cumulative_refunds_never_exceed_the_line_and_a_full_refund_is_exact(line_total, quantity, steps):
    refunded_units, given_back = 0, 0
    for step in steps:
        step = min(step, quantity - refunded_units)
        if step <= 0:
            break
        before = refunded_total(line_total, quantity, refunded_units)
        refunded_units += step
        given_back += refunded_total(line_total, quantity, refunded_units) - before
        assert 0 <= given_back <= line_total
    if refunded_units == quantity:
        assert given_back == line_total


async def test_pickup_orders_are_made_ready_she_is_told_and_collects_with_her_code(api, db, world, token_for, shopper):
    await stock(db, world, 5)
    _token, customer_id = shopper
    line = {"skuId": world.gid("Sku", "sku:serum"), "quantity": 1, "fulfillment": "PICKUP_IN_STORE"}
    guide = await token_for("sh.guide")
    order = (await api.data(CREATE, {"input": order_input(world, customer_id, line)}, guide))["orderCreate"]["order"]
    await api.data(PAY, {"input": {"orderId": order["id"], "method": "CASH"}}, guide)
    ready = (await api.data(READY, {"input": {"orderId": order["id"]}}, guide))["orderMarkReadyForPickup"]
    assert ready["order"]["lines"][0]["status"] == "READY_FOR_PICKUP"
    (message,) = await fetch(db, OutboundMessage, kind="ORDER_READY_FOR_PICKUP")
    assert message.params["pickupCode"] == order["pickupCode"]
    wrong = (
        await api.data(
            PICK_UP,
            {
                "input": {
                    "orderId": order["id"],
                    "pickupCode": "000000" if order["pickupCode"] != "000000" else "111111",
                }
            },
            guide,
        )
    )["orderPickUp"]
    assert_user_error(wrong, "WRONG_PICKUP_CODE", ["input", "pickupCode"], "order")
    done = (await api.data(PICK_UP, {"input": {"orderId": order["id"], "pickupCode": order["pickupCode"]}}, guide))[
        "orderPickUp"
    ]
    assert done["order"]["lines"][0]["status"] == "PICKED_UP"


async def test_shipped_lines_get_a_tracking_number_then_are_delivered(api, db, world, token_for, shopper):
    await stock(db, world, 5)
    line = {"skuId": world.gid("Sku", "sku:serum"), "quantity": 1, "fulfillment": "SHIP_TO_HOME"}
    guide = await token_for("sh.guide")
    order = (await api.data(CREATE, {"input": order_input(world, shopper[1], line, shippingAddress=ADDRESS)}, guide))[
        "orderCreate"
    ]["order"]
    early = (
        await api.data(
            SHIP, {"input": {"orderId": order["id"], "carrier": "SF_EXPRESS", "trackingNumber": "SF1234567890"}}, guide
        )
    )["orderShip"]
    assert_user_error(early, "WRONG_FULFILLMENT_STATE", ["input", "orderId"], "order")
    await api.data(PAY, {"input": {"orderId": order["id"], "method": "CASH"}}, guide)
    bad = (
        await api.data(SHIP, {"input": {"orderId": order["id"], "carrier": "sf express", "trackingNumber": "1"}}, guide)
    )["orderShip"]
    assert {e["field"][-1] for e in bad["errors"]} == {"carrier", "trackingNumber"}
    shipped = (
        await api.data(
            SHIP, {"input": {"orderId": order["id"], "carrier": "SF_EXPRESS", "trackingNumber": "SF1234567890"}}, guide
        )
    )["orderShip"]
    assert shipped["order"]["lines"] == [{"status": "SHIPPED"}]
    (row,) = await fetch(db, OrderLine)
    assert (row.carrier, row.tracking_number) == ("SF_EXPRESS", "SF1234567890")
    delivered = (await api.data(DELIVER, {"input": {"orderId": order["id"]}}, guide))["orderDeliver"]
    assert delivered["order"]["lines"] == [{"status": "DELIVERED"}]


async def test_racing_refunds_of_the_last_units_give_them_back_once(api, db, world, token_for, shopper):
    order = await paid_by_cash(api, db, world, token_for, shopper[1], units=2)
    manager, admin = await token_for("sh.manager"), await token_for("admin")
    line = order["lines"][0]["id"]
    given = {"orderId": order["id"], "lines": [{"lineId": line, "quantity": 2}], "reason": "退货", "restock": True}

    async def refund(token: str) -> str:
        payload = (await api.data(REFUND, {"input": given}, token))["orderRefund"]
        return payload["errors"][0]["code"] if payload["errors"] else "OK"

    outcomes = await asyncio.gather(*(refund(token) for token in (manager, admin, manager, admin)))
    assert sorted(outcomes) == ["OK", "REFUND_EXCEEDS_PAID", "REFUND_EXCEEDS_PAID", "REFUND_EXCEEDS_PAID"]
    (row,) = await fetch(db, SalesOrder)
    assert row.refunded_amount == row.total and await level(db, world) == (5, 0)


@pytest.mark.parametrize("method", ["WECHAT_PAY", "ALIPAY"])
async def test_money_paid_for_an_order_cancelled_meanwhile_goes_back_whole(
    shop, db, world, token_for, shopper, vendor, method
):
    await stock(db, world, 5)
    guide, order, _ = await qr_order(shop, world, token_for, shopper[1], method)
    cancel = "mutation($input: OrderIdInput!) { orderCancel(input: $input) { order { status } } }"
    await shop.data(cancel, {"input": {"orderId": order["id"]}}, guide)
    provider, number = PROVIDERS[method], await out_trade_no(db)
    await vendor.sandbox.pay(provider, number)  # she paid the QR code anyway
    headers, body = vendor.sandbox.notification_for(provider, number)
    assert (await post_notification(shop, provider, headers, body)).status_code == 200
    (payment,) = await fetch(db, Payment)
    assert payment.status == "ORPHANED" and await level(db, world) == (5, 0)  # nothing sold
    await shop.app.state.scheduler.run_once()
    (payment,) = await fetch(db, Payment)
    assert (payment.status, payment.refunded_amount) == ("REFUNDED", 178000)
    assert vendor.sandbox.charge(provider, number).refunded == 178000
    (refund,) = await fetch(db, Refund)
    assert refund.amount == 178000 and refund.lines == []
    assert (await post_notification(shop, provider, headers, body)).status_code == 200  # a repeat changes nothing
    (payment,) = await fetch(db, Payment)
    assert payment.status == "REFUNDED"
    (row,) = await fetch(db, SalesOrder)
    assert row.status == "CANCELLED"
