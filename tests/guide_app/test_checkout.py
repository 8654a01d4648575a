"""收银 through the checkout presenter, against the real server: a guide sells from a reception or to a walk-in,
the server prices the order (coupons included), stock errors land on their line, and payments settle by cash,
card, or a WeChat Pay / Alipay QR code paid at the payment sandbox (its notification comes back to the server,
and the app hears orderPaid, or asks order(id:) while its socket is down)."""

from __future__ import annotations

import asyncio

import cv2
import numpy as np

from guide_app.api.errors import Offline
from guide_app.presenters.checkout import CART, PAID, PAY, WAITING
from guide_app.presenters.qrimage import luminance
from guide_app.presenters.scanning import decode_qr
from server.domains.orders.models import SalesOrder
from server.domains.payments.models import Payment
from tests.server.assertions import fetch

from .conftest import (
    claimed_coupon,
    customer_books,
    eventually,
    livestream,
    signed_in_guide,
    stock,
)
from .test_scanning import FRAME, camera_frame

SERUM_BARCODE = "6901234567892"


async def sale_from_reception(server, world, clock, make_session, **booking):
    """The guide signed in, the customer booked, her reception open, and a sale started from it."""
    session = await make_session(server.base_url)
    await signed_in_guide(session, server, world)
    booked = await customer_books(server, world, clock, **booking)
    await eventually(lambda: len(session.inbox.rows()) == 1, what="her task")
    reception = await session.open_reception(session.inbox.rows()[0].id)
    checkout = await session.start_checkout(reception.customer["id"], reception.booking["id"])
    assert checkout.customer is not None, checkout.message
    return session, checkout, booked


async def add_serum(checkout, quantity: int = 1) -> None:
    checkout.edit_query("精华")
    assert await checkout.search_products(), checkout.message
    [found] = checkout.results
    assert found.name == "精华" and found.detail == "SERUM-01 · ¥890.00"
    assert await checkout.add_found(found.sku_id)
    line = checkout.lines[-1]
    checkout.set_quantity(line.key, quantity)


async def test_a_guide_sells_from_a_reception_for_cash_and_the_receipt_shows_it(
    server, world, clock, make_session, guide_database
):
    await stock(guide_database, world, 5)
    session, checkout, _booked = await sale_from_reception(server, world, clock, make_session)
    assert session.screen == "checkout" and checkout.customer_name == "138 1234 5678"
    await add_serum(checkout, 2)
    [line] = checkout.lines
    assert line.price == "¥890.00 × 2 件" and line.stock_note == "本店可售 5 件"
    assert [place.kind for place in line.places()] == ["HERE", "WAREHOUSE"]

    assert await checkout.place_order(), checkout.message
    assert checkout.stage == PAY and session.screen == "checkout_pay"
    assert (checkout.subtotal, checkout.discount, checkout.total) == ("¥1,780.00", "", "¥1,780.00")
    assert checkout.number.startswith("SO")
    checkout.choose_method("CASH")
    assert await checkout.pay(), checkout.message
    assert checkout.stage == PAID and session.screen == "receipt"

    receipt = checkout.receipt()
    assert receipt.number == checkout.number and receipt.total == "¥1,780.00" and receipt.method == "现金"
    [printed] = receipt.lines
    assert printed.name == "精华" and printed.detail == "2 件 × ¥890.00 · 现场提货" and printed.total == "¥1,780.00"
    assert receipt.pickup_code == "" and receipt.address == ""
    [order] = await fetch(guide_database, SalesOrder)
    assert order.status == "PAID" and order.total == 178000

    await session.finish_checkout()  # 完成: back to the reception, which the payment finished
    assert session.screen == "reception" and session.checkout is None
    assert session.reception.finished


async def test_insufficient_stock_is_shown_on_its_line_and_nothing_is_ordered(
    server, world, clock, make_session, guide_database
):
    await stock(guide_database, world, 5, sku="sku:lip-red")
    await stock(guide_database, world, 1)
    session, checkout, _booked = await sale_from_reception(server, world, clock, make_session)
    assert await checkout.add_by_barcode("6901234567908"), checkout.message  # 唇膏 999
    await add_serum(checkout, 3)
    lipstick, serum = checkout.lines
    assert lipstick.name == "唇膏 · 色号 999" and serum.short and serum.stock_note == "本店可售 1 件"
    assert not await checkout.place_order()
    assert checkout.stage == CART and session.screen == "checkout"
    assert serum.error == "所选货源库存不足。" and lipstick.error == ""
    assert "所选货源库存不足。" in checkout.message
    assert await fetch(guide_database, SalesOrder) == []
    checkout.set_quantity(serum.key, 1)  # what the store has
    assert serum.error == "" and await checkout.place_order(), checkout.message
    assert checkout.total == "¥1,210.00"


