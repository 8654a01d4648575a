"""收银: a sale at the store, from the cart to the receipt.

The cart lives on the phone until the guide goes to pay: the customer (and the booking she came with),
lines (SKU, 1-99 units, how each reaches her and, shipped, from where), the coupons to apply and, when a
line ships, her address. Nothing is priced here: "去收款" sends the whole cart to ``orderCreate`` and the
pay screen shows the order the server priced (subtotal, each coupon's discount, total). Why not an unpaid
order kept in sync with ``orderAddLine`` / ``orderRemoveLine`` from the first line on: coupons and the
shipping address are given only to ``orderCreate`` (no mutation changes them on an order), a quantity
change would be a remove and an add (refused as LAST_LINE on a one-line order, and reserving the units
twice while it lasts), and every product she only showed would hold stock from the other guides until
the order expired. So "修改订单" on the pay screen cancels the unpaid order (its units go back at once)
and returns to the cart as it was; the next "去收款" makes a new order.

Each attempt carries an idempotency key: the same cart sent again (a second tap, a retry after a lost
answer) names the same key and gets the same order; a changed cart gets a new key. Payment is the same:
one key per order, method and slip number.

Cash and card settle at once. WeChat Pay and Alipay answer a QR code to show her; the order is paid when
the provider's notification reaches the server, which the app hears through ``orderPaid`` (and, while
the socket is down, by asking ``order(id:)`` every few seconds; once after each connect too).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ..api.client import GuideApi
from ..api.live import Backoff, LiveSubscription
from ..i18n import N_, _
from .base import RECOVERABLE, Presenter
from .formatting import (
    coupon_terms,
    day_and_time,
    distance,
    fulfillment,
    payment_method,
    phone,
    shown_money,
)
from .messages import user_error_message
from .qrimage import qr_modules
from .scanning import decode_product_code, decode_qr, decoder_available

log = logging.getLogger("guide_app")

MAX_QUANTITY = 99
MAX_LINES = 30
MAX_COUPONS = 5
FULFILLMENTS = ("TAKE_NOW", "SHIP_TO_HOME", "PICKUP_IN_STORE")
METHODS = ("CASH", "CARD_TERMINAL", "WECHAT_PAY", "ALIPAY")
QR_METHODS = frozenset({"WECHAT_PAY", "ALIPAY"})
ADDRESS_FIELDS = ("province", "city", "district", "detail", "recipient", "mobile")
ADDRESS_LABELS = {
    "province": N_("Province"),
    "city": N_("City"),
    "district": N_("District"),
    "detail": N_("Street, building, room"),
    "recipient": N_("Recipient"),
    "mobile": N_("Recipient's mobile"),
}
SEARCH_LENGTH = (1, 50)
# The stages of a sale, and the screen each is drawn on.
CART, PAY, WAITING, PAID = "cart", "pay", "waiting", "paid"
STAGE_SCREENS = {CART: "checkout", PAY: "checkout_pay", WAITING: "checkout_qr", PAID: "receipt"}
# While a QR payment is awaited: how often the order is asked for while the live socket is down, and
# (as a safety net) while it is up.
POLL_SECONDS = 3.0
SLOW_POLL_SECONDS = 15.0
ATTRIBUTE_NAMES = {"shade": N_("Shade"), "size": N_("Size")}
# What a typed coupon code looks like (a scanned QR token is longer and kept as it is).
_TYPED_CODE = re.compile(r"[0-9A-Za-z]{4,16}")


def new_key() -> str:
    return uuid.uuid4().hex


def sku_name(sku: dict) -> str:
    """The product's name and what sets this SKU apart (唇膏 · 色号 999)."""
    product = (sku.get("product") or {}).get("name", "")
    variant = " ".join(
        f"{_(ATTRIBUTE_NAMES[a['name']]) if a['name'] in ATTRIBUTE_NAMES else a['name']} {a['value']}"
        for a in sku.get("attributes") or []
    )
    return f"{product} · {variant}" if variant else product


@dataclass(frozen=True)
class SkuChoice:
    """A product found by name or code: one row per SKU, tapped to add it."""

    sku_id: str
    name: str
    detail: str  # its code and price


