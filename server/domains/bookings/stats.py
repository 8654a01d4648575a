"""Visit figures for performance: bookings of a scope whose slot falls in a window, and how their
reception went (acknowledgement times, SLA breaches). Two statements, whatever the window's size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..tasks.models import Task, TaskHistory
from .models import Booking, BookingStatus


@dataclass(frozen=True)
class VisitScope:
    """Which bookings: at these stores, from these livestreams, received by this guide (None: any)."""

    store_ids: Sequence[int] | None = None
    livestream_ids: Sequence[int] | None = None
    guide_id: int | None = None


@dataclass(frozen=True)
class VisitFigures:
    booked: int = 0  # not cancelled
    checked_in: int = 0
    no_shows: int = 0
    checked_in_ids: list[int] = field(default_factory=list)
    acknowledgement_seconds: list[float] = field(default_factory=list)
    sla_breaches: int = 0


def _conditions(scope: VisitScope, start: datetime, end: datetime) -> list:
    conditions = [col(Booking.slot_start) >= start, col(Booking.slot_start) < end]
    if scope.store_ids is not None:
        conditions.append(col(Booking.store_id).in_(list(scope.store_ids)))
    if scope.livestream_ids is not None:
        conditions.append(col(Booking.livestream_id).in_(list(scope.livestream_ids)))
    if scope.guide_id is not None:
        conditions.append(col(Task.assignee_id) == scope.guide_id)
    return conditions


async def visit_figures(session: AsyncSession, scope: VisitScope, start: datetime, end: datetime) -> VisitFigures:
    acknowledged = (
        select(TaskHistory.task_id, sa.func.min(TaskHistory.at).label("at"))
        .where(col(TaskHistory.action) == "ACKNOWLEDGED")
        .group_by(TaskHistory.task_id)
        .subquery()
    )
    statement = (
        select(
            Booking.id,
            Booking.status,
            Booking.checked_in_at,
            Task.created_at,
            Task.ack_due_at,
            Task.escalations,
            acknowledged.c.at,
        )
        .outerjoin(Task, col(Task.booking_id) == col(Booking.id))
        .outerjoin(acknowledged, acknowledged.c.task_id == col(Task.id))
        .where(*_conditions(scope, start, end))
    )
    booked = checked_in = no_shows = breaches = 0
    ids: list[int] = []
    seconds: list[float] = []
    for booking_id, status, checked_in_at, created_at, ack_due_at, escalations, ack_at in await session.exec(statement):
        if status == BookingStatus.CANCELLED.value:
            continue
        booked += 1
        no_shows += status == BookingStatus.NO_SHOW.value
        if checked_in_at is not None:
            checked_in += 1
            ids.append(booking_id)
        if ack_at is not None and created_at is not None:
            seconds.append((ack_at - created_at).total_seconds())
        late = ack_at is not None and ack_due_at is not None and ack_at > ack_due_at
        breaches += bool(escalations) or late
    return VisitFigures(booked, checked_in, no_shows, ids, seconds, breaches)
