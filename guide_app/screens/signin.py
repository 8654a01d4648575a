"""Sign-in screen: username, password, and why it failed (in room kept for it: nothing moves)."""

from __future__ import annotations

from kivymd.uix.screen import MDScreen

from ..presenters.signin import SignInPresenter
from .widgets import run


class SignInScreen(MDScreen):
    presenter: SignInPresenter | None = None

    def bind_presenter(self, presenter: SignInPresenter) -> None:
        self.presenter = presenter
        presenter.subscribe(lambda _: self.redraw())
        self.redraw()

    def redraw(self) -> None:
        p = self.presenter
        if self.ids.username.text != p.username:
            self.ids.username.text = p.username
        if self.ids.password.text != p.password:
            self.ids.password.text = p.password
        self.ids.message.text = p.message
        self.ids.submit.disabled = p.busy

    def submit(self) -> None:
        self.presenter.edit(username=self.ids.username.text, password=self.ids.password.text)
        run(self.presenter.sign_in())
