"""The frame around the screens: the top app bar (her name and store, or where she is), the bottom
navigation (任务 / 收银 / 业绩 / 我的), and the snackbars for new tasks and failures."""

from __future__ import annotations

from kivy.app import App
from kivy.core.window import Window
from kivy.metrics import dp
from kivy.properties import BooleanProperty, StringProperty
from kivymd.uix.boxlayout import MDBoxLayout
from kivymd.uix.button import MDButton, MDButtonText
from kivymd.uix.dialog import (
    MDDialog,
    MDDialogButtonContainer,
    MDDialogHeadlineText,
    MDDialogSupportingText,
)
from kivymd.uix.navigationbar import MDNavigationItem
from kivymd.uix.snackbar import MDSnackbarSupportingText

from ..i18n import _
from ..presenters.display import profile
from ..presenters.formatting import phone
from ..presenters.session import CHECKOUT_SCREENS, TABS, SessionPresenter
from .widgets import ANNOUNCED, SNACKBAR_Y, Announcer, Snackbar, reveal, run, show

TAB_ICONS = {
    "inbox": "clipboard-text-outline",
    "checkout": "cash-register",
    "performance": "chart-line",
    "me": "account",
}
# The screens a tab opens from: reception and the 360° view belong to 任务, the sale's screens to 收银.
TAB_OF = {"reception": "inbox", "customer": "inbox", "search": "inbox", **dict.fromkeys(CHECKOUT_SCREENS, "checkout")}
# The sale's screens, each drawing the checkout presenter.
SALE_SCREENS = ("checkout", "checkout_pay", "checkout_qr", "receipt")


class SignOutDialog(MDDialog):
    """Asks before signing out on the shared store phone; what each answer does is the session presenter's."""

    def __init__(self, session: SessionPresenter, **kwargs) -> None:
        self.title = _("Sign out?")
        self.cancel = MDButton(MDButtonText(text=_("Cancel")), style="text")
        self.confirm = MDButton(MDButtonText(text=_("Sign out")), style="filled")
        self.cancel.bind(on_release=lambda *_: session.cancel_sign_out())
        self.confirm.bind(on_release=lambda *_: run(session.confirm_sign_out()))
        super().__init__(
            MDDialogHeadlineText(text=self.title),
            MDDialogSupportingText(
                text=_("The next person using this phone will have to sign in with her own password.")
            ),
            MDDialogButtonContainer(self.cancel, self.confirm, spacing=dp(8)),
            auto_dismiss=False,
            **kwargs,
        )


class NavItem(MDNavigationItem):
    screen = StringProperty("")
    icon = StringProperty("")
    text = StringProperty("")


