"""Log lines carry the request id."""

from __future__ import annotations

import logging

from .api.request_id import RequestIdLogFilter

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


_configured: set[str] = set()  # loggers given IRS's handler (once per process: apps are built many times)


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger("irs")
    if root.name in _configured:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RequestIdLogFilter())
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = True
    _configured.add(root.name)
