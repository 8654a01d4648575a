"""Start the guide app: a phone-sized window on desktops, the asyncio event loop, the app."""

from __future__ import annotations

import asyncio
import os


def configure_window() -> None:
    """360×780 dp portrait on desktops (phones use the whole screen). Before Kivy makes the window."""
    from kivy.config import Config
    from kivy.utils import platform

    if platform in ("linux", "win", "macosx"):
        Config.set("graphics", "width", "360")
        Config.set("graphics", "height", "780")
        Config.set("graphics", "resizable", "1")
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("input", "mouse", "mouse,multitouch_on_demand")


def main() -> None:
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    configure_window()
    from .app import GuideApp

    asyncio.run(GuideApp().async_run(async_lib="asyncio"))


if __name__ == "__main__":
    main()
