"""What every presenter shares: listeners told after each change, and readable failures."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ..api.errors import Offline, ServerError
from .messages import failure_message

# What a presenter shows in place of a crash; SessionExpired is left to the session presenter.
RECOVERABLE = (Offline, ServerError)

Action = TypeVar("Action", bound=Callable[..., Awaitable[Any]])


def settles(action: Action) -> Action:
    """For an action that sets ``busy`` and clears it on the ways it expects to end: whatever else ends it (a
    malformed answer, a bug; the session shows that something went wrong) clears it too, so no spinner turns
    and no button stays disabled for ever."""

    @functools.wraps(action)
    async def settled(self: Presenter, *args: Any, **kwargs: Any) -> Any:
        try:
            return await action(self, *args, **kwargs)
        except BaseException:
            if self.busy:
                self.busy = False
                self.changed()
            raise

    return settled  # type: ignore[return-value]


class Presenter:
    """State the screen draws; ``changed()`` tells the screen to redraw."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[Presenter], None]] = []
        self.message_serial = 0  # counts the messages and notices set, so a screen announces each once
        self._message = ""
        self._notice = ""
        self.busy = False

    @property
    def message(self) -> str:
        """The last failure, in the guide's language."""
        return self._message

    @message.setter
    def message(self, text: str) -> None:
        self._message = text
        if text:
            self.message_serial += 1

    @property
    def notice(self) -> str:
        """The last success worth announcing (e.g. "Checked in."), in the guide's language."""
        return self._notice

    @notice.setter
    def notice(self, text: str) -> None:
        self._notice = text
        if text:
            self.message_serial += 1

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