async def test_her_coupon_applied_changes_the_total_the_server_works_out(
    server, world, clock, make_session, guide_database
):
    await stock(guide_database, world, 10)
    session = await make_session(server.base_url)
    await signed_in_guide(session, server, world)
    show = await livestream(server, world, clock)
    booked = await customer_books(server, world, clock, livestream_id=show)
    coupon = await claimed_coupon(server, clock, show, booked.customer_token)
    await eventually(lambda: len(session.inbox.rows()) == 1, what="her task")
    reception = await session.open_reception(session.inbox.rows()[0].id)
    checkout = await session.start_checkout(reception.customer["id"], reception.booking["id"])
    [choice] = checkout.coupons()
    assert (choice.code, choice.name, choice.terms, choice.applied) == (
        coupon["code"],
        "直播专享立减 20 元",
        "立减 ¥20.00",
        False,
    )
    await add_serum(checkout)
    assert await checkout.place_order() and checkout.total == "¥890.00" and checkout.discount == ""

    assert await checkout.change_order(), checkout.message  # cancelled: the cart again, as it was
    assert checkout.stage == CART and len(checkout.lines) == 1 and checkout.order is None
    checkout.toggle_coupon(coupon["code"])
    assert checkout.add_coupon("abcdefghjk")  # typed: not one of hers
    assert not await checkout.place_order()
    assert checkout.coupons()[1].error == "她没有这个券码的优惠券（或券的二维码已过期）。"
    assert checkout.coupons()[0].error == ""
    checkout.toggle_coupon("ABCDEFGHJK")
    assert await checkout.place_order(), checkout.message
    assert (checkout.subtotal, checkout.discount, checkout.total) == ("¥890.00", "¥20.00", "¥870.00")
    assert checkout.coupons()[0].discount == "¥20.00"
    assert checkout.order_lines()[0].discount == "优惠券 −¥20.00"
    checkout.choose_method("CARD_TERMINAL")
    assert not await checkout.pay() and checkout.reference_error == "请输入刷卡凭条号。"
    checkout.edit_reference("000123")
    assert await checkout.pay(), checkout.message
    receipt = checkout.receipt()
    assert receipt.coupons == [(coupon["code"], "¥20.00")] and receipt.method == "银行卡 · 凭条 000123"


async def test_her_coupon_qr_scanned_with_the_camera_is_applied(server, world, clock, make_session, guide_database):
    await stock(guide_database, world, 5)
    session = await make_session(server.base_url)
    await signed_in_guide(session, server, world)
    show = await livestream(server, world, clock)
    booked = await customer_books(server, world, clock, livestream_id=show)
    coupon = await claimed_coupon(server, clock, show, booked.customer_token)
    await eventually(lambda: len(session.inbox.rows()) == 1, what="her task")
    reception = await session.open_reception(session.inbox.rows()[0].id)
    checkout = await session.start_checkout(reception.customer["id"], reception.booking["id"])
    checkout.set_camera(True)
    assert checkout.start_scan("coupon")
    assert not await checkout.scan_frame(camera_frame(None), FRAME)  # nothing in view yet
    assert await checkout.scan_frame(camera_frame(coupon["qrToken"]), FRAME)
    assert checkout.scan_target is None and checkout.coupon_codes == [coupon["qrToken"]]
    assert checkout.coupons()[-1].name == "扫码的优惠券"
    await add_serum(checkout)
    assert await checkout.place_order(), checkout.message
    assert checkout.total == "¥870.00"
    assert [c["code"] for c in checkout.order["coupons"]] == [coupon["code"]]


def barcode_frame(digits: str, module: int = 3) -> bytes:
    """An RGBA camera frame (rows bottom-up, as Kivy gives them) with the EAN-13 code of ``digits``."""
    left = [
        "0001101",
        "0011001",
        "0010011",
        "0111101",
        "0100011",
        "0110001",
        "0101111",
        "0111011",
        "0110111",
        "0001011",
    ]
    even = [
        "0100111",
        "0110011",
        "0011011",
        "0100001",
        "0011101",
        "0111001",
        "0000101",
        "0010001",
        "0001001",
        "0010111",
    ]
    right = [
        "1110010",
        "1100110",
        "1101100",
        "1000010",
        "1011100",
        "1001110",
        "1010000",
        "1000100",
        "1001000",
        "1110100",
    ]
    parity = ["LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG", "LGGLLG", "LGGGLL", "LGLGLG", "LGLGGL", "LGGLGL"]
    d = [int(c) for c in digits]
    bits = "101" + "".join((left if p == "L" else even)[d[i + 1]] for i, p in enumerate(parity[d[0]]))
    bits += "01010" + "".join(right[x] for x in d[7:]) + "101"
    width, height = FRAME
    frame = np.full((height, width), 170, dtype=np.float32)
    x0, top = (width - len(bits) * module) // 2, 150
    frame[top - 20 : top + 200, x0 - 40 : x0 + len(bits) * module + 40] = 255
    for i, bit in enumerate(bits):
        if bit == "1":
            frame[top : top + 180, x0 + i * module : x0 + (i + 1) * module] = 0
    frame += np.random.default_rng(3).normal(0, 8, frame.shape)
    grey = np.clip(frame, 0, 255).astype(np.uint8)[::-1]
    return cv2.cvtColor(grey, cv2.COLOR_GRAY2RGBA).tobytes()


