"""Reception: the customer's summary, the SOP checklist, check-in (from the task, by code, by QR), completion."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivymd.uix.boxlayout import MDBoxLayout
from kivymd.uix.screen import MDScreen

from ..camera import camera_available, with_camera_permission
from ..i18n import _
from ..presenters.display import reception_outcome, reception_summary
from ..presenters.formatting import listing
from ..presenters.reception import ReceptionPresenter, StepRow
from .scanner import CameraFeed
from .widgets import Announcer, TapRow, run, show


class PointItem(MDBoxLayout):
    """A talking point: a bullet icon beside text that wraps."""

    text = StringProperty("")


class StepItem(TapRow):
    """A checklist step: the whole row ticks it, or unticks it while the reception goes on."""

    position = NumericProperty(0)
    title = StringProperty("")
    guidance = StringProperty("")
    required = BooleanProperty(False)
    done = BooleanProperty(False)
    locked = BooleanProperty(False)  # the reception is over: the checklist is a record

    @classmethod
    def of(cls, step: StepRow, *, locked: bool = False) -> StepItem:
        return cls(
            position=step.position,
            title=step.title,
            guidance=step.guidance,
            required=step.required,
            done=step.done,
            locked=locked,
        )

    def on_release(self) -> None:
        self.tick()

    def tick(self) -> None:
        presenter = App.get_running_app().session.reception
        run(presenter.toggle(self.position))


class ReceptionScreen(MDScreen):
    presenter: ReceptionPresenter | None = None
    _feed: CameraFeed | None = None

    @property
    def camera(self):
        """The kivy.uix.camera.Camera widget while scanning."""
        return self._feed.camera if self._feed is not None else None

    def bind_presenter(self, presenter: ReceptionPresenter) -> None:
        if self.presenter is not None:
            self.presenter.stop_scan()
        self.presenter = presenter
        self._announcer = Announcer()
        self._announcer.follow(presenter)
        presenter.subscribe(lambda _: self.redraw())
        presenter.set_camera(camera_available())  # redraws

    def redraw(self) -> None:
        p = self.presenter
        if p is None:
            return
        ids = self.ids
        summary = reception_summary(p)
        outcome = reception_outcome(p)
        show(ids.outcome, outcome is not None)
        if outcome is not None:
            ids.outcome_title.text, ids.outcome_detail.text = outcome.title, outcome.detail
            ids.outcome_icon.icon = "check-circle" if outcome.success else "cancel"
        ids.phone.text = summary.phone
        ids.service.text = _("Slot: {slot} · {status}").format(slot=p.slot, status=p.status)
        if summary.service:
            ids.service.text += f" · {summary.service}"
        ids.tags.text = _("Tags: {tags}").format(tags=listing(p.tags)) if p.tags else ""
        ids.note.text = _("Her note: {note}").format(note=summary.note) if summary.note else ""
        for line in (ids.tags, ids.note):
            show(line, bool(line.text))
        ids.livestream.text = (
            _("From the livestream: {title}").format(title=p.livestream_title) if p.livestream_title else ""
        )
        show(ids.livestream_card, bool(p.livestream_title))
        self._fill(ids.talking_points, [PointItem(text=point) for point in p.talking_points])
        ids.booked.text = _("Booked: {names}").format(names=listing(summary.booked)) if summary.booked else ""
        ids.interests.text = (
            _("Also interested in: {names}").format(names=listing(summary.interests)) if summary.interests else ""
        )
        show(ids.products_card, bool(summary.booked or summary.interests))
        self._fill(ids.steps, [StepItem.of(step, locked=p.finished) for step in p.steps])
        if ids.code.text != p.qr_code:
            ids.code.text = p.qr_code
        open_for_check_in = not p.checked_in and not p.finished
        show(ids.check_in_card, open_for_check_in)
        # While a check-in is on its way its buttons are off: a second tap cannot send it twice.
        ids.check_in_task.disabled = ids.check_in_code.disabled = not open_for_check_in or p.checking_in
        show(ids.scan, open_for_check_in and p.can_scan)
        ids.scan_text.text = _("Stop scanning") if p.scanning else _("Scan to check in")
        ids.scan_note.text = p.scan_note if open_for_check_in else ""
        self._show_camera(p.scanning and open_for_check_in)
        show(ids.complete, not p.finished)
        ids.complete.disabled = p.finished or p.busy
        # 开单: a sale for her, with her booking (paying it completes the reception); the one under way if any.
        session = App.get_running_app().session
        selling = session.checkout if session is not None else None
        ours = selling is not None and selling.customer_id == p.customer.get("id") and not selling.finished
        show(ids.sell, bool(p.customer.get("id")) and (p.task or {}).get("status") != "CANCELLED")
        ids.sell_text.text = _("Back to her sale") if ours else _("Sell to her")
        self._announcer.announce(p)

    @staticmethod
    def _fill(container, widgets) -> None:
        container.clear_widgets()
        for widget in widgets:
            container.add_widget(widget)

    def check_in(self) -> None:
        """By what was typed (or pasted): her 6-digit code or her QR code."""
        self.presenter.edit_code(self.ids.code.text)
        run(self.presenter.check_in())

    def check_in_from_task(self) -> None:
        """She is here: check in this task's booking, no code needed."""
        run(self.presenter.check_in_from_task())

    # --- scanning: the camera runs while the presenter scans; a frame every SCAN_INTERVAL ----------

    def toggle_scan(self) -> None:
        p = self.presenter
        if p.scanning:
            p.stop_scan()
            return
        with_camera_permission(self._permission_answered)

    def _permission_answered(self, granted: bool) -> None:
        if granted:
            self.presenter.start_scan()
        else:
            self.presenter.stop_scan(_("The camera is not allowed: type in her 6-digit code."))

    def _show_camera(self, scanning: bool) -> None:
        if self._feed is None:
            self._feed = CameraFeed(self.ids.camera_box, self._frame, self._camera_failed)
        self._feed.update(scanning)

    def _frame(self, pixels: bytes, size: tuple[int, int], pixel_format: str) -> None:
        if self.presenter is not None:
            run(self.presenter.scan_frame(pixels, size, pixel_format))

    def _camera_failed(self) -> None:
        self.presenter.stop_scan(_("The camera could not be opened: type in her 6-digit code."))

    def on_leave(self, *args) -> None:
        if self.presenter is not None and self.presenter.scanning:
            self.presenter.stop_scan()

    def complete(self) -> None:
        run(self.presenter.complete())

    def sell(self) -> None:
        """开单收银: the 收银 screens for her, with the booking she came with."""
        customer, booking = self.presenter.customer, self.presenter.booking
        if customer.get("id"):
            session = App.get_running_app().session
            run(session.start_checkout(customer["id"], booking.get("id"), origin="reception"))

    def open_customer(self) -> None:
        session = App.get_running_app().session
        customer = self.presenter.customer
        if customer.get("id"):
            timezone = ((self.presenter.task or {}).get("store") or {}).get("timezone")
            run(session.open_customer(customer["id"], timezone))

    def back(self) -> None:
        App.get_running_app().session.go("inbox")
