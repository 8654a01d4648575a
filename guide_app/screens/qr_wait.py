"""收银, a WeChat Pay or Alipay QR code: the code for her to scan, the amount, and the wait for the provider's
word (live through orderPaid; asked again every few seconds while the socket is down)."""

from __future__ import annotations

from kivy.graphics.texture import Texture
from kivymd.uix.screen import MDScreen

from ..i18n import _
from ..presenters.checkout import CheckoutPresenter
from ..presenters.qrimage import luminance
from .widgets import Announcer, run


def qr_texture(modules: list[list[bool]]) -> Texture | None:
    """The code as a texture, one texel per module, drawn sharp (no smoothing between modules)."""
    if not modules:
        return None
    side = len(modules)
    texture = Texture.create(size=(side, side), colorfmt="luminance")
    texture.blit_buffer(luminance(modules[::-1]), colorfmt="luminance", bufferfmt="ubyte")  # GL rows: bottom up
    texture.mag_filter = texture.min_filter = "nearest"
    return texture


class QrScreen(MDScreen):
    presenter: CheckoutPresenter | None = None
    _drawn = ""

    def bind_presenter(self, presenter: CheckoutPresenter) -> None:
        self.presenter = presenter
        self._drawn = ""
        self._announcer = Announcer()
        self._announcer.follow(presenter)
        presenter.subscribe(lambda _: self.redraw())
        self.redraw()

    def redraw(self) -> None:
        p = self.presenter
        if p is None:
            return
        ids = self.ids
        method = (p.payment or {}).get("method") or p.method or ""
        ids.heading.text = (
            _("Ask her to scan with WeChat") if method == "WECHAT_PAY" else _("Ask her to scan with Alipay")
        )
        ids.amount.text = p.total
        if p.qr_payload != self._drawn:
            self._drawn = p.qr_payload
            ids.code.texture = qr_texture(p.qr_modules())
        ids.note.text = p.waiting_note
        ids.spinner.active = p.stage == "waiting"
        ids.check.disabled = p.busy
        self._announcer.announce_on(self, p)

    def other_method(self) -> None:
        run(self.presenter.other_method())

    def check(self) -> None:
        run(self.presenter.check_payment())
