"""Alipay OpenAPI (当面付: alipay.trade.precreate for a QR code), RSA2, through ``python-alipay-sdk``.

The library signs each request with the app private key (RSA2 over the sorted parameters), sends it as a
GET to the gateway, and verifies the answer's ``sign`` (over the exact text of the ``..._response``
object) with the Alipay public key; ``AliPay.verify`` checks notifications. It is synchronous (urllib):
calls run in a worker thread.

Gateway: the library takes none (``debug=True`` only switches to Alipay's own sandbox); ``_gateway`` holds
``https://openapi.alipay.com/gateway.do`` and is set here after construction (the version is pinned in
pyproject.toml for that reason).

Amounts are yuan strings ("12.34") at Alipay: ``fen_to_yuan`` and ``yuan_to_fen`` convert exactly. Times
at Alipay are Beijing time (UTC+8, no daylight saving) without an offset.

Two things Alipay does that the domain must expect: it knows a precreated trade only once the buyer has
scanned its code (``query`` answers PENDING with amount 0 until then: ACQ.TRADE_NOT_EXIST), and a trade
refunded in full becomes TRADE_CLOSED (``query`` then answers CLOSED, not SUCCEEDED).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from alipay import AliPay
from alipay.exceptions import AliPayException, AliPayValidationError
from alipay.utils import AliPayConfig

from .base import (
    ChargeState,
    ChargeStatus,
    InvalidNotification,
    NativeCharge,
    ProviderError,
    RefundCharge,
    RefundStatus,
)

ALIPAY_GATEWAY = "https://openapi.alipay.com/gateway.do"
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
# At most 15 integer digits: Decimal's 28 significant digits keep every such amount exact.
_YUAN = re.compile(r"[0-9]{1,15}(\.[0-9]{1,2})?")
_STATES = {
    "TRADE_SUCCESS": ChargeState.SUCCEEDED,
    "TRADE_FINISHED": ChargeState.SUCCEEDED,  # paid, and no longer refundable
    "WAIT_BUYER_PAY": ChargeState.PENDING,
    "TRADE_CLOSED": ChargeState.CLOSED,  # closed unpaid, or refunded in full
}


def fen_to_yuan(fen: int) -> str:
    """12345 → "123.45": integers only, so exact."""
    if type(fen) is not int or fen < 0:
        raise ValueError(f"not an amount in fen: {fen!r}")
    yuan, cents = divmod(fen, 100)
    return f"{yuan}.{cents:02d}"


def yuan_to_fen(yuan: str) -> int:
    """ "123.45" → 12345, "7" → 700; ValueError for anything else (signs, exponents, 3 decimals...)."""
    if not isinstance(yuan, str) or not _YUAN.fullmatch(yuan):
        raise ValueError(f"not an amount in yuan: {yuan!r}")
    return int(Decimal(yuan) * 100)  # at most 2 decimals: exact


def beijing_time(moment: datetime) -> str:
    """How Alipay writes a time: "2026-05-01 20:00:00", Beijing time."""
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def _utc(beijing: Any) -> datetime:
    if not isinstance(beijing, str):
        raise TypeError(f"not a time: {beijing!r}")
    return datetime.strptime(beijing, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING).astimezone(UTC)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class AlipayProvider:
    name = "alipay"

    def __init__(
        self,
        *,
        app_id: str,
        app_private_key: str,
        alipay_public_key: str,
        gateway: str = ALIPAY_GATEWAY,
        timeout: float = 15.0,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        """``app_private_key``: the app's RSA2 private key (PEM, PKCS#1 or PKCS#8); ``alipay_public_key``:
        the Alipay public key shown for the app (PEM)."""
        self.app_id = app_id
        self.gateway = gateway
        self._clock = clock
        self._client: Any = AliPay(
            appid=app_id,
            app_private_key_string=app_private_key,
            alipay_public_key_string=alipay_public_key,
            sign_type="RSA2",
            config=AliPayConfig(timeout=timeout),
        )
        self._client._gateway = gateway

    async def create_native(self, charge: NativeCharge, notify_url: str) -> str:
        _check_currency(charge.currency)
        answer = await self._call(
            "alipay.trade.precreate",
            {
                "out_trade_no": charge.out_trade_no,
                "total_amount": fen_to_yuan(charge.amount),
                "subject": charge.description,
            },
            notify_url=notify_url,
        )
        qr_code = answer.get("qr_code")
        if not isinstance(qr_code, str) or not qr_code:
            raise ProviderError("INVALID_RESPONSE", "no qr_code in the answer")
        return qr_code

    async def query(self, out_trade_no: str) -> ChargeStatus:
        try:
            answer = await self._call("alipay.trade.query", {"out_trade_no": out_trade_no})
        except ProviderError as error:
            if error.code != "ACQ.TRADE_NOT_EXIST":
                raise
            # Not scanned yet (or never created): Alipay knows nothing of it, not even the amount.
            return ChargeStatus(out_trade_no, ChargeState.PENDING, 0, "CNY", None, None)
        try:
            return _charge_status(answer, paid_at_field="send_pay_date")
        except (KeyError, TypeError, ValueError) as error:
            raise ProviderError("INVALID_RESPONSE", f"unexpected trade: {error!r}") from None

    async def refund(self, refund: RefundCharge) -> RefundStatus:
        _check_currency(refund.currency)
        biz = {
            "out_trade_no": refund.out_trade_no,
            "refund_amount": fen_to_yuan(refund.amount),
            "out_request_no": refund.out_refund_no,  # what makes partial refunds possible, and idempotent
        }
        if refund.reason:
            biz["refund_reason"] = refund.reason
        answer = await self._call("alipay.trade.refund", biz)
        if answer.get("fund_change") == "Y":
            return RefundStatus(refund.out_refund_no, succeeded=True, refund_id=None)
        # "N": this call moved no money (a repeat of a refund already made, or one still in progress):
        # Alipay says to ask the refund query.
        found = await self._call(
            "alipay.trade.fastpay.refund.query",
            {"out_trade_no": refund.out_trade_no, "out_request_no": refund.out_refund_no},
        )
        succeeded = found.get("refund_status") == "REFUND_SUCCESS"
        return RefundStatus(refund.out_refund_no, succeeded=succeeded, refund_id=None)

    async def parse_notification(self, headers: Mapping[str, str], body: bytes) -> ChargeStatus:
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except ValueError:  # UnicodeDecodeError included
            raise InvalidNotification("not a form in UTF-8") from None
        data = dict(pairs)
        if len(data) != len(pairs):
            raise InvalidNotification("a parameter given twice")
        signature = data.pop("sign", "")
        if data.get("sign_type") != "RSA2" or not signature:
            raise InvalidNotification("not signed with RSA2")
        try:
            verified = self._client.verify(dict(data), signature)  # RSA2 over the sorted parameters
        except Exception as error:  # a sign that is not base64, an unknown sign_type...
            raise InvalidNotification(f"refused by python-alipay-sdk: {error}") from None
        if not verified:
            raise InvalidNotification("the signature does not verify")
        if data.get("app_id") != self.app_id:
            raise InvalidNotification("for another app")
        if data.get("notify_type") != "trade_status_sync":
            raise InvalidNotification(f"not a trade notification: {data.get('notify_type')!r}")
        try:
            return _charge_status(data, paid_at_field="gmt_payment")
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidNotification(f"unexpected trade: {error!r}") from None

    def notification_ack(self, ok: bool) -> tuple[int, bytes, str]:
        return 200, b"success" if ok else b"fail", "text/plain"

    async def _call(self, method: str, biz_content: dict[str, str], **parameters: str) -> dict[str, Any]:
        """One OpenAPI call through the library's generic ``server_api``, in a thread: the verified
        ``<method>_response`` object when its code is 10000, else ProviderError.

        ``server_api`` rather than the ``api_alipay_trade_*`` helpers: it takes the request's own
        parameters, and the library stamps ``timestamp`` with the process's local time, where Alipay
        reads Beijing time; a server on UTC would be 8 hours off. It is sent here in Beijing time."""
        call = self._client.server_api
        timestamp = beijing_time(self._clock())
        try:
            answer = await asyncio.to_thread(call, method, biz_content, timestamp=timestamp, **parameters)
        except AliPayValidationError:
            raise ProviderError("INVALID_RESPONSE_SIGNATURE", f"{method}: the answer's sign does not verify") from None
        except AliPayException as error:  # an answer without sign: {"error_response": ...}
            raise ProviderError("REFUSED", f"{method}: {error}") from None
        except (OSError, TimeoutError) as error:  # urllib's URLError and HTTPError are OSErrors
            raise ProviderError("UNREACHABLE", f"Alipay at {self.gateway}: {error}") from None
        except Exception as error:  # an answer that is not JSON, or not shaped as the library expects
            raise ProviderError("PROTOCOL_ERROR", f"{method}: {error!r}") from None
        if not isinstance(answer, dict):
            raise ProviderError("INVALID_RESPONSE", f"{method}: the answer is not an object")
        if answer.get("code") != "10000":
            code = answer.get("sub_code") or answer.get("code") or "UNKNOWN"
            message = answer.get("sub_msg") or answer.get("msg") or ""
            raise ProviderError(str(code), f"{method}: {message}")
        return answer


def _check_currency(currency: str) -> None:
    if currency != "CNY":
        raise ProviderError("UNSUPPORTED_CURRENCY", f"Alipay trades here are in CNY, not {currency}")


def _charge_status(trade: Mapping[str, Any], *, paid_at_field: str) -> ChargeStatus:
    """A trade (a query's answer, or a notification's parameters) as a ChargeStatus."""
    state = _STATES[trade["trade_status"]]
    trade_no = trade.get("trade_no") or None
    paid_at = _utc(trade[paid_at_field]) if trade.get(paid_at_field) else None
    if state is ChargeState.SUCCEEDED and (not isinstance(trade_no, str) or paid_at is None):
        raise ValueError(f"a paid trade without trade_no or {paid_at_field}")
    out_trade_no = trade["out_trade_no"]
    if not isinstance(out_trade_no, str):
        raise TypeError(f"out_trade_no {out_trade_no!r}")
    return ChargeStatus(
        out_trade_no=out_trade_no,
        state=state,
        amount=yuan_to_fen(trade["total_amount"]),
        currency="CNY",
        transaction_id=trade_no,
        paid_at=paid_at,
    )
