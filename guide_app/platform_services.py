"""System notifications and vibration through plyer, where the platform has them."""

from __future__ import annotations

import logging

log = logging.getLogger("guide_app")


class PlyerNotifier:
    """Notifies and vibrates on Android (and notifies on desktops with a notification service)."""

    def __init__(self, app_name: str = "IRS") -> None:
        self.app_name = app_name

    def notify(self, title: str, message: str) -> None:
        try:
            from plyer import notification

            notification.notify(title=title, message=message, app_name=self.app_name, timeout=10)
        except Exception as error:
            log.info("no system notification here: %s", error)

    def vibrate(self) -> None:
        try:
            from plyer import vibrator

            vibrator.vibrate(0.6)
        except Exception as error:
            log.info("no vibration here: %s", error)
