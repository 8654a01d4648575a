"""How the inbox gets the guide's attention outside the app's own banner."""

from __future__ import annotations

from typing import Protocol


class Notifier(Protocol):
    def notify(self, title: str, message: str) -> None: ...

    def vibrate(self) -> None: ...


class RecordingNotifier:
    """Keeps what it was asked to show (desktop runs without system notifications, and tests)."""

    def __init__(self) -> None:
        self.shown: list[tuple[str, str]] = []
        self.vibrations = 0

    def notify(self, title: str, message: str) -> None:
        self.shown.append((title, message))

    def vibrate(self) -> None:
        self.vibrations += 1