async def test_a_product_is_found_by_its_scanned_barcode(server, world, clock, make_session, guide_database):
    await stock(guide_database, world, 5)
    _session, checkout, _booked = await sale_from_reception(server, world, clock, make_session)
    checkout.set_camera(True)
    assert checkout.start_scan("product")
    assert await checkout.scan_frame(barcode_frame(SERUM_BARCODE), FRAME), checkout.message
    assert [line.name for line in checkout.lines] == ["精华"] and checkout.lines[0].stock_note == "本店可售 5 件"
    assert checkout.start_scan("product")
    assert await checkout.scan_frame(barcode_frame(SERUM_BARCODE), FRAME)  # the same again: one more unit
    assert len(checkout.lines) == 1 and checkout.lines[0].quantity == 2
    assert not await checkout.add_by_barcode("4006381333931")  # a valid EAN-13 no SKU has
    assert checkout.message == "没有条码为 4006381333931 的商品。"


async def test_a_line_shipped_from_a_warehouse_needs_her_address_checked_by_the_server(
    server, world, clock, make_session, guide_database
):
    await stock(guide_database, world, 4, location="warehouse")
    await stock(guide_database, world, 2, sku="sku:lip-red")
    _session, checkout, _booked = await sale_from_reception(server, world, clock, make_session)
    await add_serum(checkout)
    serum = checkout.lines[0]
    assert serum.stock_note == "本店无货"
    [warehouse] = [place for place in serum.places() if place.kind == "WAREHOUSE"]
    assert warehouse.label.startswith("华东仓 · ") and warehouse.label.endswith("公里：可售 4 件")
    checkout.choose_source(serum.key, warehouse.location_id)
    assert serum.fulfillment == "SHIP_TO_HOME" and serum.source_note == "发货地：华东仓"
    assert await checkout.add_by_barcode("6901234567908")
    checkout.set_fulfillment(checkout.lines[1].key, "PICKUP_IN_STORE")
    assert not await checkout.place_order()
    assert set(checkout.address_errors) == {"province", "city", "district", "detail", "recipient", "mobile"}
    for name, value in {
        "province": "上海市",
        "city": "上海市",
        "district": "静安区",
        "detail": "南京西路 1 号 2 楼",
        "recipient": "王小姐",
        "mobile": "12345",
    }.items():
        checkout.edit_address(name, value)
    assert not await checkout.place_order()
    assert checkout.address_errors == {"mobile": "这个手机号无效。"}
    checkout.edit_address("mobile", "139 0000 1111")
    assert await checkout.place_order(), checkout.message
    checkout.choose_method("CASH")
    assert await checkout.pay(), checkout.message
    receipt = checkout.receipt()
    assert receipt.lines[0].detail == "1 件 × ¥890.00 · 邮寄到家 · 从华东仓发货"
    assert receipt.lines[1].detail == "1 件 × ¥320.00 · 到店自提"
    assert len(receipt.pickup_code) == 6 and receipt.address.endswith("王小姐 139 0000 1111")


async def test_a_walk_in_found_by_her_phone_on_the_checkout_tab(server, world, make_session, guide_database):
    await stock(guide_database, world, 5)
    session = await make_session(server.base_url)
    await signed_in_guide(session, server, world)
    session.go("checkout")  # the 收银 tab, no sale under way: find her first
    assert session.screen == "checkout_start"
    search = session.checkout_search
    search.edit("139 0000 2222")
    assert await search.walk_in(), search.message
    checkout = session.checkout
    assert session.screen == "checkout" and checkout.customer_name == "139 0000 2222"
    assert checkout.booking_id is None and checkout.coupons() == []
    session.go("inbox")
    session.go("checkout")  # the sale waits on its tab
    assert session.screen == "checkout" and session.checkout is checkout
    await add_serum(checkout)
    assert await checkout.place_order(), checkout.message
    await session.finish_checkout()  # 放弃: the unpaid order is cancelled, its units go back
    [order] = await fetch(guide_database, SalesOrder)
    assert order.status == "CANCELLED" and session.screen == "checkout_start"


