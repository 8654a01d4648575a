"""Her livestream touches on the unified timeline: what attribution looks back on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .events import EventType
from .models import CustomerEvent

LIVESTREAM_TOUCHES = (EventType.LIVESTREAM_JOIN, EventType.LIVESTREAM_PRODUCT_CLICK, EventType.LIVESTREAM_BOOK_CLICK)


@dataclass(frozen=True)
class Touch:
    livestream_id: int
    type: str
    at: datetime


def _touches_between(since: datetime, until: datetime) -> list[Any]:
    return [
        col(CustomerEvent.occurred_at) >= since,
        col(CustomerEvent.occurred_at) <= until,
        col(CustomerEvent.type).in_([t.value for t in LIVESTREAM_TOUCHES]),
        col(CustomerEvent.livestream_id).is_not(None),
    ]


async def livestream_touches(
    session: AsyncSession, person_id: int, since: datetime, until: datetime, limit: int = 20
) -> list[Touch]:
    """Her latest ``limit`` livestream events in [since, until], newest first."""
    statement = (
        select(CustomerEvent.livestream_id, CustomerEvent.type, CustomerEvent.occurred_at)
        .where(col(CustomerEvent.person_id) == person_id, *_touches_between(since, until))
        .order_by(col(CustomerEvent.occurred_at).desc(), col(CustomerEvent.id).desc())
        .limit(limit)
    )
    return [Touch(livestream_id or 0, type_, at) for livestream_id, type_, at in await session.exec(statement)]


async def livestream_touches_of(
    session: AsyncSession, person_ids: Sequence[int], since: datetime, until: datetime
) -> dict[int, list[Touch]]:
    """Each person's livestream events in [since, until], newest first (one statement for many)."""
    found: dict[int, list[Touch]] = {person_id: [] for person_id in person_ids}
    statement = (
        select(CustomerEvent.person_id, CustomerEvent.livestream_id, CustomerEvent.type, CustomerEvent.occurred_at)
        .where(col(CustomerEvent.person_id).in_(list(person_ids)), *_touches_between(since, until))
        .order_by(col(CustomerEvent.occurred_at).desc(), col(CustomerEvent.id).desc())
    )
    for person_id, livestream_id, type_, at in await session.exec(statement):
        found[person_id].append(Touch(livestream_id or 0, type_, at))
    return found
