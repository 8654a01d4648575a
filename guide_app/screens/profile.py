"""我的: the signed-in guide (name, role, store, username) and signing out."""

from __future__ import annotations

from kivymd.uix.screen import MDScreen

from ..i18n import _
from ..presenters.display import profile
from ..presenters.session import SessionPresenter


class ProfileScreen(MDScreen):
    session: SessionPresenter | None = None

    def bind_presenter(self, session: SessionPresenter) -> None:
        self.session = session
        session.subscribe(lambda _: self.redraw())
        self.redraw()

    def redraw(self) -> None:
        tokens = self.session.api.tokens
        me = profile(tokens.viewer if tokens else None)
        ids = self.ids
        ids.name.text = me.name
        ids.role.text = me.role
        ids.store.text = _("Store: {store}").format(store=me.store) if me.store else ""
        ids.username.text = _("Username: {username}").format(username=me.username) if me.username else ""

    def sign_out(self) -> None:
        """退出登录 asks first (the shell shows the question while the session presenter asks)."""
        self.session.ask_sign_out()
