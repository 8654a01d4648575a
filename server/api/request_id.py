"""A request id on every request: in the response header, the logs and masked errors."""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar

_request_id: ContextVar[str] = ContextVar("irs_request_id", default="-")
_ACCEPTED = re.compile(r"[A-Za-z0-9._-]{8,64}")
logger = logging.getLogger("irs.api")


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

        started = False

        async def send_with_id(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (self.header, request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            if scope["type"] != "http" or started:
                raise
            # Whatever escaped the app still answers with the request id, and the traceback is logged.
            logger.exception(
                "unhandled error in %s %s (request %s)", scope.get("method"), scope.get("path"), request_id
            )
            await _internal_error(send_with_id, request_id)
        finally:
            _request_id.reset(token)


async def _internal_error(send, request_id: str) -> None:
    body = json.dumps(
        {
            "errors": [
                {
                    "message": f"Internal error (request id {request_id})",
                    "extensions": {"code": "INTERNAL", "requestId": request_id},
                }
            ]
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestIdLogFilter:
    """Adds ``request_id`` to every log record."""

    def filter(self, record) -> bool:
        record.request_id = current_request_id()
        return True
