"""The outbox: domain events written in the same transaction as the change they announce.

A relay (server/bus.py) publishes them to the event bus after commit, so a
subscriber never hears of a change that was rolled back, and a crash after
commit loses nothing (unpublished rows are sent when a relay next sweeps).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from .at_commit import insert_at_commit
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


OUTBOX = cast(sa.Table, sa.inspect(OutboxMessage).local_table)  # its Core table: relayed and written by asyncpg


class OutboxReceipt(SQLModel, table=True):
    """A message a durable consumer has handled: one row per (consumer, message), so each is handled once
    even when the consumers of several replicas race for it."""

    __tablename__ = "outbox_receipt"

    consumer: str = Field(primary_key=True, max_length=32)
    message_id: int = Field(primary_key=True)
    outcome: str | None = Field(default=None, max_length=64, description="why nothing was written, if so")
    received_at: datetime = utc_field(default_factory=utcnow)


# consumer name -> the (topics, events) it must see: purging keeps those messages until it handled them.
DURABLE_TOPICS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}


class Deferred(Exception):
    """A durable consumer's handler cannot handle this message yet (what it depends on is not visible):
    it is left unhandled and tried again at the next run."""


def register_durable(consumer: str, topics: tuple[str, ...], events: tuple[str, ...]) -> None:
    """Declare a durable consumer of ``events`` on ``topics`` (see server.bus.DurableConsumer)."""
    DURABLE_TOPICS[consumer] = (topics, events)


@dataclass(frozen=True)
class Emitted:
    """A message emitted in a transaction that has not committed yet (what commit listeners are told)."""

    topic: str
    event: str
    payload: dict[str, Any]
    created_at: datetime


def emit(session: AsyncSession, topic: str, event: str, payload: dict[str, Any], now: datetime) -> None:
    """Add a message to the caller's unit of work (published after it commits).

    The messages are written when the transaction commits (server.at_commit), with the other rows it queued:
    nearly every change emits a few, and nothing reads them before. Those of a savepoint not released are
    dropped with it."""
    message = Emitted(topic, event, payload, now)
    insert_at_commit(session, OUTBOX, (_row(message),))
    session.info.setdefault("outbox_written", []).append(message)  # server.db.OUTBOX_WRITTEN: told at commit


def _row(message: Emitted) -> dict[str, Any]:
    return {
        "topic": message.topic,
        "event": message.event,
        "payload": message.payload,
        "created_at": message.created_at,
        "published_at": None,
    }


def unhandled_by(consumer: str):
    """Messages on the consumer's topics that it has not handled yet."""
    handled = sa.exists().where(
        col(OutboxReceipt.consumer) == consumer, col(OutboxReceipt.message_id) == col(OutboxMessage.id)
    )
    topics, events = DURABLE_TOPICS[consumer]
    return sa.and_(col(OutboxMessage.topic).in_(topics), col(OutboxMessage.event).in_(events), ~handled)


async def take_receipt(session: AsyncSession, consumer: str, message_id: int, now: datetime) -> bool:
    """Record that ``consumer`` handles ``message_id`` in this transaction; False if another did (or
    does: on PostgreSQL the insert waits for a racing transaction and then finds its row)."""
    statement = _receipt_insert(session.get_bind().dialect.name)
    values = {"consumer": consumer, "message_id": message_id, "received_at": now}
    return ((await session.exec(statement, params=values)).rowcount or 0) == 1


@functools.cache
def _receipt_insert(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = cast(sa.Table, sa.inspect(OutboxReceipt).local_table)  # Core: a plain insert, with its rowcount
    return insert(table).on_conflict_do_nothing(index_elements=["consumer", "message_id"])


async def purge_published(session: AsyncSession, before: datetime) -> int:
    """Messages published before ``before`` (subscribers had them; late clients catch up by query), but
    not one a durable consumer has still to handle; then the receipts of messages gone."""
    kept = [unhandled_by(consumer) for consumer in DURABLE_TOPICS]
    condition = sa.and_(col(OutboxMessage.published_at) < before, *(~k for k in kept))
    purged = await purge(session, OutboxMessage, condition)
    gone = ~sa.exists().where(col(OutboxMessage.id) == col(OutboxReceipt.message_id))
    receipts = await session.exec(sa.delete(OutboxReceipt).where(col(OutboxReceipt.received_at) < before, gone))
    return purged + (receipts.rowcount or 0)
