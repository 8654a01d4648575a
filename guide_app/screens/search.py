"""Find a customer: search the store's customers, or serve a walk-in by her number."""

from __future__ import annotations

from kivy.properties import StringProperty
from kivymd.uix.screen import MDScreen

from ..i18n import _
from ..presenters.search import CustomerSearchPresenter
from .widgets import TapRow, reveal, run


class CustomerRowItem(TapRow):
    name = StringProperty("")
    detail = StringProperty("")


class SearchScreen(MDScreen):
    presenter: CustomerSearchPresenter | None = None
    intro = StringProperty("")  # what the search is for (the 收银 tab: whom to sell to)

    def bind_presenter(self, presenter: CustomerSearchPresenter) -> None:
        self.presenter = presenter
        self.ids.query.text = presenter.query
        presenter.subscribe(lambda _: self.redraw())
        self.redraw()

    def redraw(self) -> None:
        p = self.presenter
        ids = self.ids
        ids.search_button.disabled = p.busy
        reveal(ids.walk_in, p.can_walk_in)
        ids.walk_in.disabled = p.busy
        ids.empty.text = _("No customer of your store matches.") if p.searched and not p.results else ""
        ids.results.clear_widgets()
        for row in p.results:
            detail = "  ".join(part for part in (row.phone if row.phone != row.name else "", row.tags) if part)
            item = CustomerRowItem(name=row.name, detail=detail)
            item.bind(on_release=lambda _item, customer=row.id: run(p.open_customer(customer)))
            ids.results.add_widget(item)

    def search(self) -> None:
        if self.presenter is not None:
            run(self.presenter.search())

    def walk_in(self) -> None:
        if self.presenter is not None:
            run(self.presenter.walk_in())
