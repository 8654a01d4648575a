"""WeChat Pay API v3, NATIVE (QR code) payments, through ``wechatpayv3``.

The library signs each request (``Authorization: WECHATPAY2-SHA256-RSA2048 ...`` with the merchant key),
verifies the signature of each answer and of each notification, and decrypts notification resources
(AEAD_AES_256_GCM with the APIv3 key). It is synchronous (requests): calls run in a worker thread.

Platform key: this adapter uses the *WeChat Pay public key* (``platform_public_key`` and its id
``PUB_KEY_ID_...``, from the merchant platform, API 安全), the mode WeChat gives every merchant now. Then
the library makes no request while it is constructed, and verifies answers and notifications signed with
that key. Answers and notifications signed under a *platform certificate* serial (merchants still being
switched over) verify too: the library then downloads ``/v3/certificates`` from the gateway and decrypts
them with the APIv3 key. (Without a public key, wechatpayv3 downloads the certificates inside its
constructor, from its hard-coded gateway, before any other gateway can be set: not usable with a
sandbox.)

Gateway: wechatpayv3 has no parameter for it; ``Core._gate_way`` holds ``https://api.mch.weixin.qq.com``
and is set here after construction (the version is pinned in pyproject.toml for that reason).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from wechatpayv3 import WeChatPay, WeChatPayType

from .base import (
    ChargeState,
    ChargeStatus,
    InvalidNotification,
    NativeCharge,
    ProviderError,
    RefundCharge,
    RefundStatus,
)

WECHAT_PAY_GATEWAY = "https://api.mch.weixin.qq.com"
# WeChat: 6-32 of letters, digits, _ - | *. Checked before use: the library puts it in the URL path as is.
OUT_TRADE_NO = re.compile(r"[0-9A-Za-z_\-|*]{6,32}")
# WeChat sends the notification's time in Wechatpay-Timestamp, signed; its SDKs refuse one older than
# this (or as far in the future), so a captured notification cannot be replayed days later.
NOTIFICATION_TOLERANCE = timedelta(minutes=5)

_STATES = {
    "SUCCESS": ChargeState.SUCCEEDED,
    "REFUND": ChargeState.SUCCEEDED,  # paid, then (partly) refunded
    "NOTPAY": ChargeState.PENDING,
    "USERPAYING": ChargeState.PENDING,
    "CLOSED": ChargeState.CLOSED,
    "REVOKED": ChargeState.CLOSED,
    "PAYERROR": ChargeState.FAILED,
}
_NOTIFICATION_HEADERS = (
    "Wechatpay-Timestamp",
    "Wechatpay-Nonce",
    "Wechatpay-Signature",
    "Wechatpay-Serial",
    "Wechatpay-Signature-Type",
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class WeChatPayProvider:
    name = "wechat_pay"

    def __init__(
        self,
        *,
        mchid: str,
        appid: str,
        private_key: str,
        cert_serial_no: str,
        apiv3_key: str,
        platform_public_key: str,
        platform_public_key_id: str,
        gateway: str = WECHAT_PAY_GATEWAY,
        timeout: float = 15.0,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        """``private_key``: the merchant's API certificate key (PEM), ``cert_serial_no`` that certificate's
        serial; ``platform_public_key``: the WeChat Pay public key (PEM) and ``platform_public_key_id`` its
        id. No ``notify_url`` default: wechatpayv3 would send it with refunds too, and WeChat would post
        refund results to the payment notification endpoint."""
        self.mchid = mchid
        self.appid = appid
        self.gateway = gateway.rstrip("/")
        self._clock = clock
        self._client: Any = WeChatPay(
            wechatpay_type=WeChatPayType.NATIVE,
            mchid=mchid,
            private_key=private_key,
            cert_serial_no=cert_serial_no,
            appid=appid,
            apiv3_key=apiv3_key,
            timeout=(min(timeout, 5.0), timeout),
            public_key=platform_public_key,
            public_key_id=platform_public_key_id,
        )
        self._client._core._gate_way = self.gateway

    async def create_native(self, charge: NativeCharge, notify_url: str) -> str:
        _check_out_trade_no(charge.out_trade_no)
        answer = await self._request(
            self._client.pay,
            description=charge.description,
            out_trade_no=charge.out_trade_no,
            amount={"total": charge.amount, "currency": charge.currency},
            notify_url=notify_url,
            pay_type=WeChatPayType.NATIVE,
        )
        code_url = answer.get("code_url")
        if not isinstance(code_url, str) or not code_url:
            raise ProviderError("INVALID_RESPONSE", "no code_url in the answer")
        return code_url

    async def query(self, out_trade_no: str) -> ChargeStatus:
        _check_out_trade_no(out_trade_no)
        answer = await self._request(self._client.query, out_trade_no=out_trade_no)
        try:
            return _charge_status(answer)
        except (KeyError, TypeError, ValueError) as error:
            raise ProviderError("INVALID_RESPONSE", f"unexpected transaction: {error!r}") from None

    async def refund(self, refund: RefundCharge) -> RefundStatus:
        _check_out_trade_no(refund.out_trade_no)
        answer = await self._request(
            self._client.refund,
            out_refund_no=refund.out_refund_no,
            out_trade_no=refund.out_trade_no,
            amount={"refund": refund.amount, "total": refund.total, "currency": refund.currency},
            reason=refund.reason or None,
        )
        status = answer.get("status")
        refund_id = answer.get("refund_id")
        if status in ("CLOSED", "ABNORMAL"):
            raise ProviderError(f"REFUND_{status}", f"refund {refund.out_refund_no} is {status}")
        if status not in ("SUCCESS", "PROCESSING") or not isinstance(refund_id, str):
            raise ProviderError("INVALID_RESPONSE", f"unexpected refund status {status!r}")
        return RefundStatus(out_refund_no=refund.out_refund_no, succeeded=status == "SUCCESS", refund_id=refund_id)

    async def parse_notification(self, headers: Mapping[str, str], body: bytes) -> ChargeStatus:
        lowered = {key.lower(): value for key, value in headers.items()}
        # The library looks headers up by exact name (Wechatpay-*, or all lower case): give it those.
        wanted = {name: lowered[name.lower()] for name in _NOTIFICATION_HEADERS if name.lower() in lowered}
        self._check_timestamp(wanted.get("Wechatpay-Timestamp", ""))
        try:
            # May download /v3/certificates (an unknown serial): a thread, like every library call.
            data = await asyncio.to_thread(self._client.callback, wanted, body)
        except Exception as error:  # the library raises bare Exceptions (unknown algorithm, bad serial...)
            raise InvalidNotification(f"refused by wechatpayv3: {error}") from None
        if not isinstance(data, dict):
            raise InvalidNotification("the signature does not verify, or the resource does not decrypt")
        if not str(data.get("event_type", "")).startswith("TRANSACTION."):
            raise InvalidNotification(f"not a payment notification: {data.get('event_type')!r}")
        resource = data.get("resource")
        if not isinstance(resource, dict):
            raise InvalidNotification("no resource")
        if resource.get("mchid") != self.mchid or resource.get("appid") != self.appid:
            raise InvalidNotification("for another merchant or app")
        try:
            return _charge_status(resource)
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidNotification(f"unexpected transaction: {error!r}") from None

    def notification_ack(self, ok: bool) -> tuple[int, bytes, str]:
        if ok:
            return 200, b'{"code":"SUCCESS"}', "application/json"
        # Any 4xx or 5xx makes WeChat send it again later; 400 says the notification, not the server, was wrong.
        return 400, b'{"code":"FAIL","message":"notification not accepted"}', "application/json"

    def _check_timestamp(self, timestamp: str) -> None:
        if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
            raise InvalidNotification("no valid Wechatpay-Timestamp")
        sent = datetime.fromtimestamp(int(timestamp), UTC)
        if abs(self._clock() - sent) > NOTIFICATION_TOLERANCE:
            raise InvalidNotification(f"Wechatpay-Timestamp {timestamp} is too far from now")

    async def _request(self, call: Callable[..., tuple[int, str | bytes]], **arguments: Any) -> dict[str, Any]:
        """Run one library call in a thread; the answer's JSON object, or ProviderError."""
        try:
            status, text = await asyncio.to_thread(call, **arguments)
        except requests.RequestException as error:
            raise ProviderError("UNREACHABLE", f"WeChat Pay at {self.gateway}: {error}") from None
        except Exception as error:  # the library raises bare Exceptions
            code = "INVALID_RESPONSE_SIGNATURE" if "verify the signature" in str(error) else "PROTOCOL_ERROR"
            raise ProviderError(code, f"wechatpayv3: {error}") from None
        try:
            answer = json.loads(text)
        except ValueError:
            answer = None
        if not 200 <= status < 300:
            if isinstance(answer, dict) and isinstance(answer.get("code"), str):
                raise ProviderError(answer["code"], str(answer.get("message", "")))
            raise ProviderError(f"HTTP_{status}", repr(text[:200]))
        if not isinstance(answer, dict):
            raise ProviderError("INVALID_RESPONSE", "the answer is not a JSON object")
        return answer


