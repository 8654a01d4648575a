"""Start the guide app: private quiet logs, a phone-sized window on desktops, the asyncio loop, the app."""

from __future__ import annotations

import asyncio
import logging
import os

from . import logs

log = logging.getLogger("guide_app")


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


def kivy_log_directory() -> str | None:
    """Where Kivy's file logger writes (None when it is off)."""
    import kivy
    from kivy.config import Config
    from kivy.logger import file_log_handler

    if file_log_handler is None or not Config.getint("kivy", "log_enable"):
        return None
    return file_log_handler.log_dir or os.path.join(kivy.kivy_home_dir, Config.get("kivy", "log_dir"))


def prepare() -> None:
    """Everything before the app object: logging (see ``guide_app.logs``), then Kivy and its window."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    level = logs.before_kivy()
    configure_window()  # imports Kivy, which puts its handlers on the root logger and sets it to NOTSET
    logs.set_levels(level)
    directory = kivy_log_directory()
    if directory:
        logs.make_private(directory)
    log.info("logging at %s", logging.getLevelName(level))


def main() -> None:
    prepare()
    from .app import GuideApp

    asyncio.run(GuideApp().async_run(async_lib="asyncio"))


if __name__ == "__main__":
    main()
