"""Payments taken for orders, and refunds given back through the same method."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ...clock import utcnow
from ...columns import enum_field, json_field, utc_field


class PaymentMethod(StrEnum):
    CASH = "CASH"
    CARD_TERMINAL = "CARD_TERMINAL"
    WECHAT_PAY = "WECHAT_PAY"
    ALIPAY = "ALIPAY"


class PaymentStatus(StrEnum):
    PENDING = "PENDING"  # waiting for the customer to pay at the provider
    SUCCEEDED = "SUCCEEDED"
    ORPHANED = "ORPHANED"  # paid after its order was cancelled, expired or paid another way: to refund
    REFUNDED = "REFUNDED"  # an orphaned payment, given back whole
    CLOSED = "CLOSED"  # never paid: closed by reconciliation or replaced
    FAILED = "FAILED"  # the provider refused to start it


class RefundState(StrEnum):
    PENDING = "PENDING"  # accepted by the provider, not yet final
    SUCCEEDED = "SUCCEEDED"


class Payment(SQLModel, table=True):
    __tablename__ = "payment"
    __table_args__ = (sa.Index("ix_payment_pending_created", "status", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="sales_order.id", index=True)
    method: str = enum_field()
    status: str = enum_field()
    out_trade_no: str = Field(max_length=32, unique=True)
    amount: int = Field(sa_type=sa.BigInteger)
    currency: str = Field(max_length=3)
    refunded_amount: int = Field(default=0, sa_type=sa.BigInteger)
    terminal_reference: str | None = Field(default=None, max_length=64)
    qr_payload: str | None = Field(default=None, max_length=512)
    provider_transaction_id: str | None = Field(default=None, max_length=64)
    created_by: str = Field(max_length=64)
    created_at: datetime = utc_field(default_factory=utcnow)
    settled_at: datetime | None = utc_field(nullable=True, default=None)


class Refund(SQLModel, table=True):
    __tablename__ = "refund"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="sales_order.id", index=True)
    payment_id: int = Field(foreign_key="payment.id", index=True)
    out_refund_no: str = Field(max_length=32, unique=True)
    amount: int = Field(sa_type=sa.BigInteger)
    status: str = enum_field()
    reason: str = Field(max_length=200)
    restock: bool
    # [{"lineId", "quantity", "amount"}]
    lines: list[dict[str, Any]] = json_field()
    provider_refund_id: str | None = Field(default=None, max_length=64)
    created_by: str = Field(max_length=64)
    created_at: datetime = utc_field(default_factory=utcnow)
    settled_at: datetime | None = utc_field(nullable=True, default=None)
