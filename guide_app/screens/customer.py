"""Customer 360°: her profile and her timeline, read a page at a time."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import StringProperty
from kivymd.uix.boxlayout import MDBoxLayout
from kivymd.uix.screen import MDScreen

from ..i18n import _
from ..presenters.customer import CustomerPresenter
from .widgets import Announcer, run, show


class FactItem(MDBoxLayout):
    """A fact of her profile: what it is (small) over its value."""

    label = StringProperty("")
    value = StringProperty("")


class EventItem(MDBoxLayout):
    """A timeline event: what happened, and when and where."""

    when = StringProperty("")
    what = StringProperty("")
    detail = StringProperty("")


class CustomerScreen(MDScreen):
    presenter: CustomerPresenter | None = None

    def bind_presenter(self, presenter: CustomerPresenter) -> None:
        self.presenter = presenter
        self._announcer = Announcer()
        self._announcer.follow(presenter)
        presenter.subscribe(lambda _: self.redraw())
        self.redraw()

    def redraw(self) -> None:
        p = self.presenter
        if p is None:
            return
        facts = self.ids.facts
        facts.clear_widgets()
        for label, value in p.facts():
            facts.add_widget(FactItem(label=label, value=value))
        events = self.ids.events
        events.clear_widgets()
        for row in p.timeline():
            events.add_widget(EventItem(when=row.when, what=row.what, detail=row.detail))
        self.ids.timeline_title.text = _("Timeline ({count})").format(count=p.total_events)
        show(self.ids.more, p.has_more)
        self._announcer.announce(p)

    def load_more(self) -> None:
        run(self.presenter.load_more())

    def back(self) -> None:
        App.get_running_app().session.back_from_customer()