@dataclass(frozen=True)
class StockPlace:
    """Where units of a line's SKU are: this store, another store, a warehouse."""

    location_id: str
    name: str
    kind: str  # HERE, STORE or WAREHOUSE
    available: int
    distance: str

    @property
    def label(self) -> str:
        where = self.name if not self.distance else f"{self.name} · {self.distance}"
        return _("{where}: {count} available").format(where=where, count=self.available)


@dataclass
class Line:
    """One line of the cart (local until the order is made)."""

    key: int
    sku: dict
    quantity: int = 1
    fulfillment: str = "TAKE_NOW"
    source_id: str | None = None  # SHIP_TO_HOME only: where it is sent from (None: the server chooses)
    stock: dict | None = None  # the inventory answer: here, nearbyStores, warehouses
    error: str = ""
    show_places: bool = False  # the guide opened the other stores and warehouses

    @property
    def sku_id(self) -> str:
        return self.sku["id"]

    @property
    def name(self) -> str:
        return sku_name(self.sku)

    @property
    def price(self) -> str:
        """The catalog's unit price and the units (the total is the server's, once the order is made)."""
        return _("{price} × {quantity}").format(price=shown_money(self.sku.get("price")), quantity=self.quantity)

    @property
    def here(self) -> StockPlace | None:
        level = (self.stock or {}).get("here")
        return _place(level, "HERE") if level else None

    def places(self) -> list[StockPlace]:
        """Where she can be served from, this store first, then the nearest stores, then the warehouses."""
        stock = self.stock or {}
        found = [self.here] if self.here else []
        found += [_place(level, "STORE") for level in stock.get("nearbyStores") or []]
        found += [_place(level, "WAREHOUSE") for level in stock.get("warehouses") or []]
        return found

    @property
    def stock_note(self) -> str:
        """How many this store has (and a warning when the line asks for more than the source holds)."""
        if self.stock is None:
            return ""
        here = self.here.available if self.here else 0
        note = _("In this store: {count}").format(count=here) if here else _("None in this store")
        source = self.source
        if source is not None and source.kind != "HERE" and source.available < self.quantity:
            note += " · " + _("{where} has only {count}").format(where=source.name, count=source.available)
        return note

    @property
    def short(self) -> bool:
        """The source the phone knows of has fewer units than the line asks for (the server decides)."""
        source = self.source
        return (
            self.stock is not None
            and (source.available if source else 0) < self.quantity
            and (source is not None or self.fulfillment != "SHIP_TO_HOME")
        )

    @property
    def source(self) -> StockPlace | None:
        """Where its units come from as far as the phone knows (None: the server chooses)."""
        if self.fulfillment != "SHIP_TO_HOME":
            return self.here
        return next((p for p in self.places() if p.location_id == self.source_id), None)

    @property
    def source_note(self) -> str:
        if self.fulfillment != "SHIP_TO_HOME":
            return ""
        if self.source is None:
            return _("Sent from: this store if it has them, else the nearest warehouse")
        return _("Sent from: {where}").format(where=self.source.name)

    def request(self) -> dict:
        line = {"skuId": self.sku_id, "quantity": self.quantity, "fulfillment": self.fulfillment}
        if self.fulfillment == "SHIP_TO_HOME" and self.source_id:
            line["sourceLocationId"] = self.source_id
        return line


def _place(level: dict, kind: str) -> StockPlace:
    location = level.get("location") or {}
    return StockPlace(
        location_id=location.get("id", ""),
        name=_("This store") if kind == "HERE" else location.get("name", ""),
        kind=kind,
        available=level.get("available", 0),
        distance=distance(level.get("distanceMeters")) if kind != "HERE" else "",
    )


@dataclass(frozen=True)
class CouponChoice:
    """One of her coupons (or one scanned or typed): tapped to apply or take off."""

    code: str
    name: str
    terms: str
    applied: bool
    error: str = ""
    discount: str = ""  # what it took off the order, once the order is made


@dataclass(frozen=True)
class ReceiptLine:
    name: str
    detail: str  # units, unit price, how it reaches her
    total: str
    discount: str  # "" when none


@dataclass(frozen=True)
class Receipt:
    number: str
    paid_at: str
    method: str
    lines: list[ReceiptLine]
    subtotal: str
    discount: str
    total: str
    coupons: list[tuple[str, str]]  # (code, what it took off)
    pickup_code: str
    address: str
    customer: str = field(default="")


