"""Task inbox: filters, manual refresh, one row per task (acknowledge, open reception)."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from ..i18n import _
from ..presenters.inbox import FILTERS, InboxPresenter, TaskRow
from .widgets import run, show


class TaskRowWidget(BoxLayout):
    row: TaskRow = ObjectProperty(None)
    title = StringProperty("")
    subtitle = StringProperty("")
    high_priority = BooleanProperty(False)
    can_acknowledge = BooleanProperty(False)

    def on_row(self, _widget, row: TaskRow) -> None:
        self.title = f"{row.slot}  {row.customer}"
        parts = [
            row.status,
            _("Livestream: {title}").format(title=row.livestream) if row.livestream else "",
            _("Escalated") if row.escalated else "",
        ]
        self.subtitle = " · ".join(part for part in parts if part)
        self.high_priority, self.can_acknowledge = row.high_priority, row.can_acknowledge

    def acknowledge(self) -> None:
        run(App.get_running_app().session.inbox.acknowledge(self.row.id))

    def open(self) -> None:
        session = App.get_running_app().session
        run(session.open_reception(self.row.id))


class InboxScreen(Screen):
    presenter: InboxPresenter | None = None

    def bind_presenter(self, presenter: InboxPresenter) -> None:
        self.presenter = presenter
        presenter.subscribe(lambda _: self.redraw())
        self.redraw()

    def redraw(self) -> None:
        p = self.presenter
        for name, button in self.filter_buttons().items():
            button.state = "down" if p.filter == name else "normal"
        rows = p.rows()
        listing = self.ids.rows
        listing.clear_widgets()
        for row in rows:
            listing.add_widget(TaskRowWidget(row=row))
        self.ids.empty.text = _("No tasks here.") if not rows else ""
        show(self.ids.empty, not rows)
        self.ids.message.text = p.message
        show(self.ids.message, bool(p.message))

    def filter_buttons(self) -> dict:
        return {name: self.ids[f"filter_{name}"] for name in FILTERS}

    def choose_filter(self, name: str) -> None:
        self.presenter.set_filter(name)

    def refresh(self) -> None:
        run(self.presenter.refresh())
