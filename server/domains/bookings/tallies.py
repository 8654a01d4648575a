"""Counts of bookings, for the domains that report on them (no rows leave this module, only figures).

Two readers, one meaning of the counts: booked is every booking but the cancelled ones, checked in is
one that has a check-in time (whatever happened after), a no-show has status NO_SHOW.

- A livestream's live dashboard (``dashboards``): ``livestream_booking_tally``, its bookings by store
  and per minute, and ``livestream_booking_ids`` for the sales of those bookings. All time, each a
  single aggregate statement.
- Performance (``ledger``): ``visit_figures``, the bookings of a scope (stores, livestreams, guide)
  whose slot falls in a window, and how their reception went (acknowledgement times, SLA breaches).
  One statement, whatever the window's size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from ..common.dialect import dialect_of, epoch_minute
from ..common.rows import exec_any, select_columns
from ..tasks.models import Task, TaskHistory
from .models import Booking, BookingStatus

SECONDS_A_MINUTE = 60


# A livestream's bookings, for its live dashboard.


@dataclass(frozen=True)
class BookingTally:
    booked: int  # every booking but the cancelled ones
    cancelled: int
    checked_in: int  # she came (checked in, whatever happened after)
    no_shows: int


def _count_where(condition) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def _of_livestream(livestream_id: int) -> sa.ColumnElement[bool]:
    return col(Booking.livestream_id) == livestream_id


def _not_cancelled() -> sa.ColumnElement[bool]:
    return col(Booking.status) != BookingStatus.CANCELLED.value


async def livestream_booking_tally(session: AsyncSession, livestream_id: int) -> BookingTally:
    """Booked, cancelled, checked in and no-shows of one livestream's bookings (one statement)."""
    cancelled = col(Booking.status) == BookingStatus.CANCELLED.value
    statement = select(
        _count_where(sa.not_(cancelled)),
        _count_where(cancelled),
        _count_where(col(Booking.checked_in_at).is_not(None)),
        _count_where(col(Booking.status) == BookingStatus.NO_SHOW.value),
    ).where(_of_livestream(livestream_id))
    booked, cancelled_count, checked_in, no_shows = (await session.exec(statement)).one()
    return BookingTally(int(booked), int(cancelled_count), int(checked_in), int(no_shows))


async def livestream_bookings_by_store(session: AsyncSession, livestream_id: int) -> dict[int, int]:
    """Store id -> bookings (not cancelled) of one livestream."""
    statement = (
        select(col(Booking.store_id), sa.func.count())
        .where(_of_livestream(livestream_id), _not_cancelled())
        .group_by(col(Booking.store_id))
    )
    return {store_id: int(count) for store_id, count in (await session.exec(statement)).all()}


async def livestream_bookings_per_minute(
    session: AsyncSession, livestream_id: int, since: datetime
) -> list[tuple[datetime, int]]:
    """(minute, bookings made in it) of one livestream since ``since``, oldest first; empty minutes left out."""
    minute = epoch_minute(dialect_of(session), col(Booking.created_at)).label("minute")
    statement = (
        select(minute, sa.func.count())
        .where(_of_livestream(livestream_id), col(Booking.created_at) >= since)
        .group_by(minute)
        .order_by(minute)
    )
    rows = (await session.exec(statement)).all()
    return [(datetime.fromtimestamp(int(m) * SECONDS_A_MINUTE, UTC), int(count)) for m, count in rows]


def livestream_booking_ids(livestream_id: int) -> SelectOfScalar[int | None]:
    """The ids of every booking made from the livestream (a subquery for the domains that follow bookings)."""
    return select(col(Booking.id)).where(_of_livestream(livestream_id))


# The bookings of a scope in a window, and their reception, for performance.


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


def _visit_conditions(scope: VisitScope, start: datetime, end: datetime) -> list:
    conditions = [col(Booking.slot_start) >= start, col(Booking.slot_start) < end]
    if scope.store_ids is not None:
        conditions.append(col(Booking.store_id).in_(list(scope.store_ids)))
    if scope.livestream_ids is not None:
        conditions.append(col(Booking.livestream_id).in_(list(scope.livestream_ids)))
    if scope.guide_id is not None:
        conditions.append(col(Task.assignee_id) == scope.guide_id)
    return conditions


async def visit_figures(session: AsyncSession, scope: VisitScope, start: datetime, end: datetime) -> VisitFigures:
    """The bookings of ``scope`` whose slot starts in [start, end), and their reception (one statement)."""
    acknowledged = (
        select(TaskHistory.task_id, sa.func.min(TaskHistory.at).label("at"))
        .where(col(TaskHistory.action) == "ACKNOWLEDGED")
        .group_by(col(TaskHistory.task_id))
        .subquery()
    )
    statement = (
        select_columns(
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
        .where(*_visit_conditions(scope, start, end))
    )
    booked = checked_in = no_shows = breaches = 0
    ids: list[int] = []
    seconds: list[float] = []
    for booking_id, status, checked_in_at, created_at, ack_due_at, escalations, ack_at in await exec_any(
        session, statement
    ):
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