class CheckoutPresenter(Presenter):
    """A sale for one customer at the guide's store. ``run`` wraps work started in the background (the
    payment watch) the way the session runs screen actions: a spent session leads back to sign-in."""

    def __init__(
        self,
        api: GuideApi,
        store_id: str,
        customer_id: str,
        *,
        booking_id: str | None = None,
        timezone: str | None = None,
        run: Callable[[Awaitable], Awaitable] | None = None,
        poll_seconds: float = POLL_SECONDS,
        slow_poll_seconds: float = SLOW_POLL_SECONDS,
        backoff: Backoff = Backoff(),
    ) -> None:
        super().__init__()
        self.api = api
        self.store_id = store_id
        self.customer_id = customer_id
        self.booking_id = booking_id
        self.timezone = timezone
        self.run = run or (lambda action: action)
        self.poll_seconds = poll_seconds
        self.slow_poll_seconds = slow_poll_seconds
        self.backoff = backoff
        self.stage = CART
        self.stage_listeners: list[Callable[[str], None]] = []
        self.customer: dict | None = None
        self.her_coupons: list[dict] = []
        # the cart
        self.lines: list[Line] = []
        self.coupon_codes: list[str] = []
        self.coupon_errors: dict[str, str] = {}
        self.address = dict.fromkeys(ADDRESS_FIELDS, "")
        self.address_errors: dict[str, str] = {}
        self._next_key = 1
        # finding products
        self.query = ""
        self.results: list[SkuChoice] = []
        self._found: dict[str, dict] = {}
        self.searched = False
        # scanning: "product" (a barcode) or "coupon" (her coupon's QR code) while the camera is open
        self.camera = False
        self.scan_target: str | None = None
        self._decoding = False
        # the order and its payment
        self.order: dict | None = None
        self.method: str | None = None
        self.terminal_reference = ""
        self.reference_error = ""
        self.payment: dict | None = None
        self.live_connected = False
        self._order_key: str | None = None
        self._pay_key: tuple[tuple, str] | None = None
        self._watcher: asyncio.Task | None = None
        self._wake = asyncio.Event()
        self.live: LiveSubscription | None = None

    # --- stage -------------------------------------------------------------------------------------

    @property
    def screen(self) -> str:
        return STAGE_SCREENS[self.stage]

    def _go(self, stage: str) -> None:
        if stage != self.stage:
            self.stage = stage
            for listener in list(self.stage_listeners):
                listener(stage)

    @property
    def finished(self) -> bool:
        return self.stage == PAID

    # --- the customer ------------------------------------------------------------------------------

    async def load(self) -> bool:
        """Who she is and the coupons she can redeem here now."""
        answer = await self._guarded(
            lambda: self.api.query("CheckoutCustomer", {"id": self.customer_id, "storeId": self.store_id})
        )
        if answer is None:
            return False
        customer = answer["customer"]
        if customer is None:
            self.message = _("Not found: it may have been cancelled.")
            self.changed()
            return False
        self.customer = customer
        self.her_coupons = [edge["node"] for edge in customer["coupons"]["edges"] if edge["node"].get("code")]
        self.changed()
        return True

    @property
    def customer_name(self) -> str:
        return phone((self.customer or {}).get("displayName")) or _("Customer")

    @property
    def customer_phone(self) -> str:
        number = phone((self.customer or {}).get("phone"))
        if number and (self.customer or {}).get("masked"):
            return _("{phone} (masked)").format(phone=number)
        return number

    # --- finding products --------------------------------------------------------------------------

    def edit_query(self, text: str) -> None:
        self.query = text

    async def search_products(self) -> bool:
        wanted = self.query.strip()
        low, high = SEARCH_LENGTH
        if not low <= len(wanted) <= high:
            self.message = _("Type a product's name or code.")
            self.changed()
            return False
        if wanted.isdigit() and len(wanted) in (8, 12, 13):  # a barcode typed in (or pasted)
            return await self.add_by_barcode(wanted)
        answer = await self._guarded(lambda: self.api.query("ProductSearch", {"search": wanted}))
        if answer is None:
            return False
        found = []
        for edge in (answer.get("products") or {}).get("edges") or []:
            product = edge["node"]
            for sku in product.get("skus") or []:
                if sku.get("active"):
                    found.append({**sku, "product": {**(sku.get("product") or {}), "name": product["name"]}})
        self._found = {sku["id"]: sku for sku in found}
        self.results = [
            SkuChoice(sku["id"], sku_name(sku), f"{sku['code']} · {shown_money(sku.get('price'))}") for sku in found
        ]
        self.searched, self.message = True, ""
        self.changed()
        return True

    async def add_found(self, sku_id: str) -> bool:
        """A search result tapped: into the cart (one unit, taken now)."""
        sku = self._found.get(sku_id)
        if sku is None:
            return False
        return await self._add(sku)

    async def add_by_barcode(self, code: str) -> bool:
        """The SKU a scanned (or typed) barcode names, into the cart."""
        code = code.strip()
        answer = await self._guarded(lambda: self.api.query("SkuByBarcode", {"code": code}))
        if answer is None:
            return False
        sku = answer.get("skuByBarcode")
        if sku is None:
            self.message = _("No product has the barcode {code}.").format(code=code)
            self.changed()
            return False
        if not (sku.get("active") and (sku.get("product") or {}).get("active", True)):
            self.message = _("This product is no longer on sale.")
            self.changed()
            return False
        return await self._add(sku)

    async def _add(self, sku: dict) -> bool:
        if not self._cart_open():
            return False
        same = next((x for x in self.lines if x.sku_id == sku["id"] and x.fulfillment == "TAKE_NOW"), None)
        if same is not None:
            self.set_quantity(same.key, same.quantity + 1)
            self.notice = _("{name}: {quantity} now").format(name=same.name, quantity=same.quantity)
            self.changed()
            return True
        if len(self.lines) >= MAX_LINES:
            self.message = _("An order has at most {count} lines.").format(count=MAX_LINES)
            self.changed()
            return False
        line = Line(key=self._next_key, sku=sku)
        self._next_key += 1
        self.lines.append(line)
        self.results, self.query, self.searched, self._found = [], "", False, {}
        self.notice = _("Added: {name}").format(name=line.name)
        self._cart_changed()
        await self.load_stock(line.key)
        return True

    async def load_stock(self, key: int) -> bool:
        """Where this line's SKU can be had: here, the nearest stores (with distances), the warehouses."""
        line = self.line(key)
        if line is None:
            return False
        try:
            answer = await self.api.query("SkuInventory", {"skuId": line.sku_id, "storeId": self.store_id})
        except RECOVERABLE as error:
            self.fail(error)
            return False
        line.stock = answer["inventory"]
        self.changed()
        return True

    # --- the cart ----------------------------------------------------------------------------------

    def line(self, key: int) -> Line | None:
        return next((line for line in self.lines if line.key == key), None)

    def _cart_open(self) -> bool:
        """The cart changes only before the order is made (修改订单 reopens it)."""
        if self.stage != CART:
            self.message = _("The order is made: tap Change order to change it.")
            self.changed()
            return False
        return True

    def _cart_changed(self) -> None:
        """Anything sent to orderCreate changed: the next attempt is a new one (a new key)."""
        self._order_key = None
        self.changed()

    def set_quantity(self, key: int, quantity: int) -> None:
        line = self.line(key)
        if line is None or not self._cart_open():
            return
        line.quantity = max(1, min(MAX_QUANTITY, quantity))
        line.error = ""
        self._cart_changed()

    def change_quantity(self, key: int, delta: int) -> None:
        line = self.line(key)
        if line is not None:
            self.set_quantity(key, line.quantity + delta)

    def set_fulfillment(self, key: int, kind: str) -> None:
        line = self.line(key)
        if line is None or kind not in FULFILLMENTS or not self._cart_open():
            return
        line.fulfillment, line.error = kind, ""
        if kind != "SHIP_TO_HOME":
            line.source_id = None
        line.show_places = kind == "SHIP_TO_HOME" or line.show_places
        self._cart_changed()

    def choose_source(self, key: int, location_id: str | None) -> None:
        """Where a shipped line is sent from (None: the server chooses)."""
        line = self.line(key)
        if line is None or not self._cart_open():
            return
        if line.fulfillment != "SHIP_TO_HOME":
            self.set_fulfillment(key, "SHIP_TO_HOME")
        line.source_id, line.error = location_id, ""
        self._cart_changed()

    def toggle_places(self, key: int) -> None:
        line = self.line(key)
        if line is not None:
            line.show_places = not line.show_places
            self.changed()

    def remove_line(self, key: int) -> None:
        if not self._cart_open():
            return
        self.lines = [line for line in self.lines if line.key != key]
        self._cart_changed()

    @property
    def ships(self) -> bool:
        return any(line.fulfillment == "SHIP_TO_HOME" for line in self.lines)

    def edit_address(self, name: str, value: str) -> None:
        if name in ADDRESS_FIELDS and self.address[name] != value:
            self.address[name] = value
            self.address_errors.pop(name, None)
            self._order_key = None

    # --- coupons -----------------------------------------------------------------------------------

    def coupons(self) -> list[CouponChoice]:
        """Her usable coupons, then any code scanned or typed that is not one of them."""
        taken = {c["code"]: c for c in (self.order or {}).get("coupons") or []}
        rows = []
        for coupon in self.her_coupons:
            campaign = coupon.get("campaign") or {}
            code = coupon["code"]
            rows.append(
                CouponChoice(
                    code=code,
                    name=campaign.get("name", ""),
                    terms=coupon_terms(campaign.get("discount")),
                    applied=code in self.coupon_codes,
                    error=self.coupon_errors.get(code, ""),
                    discount=shown_money(taken[code]["discount"]) if code in taken else "",
                )
            )
        known = {coupon["code"] for coupon in self.her_coupons}
        for code in self.coupon_codes:
            if code not in known:
                scanned = not _TYPED_CODE.fullmatch(code)
                rows.append(
                    CouponChoice(
                        code=code,
                        name=_("Scanned coupon") if scanned else _("Coupon {code}").format(code=code),
                        terms="",
                        applied=True,
                        error=self.coupon_errors.get(code, ""),
                    )
                )
        return rows

    def toggle_coupon(self, code: str) -> None:
        if not self._cart_open():
            return
        if code in self.coupon_codes:
            self.coupon_codes.remove(code)
        elif len(self.coupon_codes) >= MAX_COUPONS:
            self.message = _("At most {count} coupons per order.").format(count=MAX_COUPONS)
        else:
            self.coupon_codes.append(code)
        self.coupon_errors.pop(code, None)
        self._cart_changed()

    def add_coupon(self, text: str) -> bool:
        """A coupon code typed, or her coupon's QR code scanned: applied when the order is made (the server
        checks it then, and says so on its row when it is refused)."""
        code = text.strip()
        if _TYPED_CODE.fullmatch(code):
            code = code.upper()
        if not code:
            self.message = _("Type her coupon code, or scan her coupon's QR code.")
            self.changed()
            return False
        if code in self.coupon_codes:
            self.notice = _("This coupon is applied already.")
            self.changed()
            return True
        self.toggle_coupon(code)
        return code in self.coupon_codes

    # --- scanning (a product's barcode, her coupon's QR code) --------------------------------------

    def set_camera(self, available: bool) -> None:
        self.camera = available
        if not self.can_scan:
            self.scan_target = None
        self.changed()

    @property
    def can_scan(self) -> bool:
        return self.camera and decoder_available()

    def start_scan(self, target: str) -> bool:
        if target not in ("product", "coupon"):
            raise ValueError(f"unknown scan target {target!r}")
        if not self.can_scan:
            self.message = _("No camera here: type the code instead.")
            self.changed()
            return False
        self.scan_target, self.message, self.notice = target, "", ""
        self.changed()
        return True

    def stop_scan(self, message: str = "") -> None:
        self.scan_target = None
        self.message = message
        self.changed()

    async def scan_frame(self, pixels: bytes, size: tuple[int, int], pixel_format: str = "rgba") -> bool:
        """Look for the code in a camera frame; the first one read stops the camera and is used. Frames that
        come while one is being decoded are skipped."""
        target = self.scan_target
        if target is None or self._decoding:
            return False
        self._decoding = True
        decode = decode_product_code if target == "product" else decode_qr
        try:
            code = await asyncio.to_thread(decode, pixels, size, pixel_format)
        finally:
            self._decoding = False
        if code is None or self.scan_target != target:
            return False
        self.scan_target = None
        self.changed()
        if target == "product":
            return await self.add_by_barcode(code)
        return self.add_coupon(code)

    # --- the order ---------------------------------------------------------------------------------

    def _check_cart(self) -> bool:
        if not self.lines:
            self.message = _("Add a product first.")
        elif self.ships:
            self.address_errors = {
                name: _("This field is required.") for name in ADDRESS_FIELDS if not self.address[name].strip()
            }
            if self.address_errors:
                self.message = _("A line ships to her: fill in the shipping address.")
        return not self.message

    def order_input(self) -> dict:
        given = {
            "storeId": self.store_id,
            "customerId": self.customer_id,
            "lines": [line.request() for line in self.lines],
            "couponCodes": list(self.coupon_codes),
            "idempotencyKey": self._order_key,
        }
        if self.booking_id:
            given["bookingId"] = self.booking_id
        if self.ships:
            given["shippingAddress"] = {name: self.address[name].strip() for name in ADDRESS_FIELDS}
        return given

    async def place_order(self) -> bool:
        """去收款: the cart becomes an order the server prices; its units are held until it is paid."""
        if self.stage != CART:
            return self.stage in (PAY, WAITING)
        self.message = ""
        for line in self.lines:
            line.error = ""
        self.coupon_errors, self.address_errors = {}, {}
        if not self._check_cart():
            self.changed()
            return False
        if self._order_key is None:
            self._order_key = new_key()
        answer = await self._guarded(lambda: self.api.mutate("OrderCreate", {"input": self.order_input()}))
        if answer is None:
            return False  # the key stays: tapping again is the same attempt
        payload = answer["orderCreate"]
        if payload["errors"]:
            self._show_errors(payload["errors"])
            return False
        self._take_order(payload["order"])
        self.method, self.terminal_reference, self.reference_error, self.payment = None, "", "", None
        self._go(PAY)
        self.changed()
        return True

    def _show_errors(self, errors: list[dict]) -> None:
        """Each refusal on the line, coupon or address field it names; the rest (and a summary) in the
        snackbar."""
        general = []
        for error in errors:
            text = user_error_message(error)
            path = [part for part in error.get("field") or [] if part != "input"]
            where = path[0] if path else ""
            index = int(path[1]) if len(path) > 1 and path[1].isdigit() else None
            if where == "lines" and index is not None and index < len(self.lines):
                line = self.lines[index]
                line.error = f"{line.error} {text}".strip()
            elif where == "couponCodes" and index is not None and index < len(self.coupon_codes):
                self.coupon_errors[self.coupon_codes[index]] = text
            elif where == "shippingAddress" and len(path) > 1 and path[1] in ADDRESS_FIELDS:
                self.address_errors[path[1]] = text
            elif where == "terminalReference":
                self.reference_error = text
            else:
                general.append(text)
        shown_elsewhere = len(general) < len(errors)
        if general:
            self.message = " ".join(general)
        elif shown_elsewhere:
            self.message = _("Not done: see the lines marked in red.") + " " + user_error_message(errors[0])
        self.changed()

    def _take_order(self, order: dict) -> None:
        self.order = order
        self._pay_key = None

    async def change_order(self) -> bool:
        """修改订单: the unpaid order is cancelled (its units go back) and the cart opens again as it was."""
        if self.order is None or self.stage not in (PAY, WAITING):
            return False
        await self._stop_watching()
        answer = await self._guarded(lambda: self.api.mutate("OrderCancel", {"orderId": self.order["id"]}))
        if answer is None:
            return False
        payload = answer["orderCancel"]
        if payload["errors"]:
            # Paid meanwhile (a late QR payment): the receipt. Expired or cancelled elsewhere: back to the cart.
            if not await self.check_payment():
                self._reopen_cart()
            return self.stage == CART
        self._reopen_cart()
        return True

    def _reopen_cart(self) -> None:
        self.order, self.payment, self.method = None, None, None
        self._order_key = None  # that order is gone: the next one is a new attempt
        self._go(CART)
        self.changed()

    # --- what the pay screen shows (the server's figures) -------------------------------------------

    @property
    def number(self) -> str:
        return (self.order or {}).get("number", "")

    @property
    def subtotal(self) -> str:
        return shown_money((self.order or {}).get("subtotal"))

    @property
    def discount(self) -> str:
        """What the coupons took off ("" when nothing)."""
        value = (self.order or {}).get("discount") or {}
        return shown_money(value) if value.get("amount") else ""

    @property
    def total(self) -> str:
        return shown_money((self.order or {}).get("total"))

    @property
    def total_amount(self) -> int | None:
        return ((self.order or {}).get("total") or {}).get("amount")

    @property
    def expires(self) -> str:
        return day_and_time((self.order or {}).get("expiresAt"), self.timezone)

    def order_lines(self) -> list[ReceiptLine]:
        rows = []
        for line in (self.order or {}).get("lines") or []:
            kind = line["fulfillment"]
            detail = _("{quantity} × {price}").format(quantity=line["quantity"], price=shown_money(line["unitPrice"]))
            detail += " · " + fulfillment(kind)
            if kind == "SHIP_TO_HOME":
                detail += " · " + _("from {where}").format(where=(line.get("sourceLocation") or {}).get("name", ""))
            off = line.get("discount") or {}
            rows.append(
                ReceiptLine(
                    name=line["name"],
                    detail=detail,
                    total=shown_money(line["total"]),
                    discount=_("Coupon −{amount}").format(amount=shown_money(off)) if off.get("amount") else "",
                )
            )
        return rows

    # --- payment -----------------------------------------------------------------------------------

    def choose_method(self, method: str) -> None:
        if method not in METHODS:
            raise ValueError(f"unknown payment method {method!r}")
        self.method, self.reference_error = method, ""
        self.changed()

    def edit_reference(self, text: str) -> None:
        self.terminal_reference = text
        self.reference_error = ""

    def _pay_input(self) -> dict:
        reference = self.terminal_reference.strip() if self.method == "CARD_TERMINAL" else ""
        attempt = (self.order["id"], self.method, reference)
        if self._pay_key is None or self._pay_key[0] != attempt:
            self._pay_key = (attempt, new_key())
        given = {"orderId": self.order["id"], "method": self.method, "idempotencyKey": self._pay_key[1]}
        if reference:
            given["terminalReference"] = reference
        return given

    async def pay(self) -> bool:
        """收款: cash and card settle at once (card with the terminal's slip number); WeChat Pay and Alipay
        show her a QR code and wait for the provider's word."""
        if self.order is None or self.stage != PAY:
            return False
        if self.method is None:
            self.message = _("Choose how she pays.")
            self.changed()
            return False
        if self.method == "CARD_TERMINAL" and not self.terminal_reference.strip():
            self.reference_error = _("Type in the card terminal's slip number.")
            self.message = self.reference_error
            self.changed()
            return False
        given = self._pay_input()
        answer = await self._guarded(lambda: self.api.mutate("OrderPay", {"input": given}))
        if answer is None:
            return False  # the key stays: tapping again is the same payment
        payload = answer["orderPay"]
        if payload["errors"]:
            self._show_errors(payload["errors"])
            if any(e["code"] == "NOT_PAYABLE" for e in payload["errors"]):
                await self.check_payment()  # paid already (a lost answer), or expired: show which
            return False
        self._take_order(payload["order"])
        self.payment = payload["payment"]
        if self.order["status"] == "PAID":
            self._paid()
            return True
        if self.payment and self.payment.get("qrPayload"):
            self._go(WAITING)
            self.changed()
            self.watch_payment()
            return True
        self.message = _("The payment did not start. Choose another way to pay.")
        self.changed()
        return False

    def _paid(self) -> None:
        self.message = ""
        self.notice = _("Paid: {total}").format(total=self.total)
        self._go(PAID)
        self.changed()

    # --- waiting for a QR payment ------------------------------------------------------------------

    @property
    def qr_payload(self) -> str:
        return (self.payment or {}).get("qrPayload") or ""

    def qr_modules(self) -> list[list[bool]]:
        return qr_modules(self.qr_payload) if self.qr_payload else []

    @property
    def waiting_note(self) -> str:
        if self.stage != WAITING:
            return ""
        if self.live_connected:
            return _("Waiting for her payment…")
        return _("Waiting for her payment (the live connection is down: checking every {seconds} s)…").format(
            seconds=round(self.poll_seconds)
        )

    def watch_payment(self) -> None:
        """Listen to orderPaid (and ask order(id:) when the socket is down) until the order is paid."""
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.ensure_future(self._run_watch())

    async def _run_watch(self) -> None:
        await self.run(self._watch())  # made here: a watch cancelled before it starts leaves no coroutine behind

    async def _watch(self) -> None:
        live = LiveSubscription(
            self.api, "OrderPaid", {"storeId": self.store_id}, self._order_event, self._live_state, backoff=self.backoff
        )
        self.live = live
        live.start()
        try:
            await self.check_payment()  # paid before the socket was up
            while self.stage == WAITING:
                self._wake.clear()
                interval = self.slow_poll_seconds if live.connected else self.poll_seconds
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=interval)
                if self.stage == WAITING:
                    await self.check_payment()
        finally:
            await live.stop()
            self.live_connected = False

    async def _order_event(self, data: dict) -> None:
        order = data.get("orderPaid") or {}
        if self.order is not None and order.get("id") == self.order["id"] and self.stage == WAITING:
            self._take_order(order)
            self._paid()
            self._wake.set()

    async def _live_state(self, connected: bool) -> None:
        self.live_connected = connected
        if connected:
            self._wake.set()  # catch up: it may have been paid while the socket was down
        self.changed()

    async def check_payment(self) -> bool:
        """Ask the server about the order now; True when it is paid."""
        if self.order is None:
            return False
        try:
            order = (await self.api.query("OrderDetail", {"id": self.order["id"]}))["order"]
        except RECOVERABLE as error:
            log.info("checking order %s failed: %s", self.order["id"], error)
            return False
        if order is None:
            return False
        if self.stage == PAID:
            return True
        self._take_order(order)
        if order["status"] == "PAID":
            self._paid()
            return True
        if order["status"] in ("CANCELLED", "EXPIRED"):
            self.message = _("This order is no longer open ({status}): make it again.").format(
                status=_("cancelled") if order["status"] == "CANCELLED" else _("expired")
            )
            await self._stop_watching(wait=False)
            self._reopen_cart()
            return False
        latest = (order.get("payments") or [{}])[-1]
        if self.stage == WAITING and latest.get("status") in ("FAILED", "CLOSED"):
            self.message = _("The QR payment was closed. Choose how she pays again.")
            self._go(PAY)
        self.changed()
        return False

    async def other_method(self) -> None:
        """换一种方式: stop waiting; the pay screen again (the QR code she has not paid stays open at the
        provider until it expires; paid after all, the order shows it)."""
        if self.stage != WAITING:
            return
        await self._stop_watching()
        self._go(PAY)
        self.changed()

    async def _stop_watching(self, *, wait: bool = True) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None and not watcher.done() and watcher is not asyncio.current_task():
            watcher.cancel()
            if wait:
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher

    async def close(self) -> None:
        """The sale is over or left: stop listening."""
        await self._stop_watching()

    async def abandon(self) -> None:
        """放弃: an unpaid order is cancelled (its units go back); the cart is forgotten by the session."""
        await self._stop_watching()
        if self.order is not None and self.stage in (PAY, WAITING):
            with contextlib.suppress(*RECOVERABLE):
                await self.api.mutate("OrderCancel", {"orderId": self.order["id"]})

    # --- the receipt -------------------------------------------------------------------------------

    def receipt(self) -> Receipt | None:
        order = self.order
        if order is None or order.get("status") != "PAID":
            return None
        paid = next((p for p in reversed(order.get("payments") or []) if p.get("status") == "SUCCEEDED"), None)
        method = payment_method(paid["method"]) if paid else ""
        if paid and paid.get("terminalReference"):
            method += " · " + _("slip {reference}").format(reference=paid["terminalReference"])
        address = order.get("shippingAddress") or {}
        return Receipt(
            number=order["number"],
            paid_at=day_and_time(order.get("paidAt"), self.timezone),
            method=method,
            lines=self.order_lines(),
            subtotal=self.subtotal,
            discount=self.discount,
            total=self.total,
            coupons=[(c["code"], shown_money(c["discount"])) for c in order.get("coupons") or []],
            pickup_code=order.get("pickupCode") or "",
            address=" ".join(
                part
                for part in (
                    address.get("province"),
                    address.get("city"),
                    address.get("district"),
                    address.get("detail"),
                    address.get("recipient"),
                    phone(address.get("mobile")),
                )
                if part
            ),
            customer=self.customer_name,
        )

    # --- one request at a time ---------------------------------------------------------------------

    async def _guarded(self, request: Callable[[], Awaitable[dict]]) -> dict | None:
        """A second tap while a request is out does nothing; failures become a message (what was typed
        and the keys stay, so tapping again retries the same attempt)."""
        if self.busy:
            return None
        self.busy = True
        self.changed()
        try:
            return await request()
        except RECOVERABLE as error:
            self.fail(error)
        finally:
            self.busy = False
            self.changed()
        return None
