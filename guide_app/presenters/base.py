"""What every presenter shares: listeners told after each change, and readable failures."""

from __future__ import annotations

from collections.abc import Callable

from ..api.errors import Offline, ServerError
from .messages import failure_message

# What a presenter shows in place of a crash; SessionExpired is left to the session presenter.
RECOVERABLE = (Offline, ServerError)


class Presenter:
    """State the screen draws; ``changed()`` tells the screen to redraw."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[Presenter], None]] = []
        self.message: str = ""  # the last failure, in the guide's language
        self.busy = False

    def subscribe(self, listener: Callable[[Presenter], None]) -> None:
        self._listeners.append(listener)

    def changed(self) -> None:
        for listener in list(self._listeners):
            listener(self)

    def fail(self, error: Offline | ServerError) -> None:
        """Show a failure instead of crashing (a lost session is the session presenter's business)."""
        self.message = failure_message(error)
        self.changed()

    def clear_message(self) -> None:
        self.message = ""
