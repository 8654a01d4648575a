"""收银, paid: the receipt (order number, when, how, lines, coupons, total, her pickup code, where it ships)
and 完成 (back to the reception or the 收银 tab)."""

from __future__ import annotations

from kivy.app import App
from kivymd.uix.screen import MDScreen

from ..i18n import _
from ..presenters.checkout import CheckoutPresenter
from .payment import AmountRow, OrderLineItem
from .widgets import Announcer, run, show


class ReceiptScreen(MDScreen):
    presenter: CheckoutPresenter | None = None

    def bind_presenter(self, presenter: CheckoutPresenter) -> None:
        self.presenter = presenter
        self._announcer = Announcer()
        self._announcer.follow(presenter)
        presenter.subscribe(lambda _: self.redraw())
        self.redraw()

    def redraw(self) -> None:
        p = self.presenter
        receipt = p.receipt() if p is not None else None
        if receipt is None:
            if p is not None:
                self._announcer.announce_on(self, p)
            return
        ids = self.ids
        ids.total.text = receipt.total
        ids.customer.text = receipt.customer
        facts = ids.facts
        facts.clear_widgets()
        for label, value in (
            (_("Order number"), receipt.number),
            (_("Paid at"), receipt.paid_at),
            (_("Paid by"), receipt.method),
        ):
            facts.add_widget(AmountRow(label=label, value=value))
        ids.lines.clear_widgets()
        for line in receipt.lines:
            ids.lines.add_widget(OrderLineItem.of(line))
        ids.subtotal.value = receipt.subtotal
        ids.discount.value = f"−{receipt.discount}" if receipt.discount else ""
        ids.discount.shown = bool(receipt.discount)
        ids.paid.value = receipt.total
        ids.coupons.clear_widgets()
        for code, amount in receipt.coupons:
            ids.coupons.add_widget(AmountRow(label=_("Coupon {code}").format(code=code), value=f"−{amount}"))
        show(ids.pickup_card, bool(receipt.pickup_code))
        ids.pickup_code.text = receipt.pickup_code
        show(ids.address_card, bool(receipt.address))
        ids.address.text = receipt.address
        self._announcer.announce_on(self, p)

    def done(self) -> None:
        run(App.get_running_app().session.finish_checkout())
