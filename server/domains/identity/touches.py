"""Her livestream touches on the unified timeline: what attribution looks back on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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


async def livestream_touches(
    session: AsyncSession, person_id: int, since: datetime, until: datetime, limit: int = 20
) -> list[Touch]:
    """Her latest ``limit`` livestream events in [since, until], newest first."""
    statement = (
        select(CustomerEvent.livestream_id, CustomerEvent.type, CustomerEvent.occurred_at)
        .where(
            col(CustomerEvent.person_id) == person_id,
            col(CustomerEvent.occurred_at) >= since,
            col(CustomerEvent.occurred_at) <= until,
            col(CustomerEvent.type).in_([t.value for t in LIVESTREAM_TOUCHES]),
            col(CustomerEvent.livestream_id).is_not(None),
        )
        .order_by(col(CustomerEvent.occurred_at).desc(), col(CustomerEvent.id).desc())
        .limit(limit)
    )
    return [Touch(livestream_id or 0, type_, at) for livestream_id, type_, at in await session.exec(statement)]
