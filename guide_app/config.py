"""Where the app finds its server."""

from __future__ import annotations

import os

DEFAULT_SERVER_URL = "http://127.0.0.1:8000"


def server_url() -> str:
    return os.environ.get("IRS_SERVER_URL", DEFAULT_SERVER_URL).rstrip("/")
