"""Customer 360°: her profile and her timeline, read a page at a time."""

from __future__ import annotations

from kivy.app import App
from kivy.uix.screenmanager import Screen

from ..i18n import _
from ..presenters.customer import CustomerPresenter
from .widgets import WrappedLabel, run, show


class CustomerScreen(Screen):
    presenter: CustomerPresenter | None = None

    def bind_presenter(self, presenter: CustomerPresenter) -> None:
        self.presenter = presenter
        presenter.subscribe(lambda _: self.redraw())
        self.redraw()

    def redraw(self) -> None:
        p = self.presenter
        if p is None:
            return
        self.ids.name.text = (p.customer or {}).get("displayName", "")
        facts = self.ids.facts
        facts.clear_widgets()
        for label, value in p.facts():
            facts.add_widget(WrappedLabel(text=f"{label}：{value}"))
        events = self.ids.events
        events.clear_widgets()
        for row in p.timeline():
            events.add_widget(WrappedLabel(text=f"{row.when}  {row.what}", bold=True))
            if row.detail:
                events.add_widget(WrappedLabel(text=row.detail, muted=True))
        self.ids.timeline_title.text = _("Timeline ({count})").format(count=p.total_events)
        show(self.ids.more, p.has_more)
        self.ids.message.text = p.message
        show(self.ids.message, bool(p.message))

    def load_more(self) -> None:
        run(self.presenter.load_more())

    def back(self) -> None:
        session = App.get_running_app().session
        session.go("reception" if session.reception else "inbox")
