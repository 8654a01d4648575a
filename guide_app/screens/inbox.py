"""Task inbox: filter chips, pull-to-refresh, a card per task (priority, status, the acknowledge countdown,
确认 and 接待)."""

from __future__ import annotations

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivymd.uix.card import MDCard
from kivymd.uix.screen import MDScreen

from ..i18n import _
from ..presenters.inbox import FILTERS, InboxPresenter, TaskRow
from .widgets import Announcer, WrappedLabel, reveal, run

# How often the acknowledge countdowns are redrawn (seconds).
COUNTDOWN_INTERVAL = 1


class TaskCard(MDCard):
    row: TaskRow = ObjectProperty(None)
    slot = StringProperty("")
    customer = StringProperty("")
    subtitle = StringProperty("")
    status = StringProperty("")
    countdown = StringProperty("")
    late = BooleanProperty(False)
    flagged = BooleanProperty(False)
    done = BooleanProperty(False)

    def on_row(self, _widget, row: TaskRow) -> None:
        self.slot, self.customer = row.slot, row.customer
        parts = [
            _("Livestream: {title}").format(title=row.livestream) if row.livestream else "",
            _("Escalated") if row.escalated else "",
        ]
        self.subtitle = " · ".join(part for part in parts if part)
        self.status, self.flagged, self.done = row.status, row.flagged, row.done
        reveal(self.ids.acknowledge, row.can_acknowledge)

    def acknowledge(self) -> None:
        run(App.get_running_app().session.inbox.acknowledge(self.row.id))

    def open(self) -> None:
        session = App.get_running_app().session
        run(session.open_reception(self.row.id))


class InboxScreen(MDScreen):
    presenter: InboxPresenter | None = None

    def bind_presenter(self, presenter: InboxPresenter) -> None:
        self.presenter = presenter
        self._announcer = Announcer()
        self._announcer.follow(presenter)
        self._refreshing = False
        presenter.subscribe(lambda _: self.redraw())
        Clock.schedule_interval(lambda _dt: self.tick(), COUNTDOWN_INTERVAL)
        self.redraw()

    @property
    def cards(self) -> list[TaskCard]:
        """In slot order (Kivy keeps children last-added first)."""
        return [card for card in reversed(self.ids.rows.children) if isinstance(card, TaskCard)]

    def redraw(self) -> None:
        p = self.presenter
        for name, chip in self.filter_chips().items():
            chip.selected = p.filter == name
        rows = p.rows()
        listing = self.ids.rows
        listing.clear_widgets()
        for row in rows:
            card = TaskCard()  # its layout first, then the row it draws
            card.row = row
            listing.add_widget(card)
        if not rows:
            listing.add_widget(WrappedLabel(text=_("No tasks here."), muted=True, halign="center"))
        self.tick()
        if self._refreshing and not p.busy:
            self._refreshing = False
            self.ids.scroll.refresh_done()
        self._announcer.announce(p)

    def tick(self) -> None:
        """The acknowledge countdowns, to the second."""
        if self.presenter is None:
            return
        for card in self.cards:
            card.countdown, card.late = self.presenter.ack_countdown(card.row)

    def filter_chips(self) -> dict:
        return {name: self.ids[f"filter_{name}"] for name in FILTERS}

    def choose_filter(self, name: str) -> None:
        self.presenter.set_filter(name)

    def refresh(self) -> None:
        run(self.presenter.refresh())

    def pull_refresh(self) -> None:
        """Pulled down past the top: reload; the spinner goes when the list is back."""
        self._refreshing = True
        self.refresh()
