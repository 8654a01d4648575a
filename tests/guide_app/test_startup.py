"""The first start on a bare machine: no ~/.config (it crashed with FileNotFoundError: …/.config/guide).

The whole app starting with an empty HOME is in test_logs.py (it runs the app as `make app` does).
"""

from __future__ import annotations

import stat
from pathlib import Path

from guide_app.config import desktop_data_dir


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_directory_is_made_with_its_parents(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    made = desktop_data_dir("guide")
    assert made == tmp_path / ".config" / "guide" and made.is_dir() and mode(made) == 0o700
    assert desktop_data_dir("guide") == made  # the second start finds it
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/path")  # the XDG spec says: ignore it
    assert desktop_data_dir("guide") == made
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert desktop_data_dir("guide") == tmp_path / "xdg" / "guide"
