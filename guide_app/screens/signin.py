"""Sign-in screen: username, password, and why it failed."""

from __future__ import annotations

from kivy.uix.screenmanager import Screen

from ..presenters.signin import SignInPresenter
from .widgets import run, show


class SignInScreen(Screen):
    presenter: SignInPresenter | None = None

    def bind_presenter(self, presenter: SignInPresenter) -> None:
        self.presenter = presenter
        presenter.subscribe(lambda _: self.redraw())
        self.redraw()

    def redraw(self) -> None:
        p = self.presenter
        self.ids.username.text = p.username
        self.ids.password.text = p.password
        self.ids.message.text = p.message
        show(self.ids.message, bool(p.message))
        self.ids.submit.disabled = p.busy

    def submit(self) -> None:
        self.presenter.edit(username=self.ids.username.text, password=self.ids.password.text)
        run(self.presenter.sign_in())
