"""The KivyMD (Material 3) app on asyncio: the shell, the presenters, the session kept on the device."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from kivy.app import App
from kivy.core.text import DEFAULT_FONT, LabelBase
from kivy.core.window import Window
from kivy.utils import platform
from kivymd.app import MDApp

from .api.client import GuideApi
from .api.tokens import JsonTokenStore, TokenStore
from .config import desktop_data_dir, server_url
from .fonts import bold_variant, find_cjk_font
from .i18n import _, use_language
from .keystore import SEALED_SESSION_FILE, SESSION_FILE, AndroidKeystoreCipher, SealedTokenStore
from .platform_services import PlyerNotifier
from .presenters.session import SessionPresenter
from .screens import load_layouts
from .screens.checkout import CheckoutScreen  # noqa: F401 - registers the class for the .kv files
from .screens.customer import CustomerScreen  # noqa: F401
from .screens.inbox import InboxScreen  # noqa: F401
from .screens.payment import PaymentScreen  # noqa: F401
from .screens.performance import PerformanceScreen  # noqa: F401
from .screens.profile import ProfileScreen  # noqa: F401
from .screens.qr_wait import QrScreen  # noqa: F401
from .screens.receipt import ReceiptScreen  # noqa: F401
from .screens.reception import ReceptionScreen  # noqa: F401
from .screens.search import SearchScreen  # noqa: F401
from .screens.shell import Shell
from .screens.signin import SignInScreen  # noqa: F401

log = logging.getLogger("guide_app")
# The name KivyMD's type scale is given: the CJK font, with its bold face where there is one.
FONT_NAME = "GuideSans"


def use_cjk_font(font_styles: dict | None = None) -> str | None:
    """Make a CJK font Kivy's default for every label and text input, and KivyMD's for every text style
    (icons keep their own font)."""
    font = find_cjk_font()
    if font is None:
        log.warning("no CJK font found: Chinese text will show as boxes (install fonts-noto-cjk)")
        return None
    LabelBase.register(DEFAULT_FONT, font)
    LabelBase.register(FONT_NAME, font, fn_bold=bold_variant(font))
    for style, roles in (font_styles or {}).items():
        if style != "Icon":
            for role in roles.values():
                role["font-name"] = FONT_NAME
    return font


def token_store(data_dir: Path) -> TokenStore:
    """Where the session is kept: sealed by the Android Keystore on a phone, a 0600 file elsewhere."""
    if platform == "android":
        try:
            return SealedTokenStore(data_dir / SEALED_SESSION_FILE, AndroidKeystoreCipher())
        except Exception as error:  # no usable keystore (Android < 6, a broken vendor keystore)
            log.warning("Android Keystore unavailable (%s): the session is kept in the app's private files", error)
    return JsonTokenStore(data_dir / SESSION_FILE)


class GuideApp(MDApp):
    """``session`` is the presenter the screens draw; ``api`` its server connection."""

    def __init__(self, server: str | None = None, data_dir: Path | None = None, notifier=None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.server = server or server_url()
        self.data_dir = data_dir
        self.notifier = notifier or PlyerNotifier()
        self.session: SessionPresenter | None = None
        self.shell: Shell | None = None

    @property
    def user_data_dir(self) -> str:
        """Kivy's per-platform directory, but on Linux created with its parents: Kivy makes only the
        last level, so a first start on a machine without ``~/.config`` crashed (FileNotFoundError)."""
        if not self._user_data_dir:
            if platform in ("android", "ios", "win", "macosx"):
                return App.user_data_dir.fget(self)
            self._user_data_dir = str(desktop_data_dir(self.name))
        return self._user_data_dir

    def build(self):
        use_language()
        self.title = _("IRS store guide")
        self.theme_cls.theme_style = "Light"
        self.theme_cls.primary_palette = "Teal"
        self.font = use_cjk_font(self.theme_cls.font_styles)
        Window.clearcolor = self.theme_cls.backgroundColor
        load_layouts()
        store = token_store(Path(self.data_dir or self.user_data_dir))
        self.session = SessionPresenter(GuideApi(self.server, store), self.notifier)
        self.shell = Shell()
        self.shell.bind_presenter(self.session)
        return self.shell

    async def async_run(self, async_lib=None):
        """Start the session once the loop runs; close the connections when the window closes."""
        starting = asyncio.ensure_future(self._start_session())
        try:
            await super().async_run(async_lib=async_lib)
        finally:
            starting.cancel()
            if self.session is not None:
                await self.session.inbox.stop()
                await self.session.performance.stop()
                await self.session.api.close()

    async def _start_session(self) -> None:
        while self.session is None:  # noqa: ASYNC110 - build() sets it inside Kivy's async_run, with no hook to await
            await asyncio.sleep(0.01)
        await self.session.run(self.session.start())
