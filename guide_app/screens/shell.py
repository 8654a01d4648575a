"""The frame around the screens: offline and new-task banners, and the bottom navigation."""

from __future__ import annotations

from kivy.metrics import dp
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.popup import Popup

from ..i18n import _
from ..presenters.session import TABS, SessionPresenter
from .widgets import run, show


class SignOutDialog(Popup):
    """Asks before signing out; what it does is the session presenter's (the UI moves to KivyMD later)."""

    def __init__(self, session: SessionPresenter, **kwargs) -> None:
        super().__init__(title=_("Sign out?"), size_hint=(0.9, None), height=dp(220), auto_dismiss=False, **kwargs)
        self.session = session
        body = BoxLayout(orientation="vertical", spacing=dp(8), padding=dp(4))
        note = Label(
            text=_("The next person using this phone will have to sign in with her own password."),
            halign="center",
            valign="middle",
        )
        note.bind(size=lambda label, size: setattr(label, "text_size", size))
        body.add_widget(note)
        buttons = BoxLayout(size_hint_y=None, height=dp(48), spacing=dp(8))
        self.cancel = Button(text=_("Cancel"))
        self.cancel.bind(on_release=lambda _button: session.cancel_sign_out())
        self.confirm = Button(text=_("Sign out"), background_color=(0.85, 0.25, 0.15, 1))
        self.confirm.bind(on_release=lambda _button: run(session.confirm_sign_out()))
        buttons.add_widget(self.cancel)
        buttons.add_widget(self.confirm)
        body.add_widget(buttons)
        self.content = body


class Shell(BoxLayout):
    session: SessionPresenter | None = None
    sign_out_dialog: SignOutDialog | None = None

    def bind_presenter(self, session: SessionPresenter) -> None:
        self.session = session
        self._build_tabs()
        ids = self.ids
        ids.signin.bind_presenter(session.signin)
        ids.inbox.bind_presenter(session.inbox)
        session.subscribe(lambda _: self.redraw())
        session.inbox.subscribe(lambda _: self.redraw_banners())
        self.redraw()

    def _build_tabs(self) -> None:
        nav = self.ids.nav
        nav.clear_widgets()
        for name, label, available in TABS:
            text = _(label) if available else _("{tab} (soon)").format(tab=_(label))
            tab = Button(text=text, disabled=not available, halign="center", font_size="13sp")
            tab.bind(on_release=lambda _button, screen=name: self.session.go(screen))
            nav.add_widget(tab)
        sign_out = Button(text=_("Sign out"), font_size="13sp")
        sign_out.bind(on_release=lambda _button: self.session.ask_sign_out())
        nav.add_widget(sign_out)

    def redraw(self) -> None:
        session = self.session
        if session.reception is not None and self.ids.reception.presenter is not session.reception:
            self.ids.reception.bind_presenter(session.reception)
        if session.customer is not None and self.ids.customer.presenter is not session.customer:
            self.ids.customer.bind_presenter(session.customer)
        if self.ids.screens.current != session.screen:
            self.ids.screens.current = session.screen
        show(self.ids.nav, session.screen != "signin")
        self.ids.failure.text = session.message
        show(self.ids.failure, bool(session.message))
        self.redraw_banners()
        self.redraw_sign_out_dialog()

    def redraw_sign_out_dialog(self) -> None:
        asking = self.session.confirming_sign_out
        if asking and self.sign_out_dialog is None:
            self.sign_out_dialog = SignOutDialog(self.session)
            self.sign_out_dialog.open()
        elif not asking and self.sign_out_dialog is not None:
            self.sign_out_dialog.dismiss()
            self.sign_out_dialog = None

    def redraw_banners(self) -> None:
        inbox, signed_in = self.session.inbox, self.session.screen != "signin"
        self.ids.offline.text = _("Offline: reconnecting…") if inbox.offline else ""
        show(self.ids.offline, signed_in and inbox.offline)
        self.ids.alert.text = inbox.banner
        show(self.ids.alert, signed_in and bool(inbox.banner))

    def open_alert(self) -> None:
        self.session.inbox.dismiss_banner()
        self.session.go("inbox")
