"""Log lines carry the request id."""

from __future__ import annotations

import logging

from .api.request_id import RequestIdLogFilter

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger("irs")
    if getattr(root, "_irs_configured", False):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RequestIdLogFilter())
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = True
    root._irs_configured = True
