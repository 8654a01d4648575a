"""收银, paying: the order as the server priced it (lines, coupons, total), how she pays (cash, card with the
terminal's slip number, WeChat Pay, Alipay), 收款, or 修改订单 (the unpaid order is cancelled)."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivymd.uix.boxlayout import MDBoxLayout
from kivymd.uix.screen import MDScreen

from ..i18n import _
from ..presenters.checkout import METHODS, CheckoutPresenter, ReceiptLine
from ..presenters.formatting import payment_method
from .widgets import Announcer, run, show

METHOD_ICONS = {"CASH": "cash", "CARD_TERMINAL": "credit-card-outline", "WECHAT_PAY": "wechat", "ALIPAY": "qrcode"}


class OrderLineItem(MDBoxLayout):
    """A line of the order: name, units and unit price, its total (and its coupon discount)."""

    name = StringProperty("")
    detail = StringProperty("")
    total = StringProperty("")
    discount = StringProperty("")

    @classmethod
    def of(cls, line: ReceiptLine) -> OrderLineItem:
        return cls(name=line.name, detail=line.detail, total=line.total, discount=line.discount)


class AmountRow(MDBoxLayout):
    """What (left) and how much (right): 商品金额, 优惠, 应收."""

    label = StringProperty("")
    value = StringProperty("")
    strong = BooleanProperty(False)
    shown = BooleanProperty(True)


class MethodTile(ButtonBehavior, MDBoxLayout):
    """A way to pay, chosen by tapping the tile (56 dp high)."""

    method = StringProperty("")
    icon = StringProperty("")
    text = StringProperty("")
    selected = BooleanProperty(False)

    def on_release(self) -> None:
        App.get_running_app().session.checkout.choose_method(self.method)


class PaymentScreen(MDScreen):
    presenter: CheckoutPresenter | None = None

    def on_kv_post(self, base_widget) -> None:
        for method in METHODS:
            self.ids.methods.add_widget(
                MethodTile(method=method, icon=METHOD_ICONS[method], text=payment_method(method))
            )

    def bind_presenter(self, presenter: CheckoutPresenter) -> None:
        self.presenter = presenter
        self._announcer = Announcer()
        self._announcer.follow(presenter)
        presenter.subscribe(lambda _: self.redraw())
        self.redraw()

    def redraw(self) -> None:
        p = self.presenter
        if p is None or p.order is None:
            if p is not None:
                self._announcer.announce_on(self, p)
            return
        ids = self.ids
        ids.number.text = _("Order {number}").format(number=p.number)
        ids.expires.text = _("Unpaid, it is released at {time}").format(time=p.expires) if p.expires else ""
        ids.lines.clear_widgets()
        for line in p.order_lines():
            ids.lines.add_widget(OrderLineItem.of(line))
        ids.subtotal.value = p.subtotal
        ids.discount.value = f"−{p.discount}" if p.discount else ""
        ids.discount.shown = bool(p.discount)
        ids.total.value = p.total
        for tile in ids.methods.children:
            tile.selected = tile.method == p.method
        card = p.method == "CARD_TERMINAL"
        show(ids.reference_box, card)
        if ids.reference.text != p.terminal_reference:
            ids.reference.text = p.terminal_reference
        ids.reference_error.text = p.reference_error
        ids.pay_text.text = _("Take {total}").format(total=p.total)
        ids.pay.disabled = p.busy or p.method is None
        ids.change.disabled = p.busy
        self._announcer.announce_on(self, p)

    def pay(self) -> None:
        self.presenter.edit_reference(self.ids.reference.text)
        run(self.presenter.pay())

    def change_order(self) -> None:
        run(self.presenter.change_order())
