"""收银, the cart: find products (by name or code, or a scanned barcode), the lines with their stock here,
in nearby stores and warehouses and how each reaches her, her coupons (tapped, typed or scanned), the
shipping address when a line ships, and 去收款 (the server makes and prices the order)."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivymd.uix.boxlayout import MDBoxLayout
from kivymd.uix.screen import MDScreen

from ..camera import camera_available, with_camera_permission
from ..i18n import _
from ..presenters.checkout import ADDRESS_FIELDS, ADDRESS_LABELS, FULFILLMENTS, CheckoutPresenter, Line
from ..presenters.formatting import fulfillment
from .scanner import CameraFeed
from .widgets import Announcer, Card, FilterChip, TapRow, reveal, run, show


def presenter() -> CheckoutPresenter | None:
    return App.get_running_app().session.checkout


class SkuRow(TapRow):
    """A product found: tapped, one unit goes into the cart."""

    sku_id = StringProperty("")
    name = StringProperty("")
    detail = StringProperty("")

    def on_release(self) -> None:
        run(presenter().add_found(self.sku_id))


class PlaceRow(TapRow):
    """Where units are (this store, another store, a warehouse): tapped, the line ships from there."""

    key = NumericProperty(0)
    location_id = StringProperty("")
    text = StringProperty("")
    chosen = BooleanProperty(False)
    selectable = BooleanProperty(False)  # the line ships: a place to send it from

    def on_release(self) -> None:
        p = presenter()
        line = p.line(self.key)
        if (
            line is not None
            and line.fulfillment != "SHIP_TO_HOME"
            and line.here
            and line.here.location_id == (self.location_id)
        ):
            return  # taken now or picked up here: it already comes from this store
        p.choose_source(self.key, self.location_id or None)


class LineCard(Card):
    """A line of the cart: name and price, −/+ for the units, how it reaches her, its stock and error."""

    key = NumericProperty(0)
    name = StringProperty("")
    price = StringProperty("")
    quantity = NumericProperty(1)
    stock_note = StringProperty("")
    source_note = StringProperty("")
    error = StringProperty("")
    short = BooleanProperty(False)
    show_places = BooleanProperty(False)

    @classmethod
    def of(cls, line: Line, editable: bool) -> LineCard:
        card = cls(
            key=line.key,
            name=line.name,
            price=line.price,
            quantity=line.quantity,
            stock_note=line.stock_note,
            source_note=line.source_note,
            error=line.error,
            short=line.short,
            show_places=line.show_places,
        )
        chips = card.ids.fulfillments
        for kind in FULFILLMENTS:
            chip = FilterChip(text=fulfillment(kind), selected=line.fulfillment == kind, disabled=not editable)
            chip.bind(on_release=lambda _chip, kind=kind: presenter().set_fulfillment(line.key, kind))
            chips.add_widget(chip)
        places = card.ids.places
        if line.show_places:
            shipping = line.fulfillment == "SHIP_TO_HOME"
            if shipping:
                places.add_widget(
                    PlaceRow(
                        key=line.key,
                        text=_("Let the system choose"),
                        chosen=line.source_id is None,
                        selectable=True,
                        disabled=not editable,
                    )
                )
            for place in line.places():
                places.add_widget(
                    PlaceRow(
                        key=line.key,
                        location_id=place.location_id,
                        text=place.label,
                        chosen=shipping and place.location_id == line.source_id,
                        selectable=shipping,
                        disabled=not editable,
                    )
                )
        card.ids.places_button_text.text = _("Hide") if line.show_places else _("Other stores and warehouses")
        for button in (card.ids.minus, card.ids.plus, card.ids.remove_button):
            button.disabled = not editable
        return card

    def change(self, delta: int) -> None:
        presenter().change_quantity(self.key, delta)

    def remove(self) -> None:
        presenter().remove_line(self.key)

    def toggle_places(self) -> None:
        presenter().toggle_places(self.key)


class CouponRow(TapRow):
    """One of her coupons (or one typed or scanned): tapped, applied or taken off."""

    code = StringProperty("")
    name = StringProperty("")
    terms = StringProperty("")
    applied = BooleanProperty(False)
    error = StringProperty("")

    def on_release(self) -> None:
        presenter().toggle_coupon(self.code)


class AddressField(MDBoxLayout):
    """A line of her shipping address, with the server's (or the phone's) word on it below."""

    name = StringProperty("")
    hint = StringProperty("")
    error = StringProperty("")

    def edited(self, text: str) -> None:
        p = presenter()
        if p is not None:
            p.edit_address(self.name, text)
            if self.error:
                self.error = ""


class CheckoutScreen(MDScreen):
    presenter: CheckoutPresenter | None = None
    _feed: CameraFeed | None = None

    @property
    def camera(self):
        return self._feed.camera if self._feed is not None else None

    def on_kv_post(self, base_widget) -> None:
        for name in ADDRESS_FIELDS:
            field = AddressField(name=name, hint=_(ADDRESS_LABELS[name]))
            if name == "mobile":
                field.ids.field.input_type = "number"
            self.ids.address_fields.add_widget(field)

    def address_field(self, name: str) -> AddressField:
        return next(f for f in self.ids.address_fields.children if f.name == name)

    def bind_presenter(self, presenter: CheckoutPresenter) -> None:
        if self.presenter is not None and self.presenter is not presenter:
            self.presenter.stop_scan()
        self.presenter = presenter
        self._announcer = Announcer()
        self._announcer.follow(presenter)
        presenter.subscribe(lambda _: self.redraw())
        for name in ADDRESS_FIELDS:
            self.address_field(name).ids.field.text = presenter.address[name]
        self.ids.query.text = presenter.query
        presenter.set_camera(camera_available())  # redraws

    def redraw(self) -> None:
        p = self.presenter
        if p is None or self.manager is None:
            return
        ids = self.ids
        editable = p.stage == "cart"
        ids.customer.text = p.customer_name
        number = p.customer_phone if p.customer_phone != p.customer_name else ""  # a name, then her phone
        ids.customer_detail.text = " · ".join(
            part for part in (number, _("With her booking") if p.booking_id else _("Walk-in customer")) if part
        )
        if ids.query.text != p.query:
            ids.query.text = p.query
        reveal(ids.scan_product, p.can_scan)
        ids.results.clear_widgets()
        for found in p.results:
            ids.results.add_widget(SkuRow(sku_id=found.sku_id, name=found.name, detail=found.detail))
        ids.no_results.text = _("No product matches.") if p.searched and not p.results else ""
        lines = ids.lines
        lines.clear_widgets()
        for line in p.lines:
            lines.add_widget(LineCard.of(line, editable))
        ids.empty.text = "" if p.lines else _("The cart is empty: search for a product or scan its barcode.")
        coupons = p.coupons()
        ids.coupons.clear_widgets()
        for coupon in coupons:
            ids.coupons.add_widget(
                CouponRow(
                    code=coupon.code, name=coupon.name, terms=coupon.terms, applied=coupon.applied, error=coupon.error
                )
            )
        ids.no_coupons.text = "" if coupons else _("She has no coupon that can be used here now.")
        show(ids.scan_coupon, p.can_scan)
        show(ids.address_card, p.ships)
        for name in ADDRESS_FIELDS:
            field = self.address_field(name)
            field.error = p.address_errors.get(name, "")
            field.ids.field.error = bool(field.error)
        units = sum(line.quantity for line in p.lines)
        ids.count.text = _("{count} items").format(count=units) if units else ""
        ids.go_pay.disabled = p.busy or not p.lines
        self._show_camera(p.scan_target)
        self._announcer.announce_on(self, p)

    # --- actions -----------------------------------------------------------------------------------

    def search(self) -> None:
        self.presenter.edit_query(self.ids.query.text)
        run(self.presenter.search_products())

    def add_coupon(self) -> None:
        if self.presenter.add_coupon(self.ids.coupon_code.text):
            self.ids.coupon_code.text = ""

    def go_pay(self) -> None:
        run(self.presenter.place_order())

    def abandon(self) -> None:
        run(App.get_running_app().session.finish_checkout())

    # --- scanning: a product's barcode, or her coupon's QR code ------------------------------------

    def toggle_scan(self, target: str) -> None:
        p = self.presenter
        if p.scan_target == target:
            p.stop_scan()
            return
        with_camera_permission(lambda granted: self._permission_answered(granted, target))

    def _permission_answered(self, granted: bool, target: str) -> None:
        if granted:
            self.presenter.start_scan(target)
        else:
            self.presenter.stop_scan(_("The camera is not allowed: type the code instead."))

    def _show_camera(self, target: str | None) -> None:
        if self._feed is None:
            self._feed = CameraFeed(self.ids.camera_box, self._frame, self._camera_failed)
        self._feed.update(target is not None)
        show(self.ids.scan_panel, target is not None)
        self.ids.scan_title.text = (
            _("Point the camera at the product's barcode")
            if target == "product"
            else _("Point the camera at her coupon's QR code")
            if target == "coupon"
            else ""
        )

    def _frame(self, pixels: bytes, size: tuple[int, int], pixel_format: str) -> None:
        if self.presenter is not None:
            run(self.presenter.scan_frame(pixels, size, pixel_format))

    def _camera_failed(self) -> None:
        self.presenter.stop_scan(_("The camera could not be opened: type the code instead."))

    def stop_scan(self) -> None:
        self.presenter.stop_scan()

    def on_leave(self, *args) -> None:
        if self.presenter is not None and self.presenter.scan_target:
            self.presenter.stop_scan()
