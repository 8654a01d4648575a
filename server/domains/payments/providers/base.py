"""The one interface every payment provider offers, and the values it speaks in.

Amounts are integers in minor units (fen); times are timezone-aware UTC. A provider speaks its vendor's
real protocol (WeChat Pay API v3, Alipay OpenAPI with RSA2) through the vendor's library; in development
and tests the same code talks to the sandbox (``sandbox.py``), which plays the vendor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


@dataclass(frozen=True)
class NativeCharge:
    """A charge the customer pays by scanning a QR code (WeChat NATIVE, Alipay precreate)."""

    out_trade_no: str  # ours, unique per charge; the vendor's idempotency key
    description: str
    amount: int  # fen
    currency: str  # "CNY"


class ChargeState(StrEnum):
    PENDING = "PENDING"  # created, not paid (yet)
    SUCCEEDED = "SUCCEEDED"  # paid (later refunds do not change this at WeChat; see ``AlipayProvider``)
    CLOSED = "CLOSED"  # closed unpaid, or (Alipay) closed by a full refund
    FAILED = "FAILED"  # the payment failed (WeChat PAYERROR)


@dataclass(frozen=True)
class ChargeStatus:
    """What the vendor says about a charge, from a query or a verified notification."""

    out_trade_no: str
    state: ChargeState
    amount: int  # fen, as the vendor states it (0 when the vendor does not know the charge yet)
    currency: str
    transaction_id: str | None  # the vendor's id of the payment
    paid_at: datetime | None  # UTC


@dataclass(frozen=True)
class RefundCharge:
    out_trade_no: str
    out_refund_no: str  # ours, unique per refund; retry a refund with the same one (idempotent at the vendor)
    amount: int  # fen to refund now
    total: int  # fen the charge was paid
    currency: str
    reason: str


@dataclass(frozen=True)
class RefundStatus:
    """``succeeded``: the money went back. False: the vendor accepted the refund and is still processing
    it; ask again with the same ``RefundCharge`` (both vendors answer a repeated ``out_refund_no`` with that
    refund's state and refund nothing twice). A refusal raises ``ProviderError``."""

    out_refund_no: str
    succeeded: bool
    refund_id: str | None  # the vendor's id of the refund (Alipay has none)


class ProviderError(Exception):
    """The vendor refused the call or could not be reached (or answered with a signature that fails)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class InvalidNotification(Exception):
    """A notification that does not verify: bad or foreign signature, undecryptable, stale, malformed."""


class PaymentProvider(Protocol):
    name: str  # "wechat_pay" | "alipay"

    async def create_native(self, charge: NativeCharge, notify_url: str) -> str:
        """Create the charge at the vendor; the QR payload to show (WeChat code_url, Alipay qr_code)."""
        ...

    async def parse_notification(self, headers: Mapping[str, str], body: bytes) -> ChargeStatus:
        """Verify (signature, and decrypt where the vendor encrypts) a payment notification, exactly as
        received; raise ``InvalidNotification`` when it does not verify. The caller still checks the
        amount against its own record and handles repeats idempotently."""
        ...

    def notification_ack(self, ok: bool) -> tuple[int, bytes, str]:
        """(HTTP status, body, content type) to answer a notification with, as the vendor expects; a
        refusal makes the vendor send it again later."""
        ...

    async def query(self, out_trade_no: str) -> ChargeStatus: ...

    async def refund(self, refund: RefundCharge) -> RefundStatus: ...
