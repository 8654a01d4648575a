"""A request id on every request: in the response header, the logs and masked errors."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

_request_id: ContextVar[str] = ContextVar("irs_request_id", default="-")
_ACCEPTED = re.compile(r"[A-Za-z0-9._-]{8,64}")


def current_request_id() -> str:
    return _request_id.get()


class RequestIdMiddleware:
    """Pure ASGI middleware (so it also covers WebSocket connections)."""

    header = b"x-request-id"

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        given = dict(scope.get("headers") or []).get(self.header, b"").decode("latin-1")
        request_id = given if _ACCEPTED.fullmatch(given) else uuid.uuid4().hex
        token = _request_id.set(request_id)

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (self.header, request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _request_id.reset(token)


class RequestIdLogFilter:
    """Adds ``request_id`` to every log record."""

    def filter(self, record) -> bool:
        record.request_id = current_request_id()
        return True
