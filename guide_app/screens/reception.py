"""Reception: the customer's summary, the SOP checklist, check-in by QR code, completion."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from ..i18n import _
from ..presenters.reception import ReceptionPresenter, StepRow
from .widgets import WrappedLabel, run, show


class StepWidget(BoxLayout):
    position = NumericProperty(0)
    title = StringProperty("")
    guidance = StringProperty("")
    done = BooleanProperty(False)

    @classmethod
    def of(cls, step: StepRow) -> StepWidget:
        required = _("(required)") if step.required else _("(optional)")
        return cls(position=step.position, title=f"{step.title} {required}", guidance=step.guidance, done=step.done)

    def tick(self) -> None:
        presenter = App.get_running_app().session.reception
        run(presenter.tick(self.position))


class ReceptionScreen(Screen):
    presenter: ReceptionPresenter | None = None

    def bind_presenter(self, presenter: ReceptionPresenter) -> None:
        self.presenter = presenter
        presenter.subscribe(lambda _: self.redraw())
        self.redraw()

    def redraw(self) -> None:
        p = self.presenter
        if p is None:
            return
        ids = self.ids
        ids.name.text = p.customer_name
        ids.phone.text = _("Phone: {phone}").format(phone=p.phone)
        ids.slot.text = _("Slot: {slot} · {status}").format(slot=p.slot, status=p.status)
        ids.tags.text = _("Tags: {tags}").format(tags="、".join(p.tags)) if p.tags else ""
        ids.livestream.text = _("From the livestream: {title}").format(title=p.livestream_title) \
            if p.livestream_title else ""
        ids.products.text = _("Products: {names}").format(names="、".join(p.products)) if p.products else ""
        for widget in (ids.tags, ids.livestream, ids.products):
            show(widget, bool(widget.text))
        self._fill(ids.talking_points, [WrappedLabel(text=f"• {point}") for point in p.talking_points])
        self._fill(ids.steps, [StepWidget.of(step) for step in p.steps])
        ids.code.text = p.qr_code
        show(ids.check_in_box, not p.checked_in and not p.finished)
        ids.complete.disabled = p.finished or p.busy
        ids.message.text, ids.notice.text = p.message, p.notice
        show(ids.message, bool(p.message))
        show(ids.notice, bool(p.notice))

    @staticmethod
    def _fill(container, widgets) -> None:
        container.clear_widgets()
        for widget in widgets:
            container.add_widget(widget)

    def check_in(self) -> None:
        self.presenter.edit_code(self.ids.code.text)
        run(self.presenter.check_in())

    def complete(self) -> None:
        run(self.presenter.complete())

    def open_customer(self) -> None:
        session = App.get_running_app().session
        customer = self.presenter.customer
        if customer.get("id"):
            timezone = ((self.presenter.task or {}).get("store") or {}).get("timezone")
            run(session.open_customer(customer["id"], timezone))

    def back(self) -> None:
        App.get_running_app().session.go("inbox")
