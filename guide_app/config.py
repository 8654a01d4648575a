"""Where the app finds its server, and where it keeps its files on a desktop."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_SERVER_URL = "http://127.0.0.1:8000"


def server_url() -> str:
    return os.environ.get("IRS_SERVER_URL", DEFAULT_SERVER_URL).rstrip("/")


def desktop_data_dir(name: str) -> Path:
    """The app's data directory on Linux and other Unixes, as Kivy names it (``$XDG_CONFIG_HOME/<name>``,
    else ``~/.config/<name>``), but created with its parents (Kivy creates only the last level: the
    first start on a machine without ``~/.config`` crashed) and readable by its user only."""
    base = os.environ.get("XDG_CONFIG_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".config"  # the XDG spec ignores relative paths
    directory = root / name
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory
