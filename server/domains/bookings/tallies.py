"""Counts of one livestream's bookings, for its live dashboard: each a single aggregate statement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from ..common.dialect import dialect_of, epoch_minute
from .models import Booking, BookingStatus

SECONDS_A_MINUTE = 60


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
