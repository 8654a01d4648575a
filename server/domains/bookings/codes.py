"""A booking's 6-digit check-in code: what a guide types when her QR code cannot be scanned.

Six digits are a million codes, not a unique id. A code is therefore only ever looked up within
one store and only among bookings whose check-in window is open there, and it is unique among
the codes its store holds (the table's primary key is (store, code)). A booking holds its code
from the moment it is made until it can no longer be checked in: cancelling it or marking it a
no-show gives the code back, and the hourly housekeeping gives back those of bookings whose
check-in window closed more than a day ago (checked in, completed). So two bookings a store could
check in at the same moment never share a code, whatever their slots, and a reschedule keeps it.

A new code is drawn at random (``secrets``: not derivable from the booking) and claimed with
``INSERT … ON CONFLICT DO NOTHING``: a code the store holds is drawn again, without an error that
would abort the transaction on PostgreSQL, and two bookings racing for one code cannot both get it.
"""

from __future__ import annotations

import functools
import logging
import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ...housekeeping import PURGE_BATCH
from ...prepared import run
from ..common.dialect import dialect_of, ignoring_conflicts
from ..common.rows import column_values, table_of
from .models import Booking, BookingCheckInCode

log = logging.getLogger("irs.bookings")

DIGITS = 6
# Draws before giving up: with half a store's million codes held, 20 draws all fail once in a million.
DRAWS = 20
_SHAPE = re.compile(rf"[0-9]{{{DIGITS}}}")
# What a guide may type around the digits ("123 456", "123-456").
_SEPARATORS = re.compile(r"[\s\-]")


def draw() -> str:
    return f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"


def normalized(code: str) -> str | None:
    """The six digits the guide typed (spaces and dashes dropped), or None when it is not six digits."""
    digits = _SEPARATORS.sub("", code)
    return digits if _SHAPE.fullmatch(digits) else None


async def assign(session: AsyncSession, booking: Booking) -> str | None:
    """Give a new booking a code its store does not hold. None (logged) only if every draw was taken:
    she is then checked in by her QR code or from her task, as before codes existed."""
    for _attempt in range(DRAWS):
        code = draw()
        row = {"store_id": booking.store_id, "code": code, "booking_id": booking.id}
        claimed = await run(session, ignoring_conflicts(dialect_of(session), table_of(BookingCheckInCode)), row)
        if claimed.rowcount == 1:
            return code
    log.warning("no free check-in code for booking %s at store %s after %s draws", booking.id, booking.store_id, DRAWS)
    return None


async def insert_with_code(session: AsyncSession, insert_booking: sa.Insert, booking: Booking) -> bool:
    """Write the new booking (a ``new_row``; ``insert_booking``, its columns bound by name, returning its id and
    store) and give it a code: on PostgreSQL its first draw goes in the booking's own statement (a data-modifying
    CTE; the code's INSERT sees the booking's id), so a booking takes one round trip for both; a draw the store
    holds is drawn again, as by :func:`assign`. Sets ``booking.id``; False (and no code) when the INSERT wrote no
    row."""
    row = column_values(booking, exclude="id")
    if dialect_of(session) != "postgresql":
        written = (await run(session, insert_booking, row)).first()
        if written is None:
            return False
        booking.id = written[0]
        await assign(session, booking)
        return True
    written = (await run(session, _with_first_draw(insert_booking), {**row, "code": draw()})).first()
    if written is None:
        return False
    booking.id, code = written
    if code is None:
        await assign(session, booking)
    return True


@functools.cache
def _with_first_draw(insert_booking: sa.Insert) -> sa.Select:
    booking = insert_booking.cte("new_booking")
    codes = table_of(BookingCheckInCode)
    claim = (
        postgresql.insert(codes)
        .from_select(
            ["store_id", "code", "booking_id"],
            sa.select(booking.c.store_id, sa.bindparam("code", type_=sa.String()), booking.c.id),
        )
        .on_conflict_do_nothing()
        .returning(codes.c.code)
        .cte("claimed")
    )
    return sa.select(booking.c.id, sa.select(claim.c.code).scalar_subquery())


async def release(session: AsyncSession, booking_id: int) -> None:
    """The booking can no longer be checked in: its code goes back to the store."""
    statement = sa.delete(BookingCheckInCode).where(col(BookingCheckInCode.booking_id) == booking_id)
    await session.exec(statement.execution_options(synchronize_session=False))


async def booking_due(
    session: AsyncSession, store_id: int, code: str, opens_before: timedelta, closes_after: timedelta, now: datetime
) -> int | None:
    """The id of the store's booking with this code whose check-in window is open now, if there is one."""
    statement = (
        select(BookingCheckInCode.booking_id)
        .join(Booking, col(Booking.id) == BookingCheckInCode.booking_id)
        .where(
            BookingCheckInCode.store_id == store_id,
            BookingCheckInCode.code == code,
            Booking.slot_start <= now + opens_before,
            Booking.slot_end > now - closes_after,
        )
    )
    return (await session.exec(statement)).first()


async def codes_by_booking(session: AsyncSession, ids: Sequence[int]) -> dict[int, str]:
    statement = select(BookingCheckInCode.booking_id, BookingCheckInCode.code).where(
        col(BookingCheckInCode.booking_id).in_(list(ids))
    )
    return {row[0]: row[1] for row in (await session.exec(statement)).all()}


async def purge_closed(session: AsyncSession, ended_before: datetime, batch: int = PURGE_BATCH) -> int:
    """Give back the codes of bookings whose slot ended before ``ended_before`` (their check-in window
    has long closed: checked in, completed), up to ``batch`` of them."""
    doomed = (
        select(BookingCheckInCode.booking_id)
        .join(Booking, col(Booking.id) == BookingCheckInCode.booking_id)
        .where(Booking.slot_end < ended_before)
        .limit(batch)
        .scalar_subquery()
    )
    statement = sa.delete(BookingCheckInCode).where(col(BookingCheckInCode.booking_id).in_(doomed))
    result = await session.exec(statement.execution_options(synchronize_session=False))
    return result.rowcount or 0
