"""Who served a booking's customer: read by the performance engine."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .models import Task


async def assignees_by_booking(session: AsyncSession, booking_ids: Sequence[int]) -> dict[int, int | None]:
    """The guide each booking's reception task is (or was last) assigned to."""
    if not booking_ids:
        return {}
    statement = select(Task.booking_id, Task.assignee_id).where(col(Task.booking_id).in_(list(booking_ids)))
    return {booking_id: assignee for booking_id, assignee in await session.exec(statement) if booking_id is not None}