class Shell(MDBoxLayout):
    session: SessionPresenter | None = None
    sign_out_dialog: SignOutDialog | None = None
    offline = BooleanProperty(False)
    alert_text = StringProperty("")  # the new-task snackbar's text while it is up

    def bind_presenter(self, session: SessionPresenter) -> None:
        self.session = session
        self._alerted = ""
        self._announcer = Announcer()
        self._announcer.follow(session)
        self._build_tabs()
        ids = self.ids
        ids.signin.bind_presenter(session.signin)
        ids.inbox.bind_presenter(session.inbox)
        ids.me.bind_presenter(session)
        ids.performance.bind_presenter(session.performance)
        session.subscribe(lambda _: self.redraw())
        session.inbox.subscribe(lambda _: self.redraw_banners())
        self.redraw()

    def _build_tabs(self) -> None:
        nav = self.ids.nav
        nav.clear_widgets()
        for name, label in TABS:
            nav.add_widget(NavItem(screen=name, icon=TAB_ICONS.get(name, "circle-outline"), text=_(label)))

    def switch_tab(self, item: NavItem) -> None:
        if self.session is not None and TAB_OF.get(self.session.screen, self.session.screen) != item.screen:
            self.session.go(item.screen)

    def redraw(self) -> None:
        session = self.session
        if session.reception is not None and self.ids.reception.presenter is not session.reception:
            self.ids.reception.bind_presenter(session.reception)
            session.reception.subscribe(lambda _: self.redraw_top_bar())
        if session.customer is not None and self.ids.customer.presenter is not session.customer:
            self.ids.customer.bind_presenter(session.customer)
            session.customer.subscribe(lambda _: self.redraw_top_bar())
        if session.search is not None and self.ids.search.presenter is not session.search:
            self.ids.search.bind_presenter(session.search)
        if session.checkout_search is not None and self.ids.checkout_start.presenter is not session.checkout_search:
            self.ids.checkout_start.bind_presenter(session.checkout_search)
        checkout = session.checkout
        if checkout is not None and self.ids.checkout.presenter is not checkout:
            for name in SALE_SCREENS:
                self.ids[name].bind_presenter(checkout)
            checkout.subscribe(lambda _: self.redraw_top_bar())
        if self.ids.screens.current != session.screen:
            self.ids.screens.current = session.screen
            if session.screen == "reception" and session.reception is not None:
                self.ids.reception.redraw()  # its 开单 button says whether a sale for her is under way
        signed_in = session.screen != "signin"
        show(self.ids.nav, signed_in)
        show(self.ids.top_bar, signed_in)
        tab = TAB_OF.get(session.screen, session.screen)
        for item in self.ids.nav.children:
            item.active = item.screen == tab
        self._announcer.announce(session)
        self.redraw_top_bar()
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

    def redraw_top_bar(self) -> None:
        session, ids = self.session, self.ids
        screen = session.screen
        if screen == "reception" and session.reception is not None:
            p = session.reception
            ids.title.text = phone(p.customer_name) if p.task else ""  # a customer without a name is her phone
            ids.subtitle.text = " · ".join(part for part in (p.slot, p.status) if part)
        elif screen == "customer" and session.customer is not None:
            ids.title.text = phone((session.customer.customer or {}).get("displayName", ""))
            ids.subtitle.text = _("Customer 360°")
        elif screen in SALE_SCREENS and session.checkout is not None:
            checkout = session.checkout
            ids.title.text = checkout.customer_name if checkout.customer else ""
            ids.subtitle.text = (
                _("Checkout · order {number}").format(number=checkout.number) if checkout.number else _("Checkout")
            )
        elif screen == "checkout_start":
            ids.title.text = _("Checkout")
            ids.subtitle.text = profile(session.api.tokens.viewer if session.api.tokens else None).store
        else:
            me = profile(session.api.tokens.viewer if session.api.tokens else None)
            ids.title.text = me.name
            ids.subtitle.text = me.store
        if session.inbox.offline and screen != "signin":
            ids.subtitle.text = _("Offline: reconnecting…")
        # A sale started from a reception goes back to it; the 收银 tab's own screens are where she is.
        back = screen in TAB_OF and (screen not in CHECKOUT_SCREENS or session.checkout_origin == "reception")
        reveal(ids.back, back and screen != "checkout_start")
        reveal(ids.refresh, screen == "inbox")
        reveal(ids.find, screen == "inbox")
        reveal(ids.profile, screen == "reception")

    def redraw_banners(self) -> None:
        inbox, signed_in = self.session.inbox, self.session.screen != "signin"
        if self.offline != (signed_in and inbox.offline):
            self.offline = signed_in and inbox.offline
            self.redraw_top_bar()
        if signed_in and inbox.banner and inbox.banner != self._alerted:
            self._alerted = inbox.banner
            self._alert(inbox.banner)
        elif not inbox.banner:
            self._alerted = ""

    def _alert(self, text: str) -> None:
        """A new task: a snackbar with 查看 (the system notification and vibration come from the inbox)."""
        theme = App.get_running_app().theme_cls
        ANNOUNCED.append(text)
        self.alert_text = text
        bar = Snackbar(
            MDSnackbarSupportingText(text=text),
            MDSnackbarSupportingText(text=_("Tap to view"), bold=True),
            y=SNACKBAR_Y,
            pos_hint={"center_x": 0.5},
            size_hint_x=None,
            width=Window.width - dp(24),
            duration=8,
            background_color=theme.inverseSurfaceColor,
        )
        bar.bind(on_release=lambda *_: self.open_alert())  # the whole snackbar is the target
        bar.bind(on_dismiss=lambda *_: setattr(self, "alert_text", ""))
        self._alert_bar = bar
        bar.open()

    def open_alert(self) -> None:
        bar = getattr(self, "_alert_bar", None)
        if bar is not None and bar.parent is not None:
            bar.dismiss()
        self.session.inbox.dismiss_banner()
        self.session.go("inbox")

    # --- the top app bar's buttons -----------------------------------------------------------------

    def back(self) -> None:
        if self.session.screen == "customer":
            self.ids.customer.back()
        elif self.session.screen in CHECKOUT_SCREENS:
            self.session.leave_checkout()
        else:
            self.session.go("inbox")

    def find_customer(self) -> None:
        self.session.customer_search()

    def refresh(self) -> None:
        self.ids.inbox.refresh()

    def open_profile(self) -> None:
        self.ids.reception.open_customer()
