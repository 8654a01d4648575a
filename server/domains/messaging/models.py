"""Messages to customers (reminders) waiting to be sent through WeChat or SMS."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ...clock import utcnow
from ...columns import enum_field, json_field, utc_field


class OutboundMessage(SQLModel, table=True):
    """One message to one customer. The recipient (openid, phone) is looked up when it is sent, so an
    erased customer's pending messages go nowhere."""

    __tablename__ = "outbound_message"
    __table_args__ = (sa.Index("ix_outbound_message_status_id", "status", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    kind: str = enum_field(description="e.g. BOOKING_REMINDER")
    dedupe_key: str = Field(
        max_length=100, unique=True, description="one message per purpose, e.g. booking:7:remind:<slot start>"
    )
    params: dict[str, Any] = json_field(default_factory=dict)
    status: str = enum_field(description="PENDING, SENT, FAILED or SKIPPED")
    channel: str | None = Field(default=None, max_length=32, description="the channel that took it")
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=200)
    created_at: datetime = utc_field(default_factory=utcnow)
    sent_at: datetime | None = utc_field(nullable=True, default=None)
