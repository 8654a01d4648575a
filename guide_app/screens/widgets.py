"""Small widgets the screens share."""

from __future__ import annotations

import asyncio

from kivy.app import App
from kivy.properties import BooleanProperty
from kivy.uix.label import Label


def show(widget, visible: bool) -> None:
    """Show or hide a widget inside a box layout (hidden widgets take no room)."""
    if not hasattr(widget, "_shown_height"):
        widget._shown_height = widget.height
    widget.opacity = 1 if visible else 0
    widget.disabled = not visible
    widget.size_hint_y = None
    widget.height = widget._shown_height if visible else 0


_running: set[asyncio.Future] = set()


def run(action) -> None:
    """Start a presenter action from a button: the session catches what goes wrong."""
    app = App.get_running_app()
    future = asyncio.ensure_future(app.session.run(action))
    _running.add(future)  # the loop holds only a weak reference to a task
    future.add_done_callback(_running.discard)


class WrappedLabel(Label):
    """A label as wide as its parent that grows to fit its text."""

    muted = BooleanProperty(False)


class Heading(WrappedLabel):
    pass