class LosingAnswers:
    """Lets the request reach the server, then loses its answer (the phone's network drops) once per
    operation named."""

    def __init__(self, api, *names: str) -> None:
        self.api, self.pending, self.sent = api, set(names), []
        self.mutate = api.mutate

        async def mutate(name, variables=None):
            self.sent.append((name, variables))
            answer = await self.mutate(name, variables)
            if name in self.pending:
                self.pending.discard(name)
                raise Offline("the answer was lost")
            return answer

        api.mutate = mutate


async def test_a_retried_tap_sends_one_order_and_one_payment(server, world, clock, make_session, guide_database):
    await stock(guide_database, world, 5)
    _session, checkout, _booked = await sale_from_reception(server, world, clock, make_session)
    await add_serum(checkout)
    losing = LosingAnswers(checkout.api, "OrderCreate", "OrderPay")
    both = await asyncio.gather(checkout.place_order(), checkout.place_order())  # two quick taps
    assert both == [False, False] and checkout.message.startswith("无法连接服务器")
    assert len(losing.sent) == 1 and checkout.stage == CART
    assert await checkout.place_order(), checkout.message  # tapped again: the same attempt
    first, again = (variables["input"]["idempotencyKey"] for _name, variables in losing.sent)
    assert first == again
    assert len(await fetch(guide_database, SalesOrder)) == 1

    checkout.choose_method("CASH")
    assert not await checkout.pay()
    assert await checkout.pay(), checkout.message
    assert checkout.stage == PAID
    [order] = await fetch(guide_database, SalesOrder)
    assert order.status == "PAID" and len(await fetch(guide_database, Payment)) == 1


def shown_qr(modules: list[list[bool]]) -> str | None:
    """Read the QR code the screen draws, as a camera would."""
    side, scale = len(modules), 4
    pixels = luminance(modules, scale)
    return decode_qr(pixels, (side * scale, side * scale), "luminance")


async def test_a_wechat_pay_qr_code_is_shown_then_paid_live(
    paying_server, world, clock, make_session, guide_database, vendor
):
    server = paying_server
    await stock(guide_database, world, 5)
    session, checkout, _booked = await sale_from_reception(server, world, clock, make_session)
    await add_serum(checkout)
    assert await checkout.place_order(), checkout.message
    checkout.choose_method("WECHAT_PAY")
    assert await checkout.pay(), checkout.message
    assert checkout.stage == WAITING and session.screen == "checkout_qr"
    assert checkout.qr_payload.startswith("weixin://") and shown_qr(checkout.qr_modules()) == checkout.qr_payload
    await eventually(lambda: checkout.live_connected, what="the orderPaid subscription")
    assert checkout.waiting_note == "等待顾客付款…"
    number = vendor.charges("wechat_pay")[-1]  # the sandbox serves the whole session: the newest is ours
    delivered = await vendor.sandbox.pay("wechat_pay", number)  # she pays; WeChat notifies the server
    assert delivered.status == 200, delivered
    await eventually(lambda: checkout.stage == PAID, what="the order paid, heard live")
    assert session.screen == "receipt" and checkout.receipt().method == "微信支付"
    await eventually(lambda: checkout.live is not None and not checkout.live.connected, what="the socket closed")


async def test_an_alipay_payment_is_seen_by_asking_while_the_socket_is_down(
    paying_server, world, clock, make_session, guide_database, vendor
):
    server = paying_server
    await stock(guide_database, world, 5)
    _session, checkout, _booked = await sale_from_reception(server, world, clock, make_session)
    checkout.api.ws_url = "ws://127.0.0.1:9/graphql"  # the live socket cannot be opened
    checkout.poll_seconds = 0.2
    await add_serum(checkout)
    assert await checkout.place_order(), checkout.message
    checkout.choose_method("ALIPAY")
    assert await checkout.pay(), checkout.message
    assert checkout.stage == WAITING and shown_qr(checkout.qr_modules()) == checkout.qr_payload
    assert checkout.waiting_note.startswith("等待顾客付款（实时连接已断开")
    number = vendor.charges("alipay")[-1]
    delivered = await vendor.sandbox.pay("alipay", number)
    assert delivered.status == 200, delivered
    await eventually(lambda: checkout.stage == PAID, what="the order paid, found by asking")
    assert checkout.receipt().method == "支付宝"


async def test_another_way_to_pay_after_the_qr_code(paying_server, world, clock, make_session, guide_database):
    await stock(guide_database, world, 5)
    _session, checkout, _booked = await sale_from_reception(paying_server, world, clock, make_session)
    await add_serum(checkout)
    assert await checkout.place_order()
    checkout.choose_method("WECHAT_PAY")
    assert await checkout.pay() and checkout.stage == WAITING
    await checkout.other_method()  # she has no WeChat on her: cash instead
    assert checkout.stage == PAY
    checkout.choose_method("CASH")
    assert await checkout.pay(), checkout.message
    assert checkout.receipt().method == "现金"
