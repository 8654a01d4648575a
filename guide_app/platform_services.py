"""System notifications and vibration through plyer, where the platform has them."""

from __future__ import annotations

import logging

log = logging.getLogger("guide_app")


class PlyerNotifier:
    """Notifies and vibrates on Android (and notifies on desktops with a notification service).

    Where the platform has neither, the in-app banner is all there is: that is said once in the log,
    not at every task.
    """

    def __init__(self, app_name: str = "IRS") -> None:
        self.app_name = app_name
        self.unavailable: set[str] = set()  # what this platform turned out not to have

    def notify(self, title: str, message: str) -> None:
        def show() -> None:
            from plyer import notification

            notification.notify(title=title, message=message, app_name=self.app_name, timeout=10)

        self._try("system notification", show)

    def vibrate(self) -> None:
        def buzz() -> None:
            from plyer import vibrator

            vibrator.vibrate(0.6)

        self._try("vibration", buzz)

    def _try(self, what: str, action) -> None:
        if what in self.unavailable:
            return
        try:
            action()
        except Exception as error:  # plyer raises NotImplementedError, ImportError or its backend's errors
            self.unavailable.add(what)
            log.info("no %s here (the in-app banner remains): %s", what, error)
