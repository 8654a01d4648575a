"""Small widgets the screens share (KivyMD, Material 3), and the snackbar that announces results."""

from __future__ import annotations

import asyncio

from kivy.app import App
from kivy.core.window import Window
from kivy.metrics import dp
from kivy.properties import BooleanProperty, ColorProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivymd.uix.behaviors import RectangularRippleBehavior
from kivymd.uix.boxlayout import MDBoxLayout
from kivymd.uix.button import MDIconButton
from kivymd.uix.card import MDCard
from kivymd.uix.label import MDLabel
from kivymd.uix.refreshlayout import MDScrollViewRefreshLayout
from kivymd.uix.refreshlayout.refreshlayout import _RefreshScrollEffect  # its effect, to complete (see _PullEffect)
from kivymd.uix.snackbar import MDSnackbar, MDSnackbarSupportingText


def show(widget, visible: bool) -> None:
    """Show or hide a widget inside a box layout (hidden widgets take no room). Only for what the guide
    opens herself (the camera): results are announced in a snackbar, which moves nothing."""
    if hasattr(widget, "shown"):  # a card or a line that sizes itself to its content
        widget.shown = visible
        return
    if not hasattr(widget, "_shown_height"):
        widget._shown_height = widget.height
    widget.opacity = 1 if visible else 0
    widget.disabled = not visible
    widget.size_hint_y = None
    widget.height = widget._shown_height if visible else 0


def reveal(widget, visible: bool) -> None:
    """Show or hide a button in a row (hidden ones take no width)."""
    if not hasattr(widget, "_shown_width"):
        widget._shown_width = widget.width
    widget.opacity = 1 if visible else 0
    widget.disabled = not visible
    widget.size_hint_x = None
    if not visible:
        widget.width = 0
    elif hasattr(widget, "adjust_width"):  # a KivyMD button: as wide as its text
        widget.adjust_width()
    else:
        widget.width = widget._shown_width


_running: set[asyncio.Future] = set()


def run(action) -> None:
    """Start a presenter action from a button: the session catches what goes wrong."""
    app = App.get_running_app()
    future = asyncio.ensure_future(app.session.run(action))
    _running.add(future)  # the loop holds only a weak reference to a task
    future.add_done_callback(_running.discard)


# Every text announced in a snackbar, oldest first (what the UI test reads).
ANNOUNCED: list[str] = []
# Above the bottom navigation bar (80 dp), so the snackbar never hides a tab.
SNACKBAR_Y = dp(88)


def snackbar(text: str, *, error: bool = False, duration: float = 4) -> MDSnackbar:
    """A result, floating above the content: nothing below it moves when it comes or goes."""
    theme = App.get_running_app().theme_cls
    ANNOUNCED.append(text)
    bar = Snackbar(
        MDSnackbarSupportingText(
            text=text,
            theme_text_color="Custom",
            text_color=theme.onErrorContainerColor if error else theme.inverseOnSurfaceColor,
        ),
        y=SNACKBAR_Y,
        pos_hint={"center_x": 0.5},
        size_hint_x=None,
        width=Window.width - dp(24),
        duration=duration,
        background_color=theme.errorContainerColor if error else theme.inverseSurfaceColor,
    )
    bar.open()
    return bar


class Snackbar(MDSnackbar):
    """KivyMD's snackbar, never 0 high while KivyMD makes its ripple buffer (that fails on Mesa)."""


class Announcer:
    """Announces each new message (failure) or notice (success) of a presenter once, in a snackbar."""

    def __init__(self) -> None:
        self.serial = 0

    def follow(self, presenter) -> None:
        """From now on: what was said before is not said again."""
        self.serial = presenter.message_serial

    def announce_on(self, screen, presenter) -> None:
        """For a presenter several screens draw (the sale's): only the screen she is on announces; the others
        take the news as told, so nothing is said twice, or late on the next screen."""
        if screen.manager is not None and screen.manager.current == screen.name:
            self.announce(presenter)
        else:
            self.follow(presenter)

    def announce(self, presenter) -> None:
        if presenter.message_serial == self.serial:
            return
        self.serial = presenter.message_serial
        text = presenter.message or getattr(presenter, "notice", "")
        if text:
            snackbar(text, error=bool(presenter.message))


class WrappedLabel(MDLabel):
    """A label as wide as its parent that grows to fit its text."""

    muted = BooleanProperty(False)


class Heading(WrappedLabel):
    pass


class Tag(MDLabel):
    """A small non-interactive chip: a priority, a status, a required step."""

    chip_color = ColorProperty((0, 0, 0, 0))


class FilterChip(ButtonBehavior, MDBoxLayout):
    """A Material filter chip: 32 dp drawn, 48 dp to touch."""

    text = StringProperty("")
    selected = BooleanProperty(False)


class Card(MDCard):
    """A Material card (outlined) as tall as its content; ``shown`` False folds it away."""

    shown = BooleanProperty(True)


class InfoLine(MDBoxLayout):
    """An icon and a line of text that wraps; ``shown`` False folds it away."""

    icon = StringProperty("information-outline")
    text = StringProperty("")
    shown = BooleanProperty(True)


class IconButton(MDIconButton):
    """An icon button 48 dp square to touch (KivyMD's follows its glyph's size, 24 dp)."""

    def on_adaptive_size(self, *_args) -> None:
        pass


class TapRow(RectangularRippleBehavior, ButtonBehavior, MDBoxLayout):
    """A list row tapped as a whole (at least 56 dp high), with a ripple."""


class _PullEffect(_RefreshScrollEffect):
    """KivyMD 2.0's refresh effect, with the two calls its own MDScrollView makes on every effect on each
    touch move and release: without them the first pull on the list raised AttributeError."""

    def convert_overscroll(self, touch) -> None:
        pass  # the refresh effect does not stretch the list

    def reset_scale(self) -> None:
        pass


class PullToRefresh(MDScrollViewRefreshLayout):
    """The inbox's list: pulled down past its top, it calls ``refresh_callback``."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.effect_cls = _PullEffect
