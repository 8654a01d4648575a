"""The providers' asynchronous notifications: POST /payments/{provider}/notify.

Each is verified by the provider's adapter (signature, decryption), then settles
the charge through :func:`services.record_charge`: a repeat is harmless, an
unknown charge or a wrong amount is refused and writes nothing. The answer is
the one the vendor expects; a refusal makes the vendor send it again later.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..common.errors import CommonErrorCode as Common
from .providers import InvalidNotification
from .services import AmountMismatch, UnknownCharge, record_charge

logger = logging.getLogger("irs.payments")
MAX_NOTIFICATION_BYTES = 64 * 1024


async def notify(request: Request) -> Response:
    runtime = request.app.state.runtime
    provider = runtime.payments.by_name.get(request.path_params["provider"])
    if provider is None:
        return JSONResponse({"code": Common.NOT_FOUND.value, "message": "no such payment provider"}, status_code=404)
    body = await request.body()
    ok = False
    try:
        if len(body) > MAX_NOTIFICATION_BYTES:
            raise InvalidNotification("notification too large")
        status = await provider.parse_notification(dict(request.headers), body)
        async with runtime.db.writer() as session:
            await record_charge(session, provider.name, status, runtime.clock.now())
        ok = True
    except InvalidNotification as refused:
        logger.warning("%s notification refused: %s", provider.name, refused)
    except UnknownCharge as unknown:
        logger.warning("%s notification for an unknown charge %s", provider.name, unknown)
    except AmountMismatch as mismatch:
        logger.error("%s notification with the wrong amount: %s", provider.name, mismatch)
    status_code, content, media_type = provider.notification_ack(ok)
    return Response(content, status_code=status_code, media_type=media_type)
