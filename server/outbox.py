"""The outbox: domain events written in the same transaction as the change they announce.

A relay (server/bus.py) publishes them to the event bus after commit, so a
subscriber never hears of a change that was rolled back, and a crash after
commit loses nothing (unpublished rows are sent when a relay next sweeps).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from .clock import utcnow
from .columns import json_field, utc_field
from .housekeeping import purge


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_published_id", "published_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    topic: str = Field(max_length=100, description="e.g. tasks.staff:12, tasks.store:3, bookings.livestream:7")
    event: str = Field(max_length=32, description="what happened, e.g. CREATED, ESCALATED")
    payload: dict[str, Any] = json_field(default_factory=dict)
    created_at: datetime = utc_field(default_factory=utcnow)
    published_at: datetime | None = utc_field(nullable=True, default=None)


def emit(session: AsyncSession, topic: str, event: str, payload: dict[str, Any], now: datetime) -> None:
    """Add a message to the caller's unit of work (published after it commits)."""
    session.add(OutboxMessage(topic=topic, event=event, payload=payload, created_at=now))
    session.info["outbox_written"] = True  # server.db.OUTBOX_WRITTEN: wakes the relay after commit


async def purge_published(session: AsyncSession, before: datetime) -> int:
    """Messages published before ``before`` (subscribers had them; late clients catch up by query)."""
    return await purge(session, OutboxMessage, col(OutboxMessage.published_at) < before)