def _check_out_trade_no(out_trade_no: str) -> None:
    if not OUT_TRADE_NO.fullmatch(out_trade_no):
        raise ValueError(f"not a WeChat Pay out_trade_no (6-32 of 0-9 A-Z a-z _ - | *): {out_trade_no!r}")


def _charge_status(transaction: dict[str, Any]) -> ChargeStatus:
    """A transaction (a query's answer or a notification's decrypted resource) as a ChargeStatus."""
    state = _STATES[transaction["trade_state"]]
    amount = transaction.get("amount") or {}
    total = amount.get("total")
    if total is None and state is not ChargeState.SUCCEEDED:
        total = 0  # WeChat may leave the total out of an unpaid transaction
    if type(total) is not int or total < 0:
        raise ValueError(f"amount.total {total!r}")
    currency = amount.get("currency", "CNY")
    transaction_id = transaction.get("transaction_id") or None
    success_time = transaction.get("success_time")
    paid_at = _utc(success_time) if success_time else None
    if state is ChargeState.SUCCEEDED and (not isinstance(transaction_id, str) or paid_at is None):
        raise ValueError("a paid transaction without transaction_id or success_time")
    return ChargeStatus(
        out_trade_no=_text(transaction["out_trade_no"]),
        state=state,
        amount=total,
        currency=_text(currency),
        transaction_id=transaction_id,
        paid_at=paid_at,
    )


def _utc(rfc3339: Any) -> datetime:
    moment = datetime.fromisoformat(_text(rfc3339))  # "2026-05-01T12:00:00+08:00"
    if moment.tzinfo is None:
        raise ValueError(f"a time without an offset: {rfc3339!r}")
    return moment.astimezone(UTC)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"not a string: {value!r}")
    return value
