"""A booking's counters: the slot's seats and the customer's upcoming bookings, taken and released
in single conditional statements (correct under concurrency on both databases)."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ...prepared import run
from ..common.dialect import among_constants, increment_below, increment_first_then_second_below, lock_counter
from ..common.errors import DomainError
from ..common.rows import table_of
from .errors import BookingErrorCode as Code
from .models import (
    HOLDING_STATUSES,
    Booking,
    CustomerBookingCount,
    SlotLedger,
)

MAX_UPCOMING_PER_CUSTOMER = 3


async def take_customer_place(session: AsyncSession, person_id: int) -> None:
    key = {"person_id": person_id}
    if not await increment_below(session, CustomerBookingCount, key, "upcoming", MAX_UPCOMING_PER_CUSTOMER):
        raise _too_many()


async def take_place_and_seat(
    session: AsyncSession, person_id: int, store_id: int, slot_start: datetime, capacity: int
) -> None:
    """Her place among her upcoming bookings, then a seat in the slot (one statement on PostgreSQL); refused
    with the first that failed. Her counter row stays locked to the end of the transaction. Whoever changes
    both counters takes them in this order (her counter, then the slot's), so two never wait on each other."""
    if capacity <= 0:
        await take_customer_place(session, person_id)  # her limit answers before a slot without seats
        raise _slot_full()
    place, seat = await increment_first_then_second_below(
        session,
        (CustomerBookingCount, {"person_id": person_id}, "upcoming", MAX_UPCOMING_PER_CUSTOMER),
        (SlotLedger, {"store_id": store_id, "slot_start": slot_start}, "booked", capacity),
    )
    if not place:
        raise _too_many()
    if not seat:
        raise _slot_full()


def _too_many() -> DomainError:
    return DomainError.single(
        Code.TOO_MANY_ACTIVE_BOOKINGS, f"at most {MAX_UPCOMING_PER_CUSTOMER} upcoming bookings per customer", ()
    )


def _slot_full() -> DomainError:
    return DomainError.single(Code.SLOT_FULL, "this slot is fully booked", ("slotStart",))


async def hold_customer(session: AsyncSession, person_id: int) -> None:
    """Lock her counter row: her other booking changes wait until this transaction ends, so the
    overlap check that follows sees what they committed."""
    await session.exec(lock_counter(session, CustomerBookingCount, {"person_id": person_id}, "upcoming"))


async def refuse_overlap(
    session: AsyncSession, person_id: int, start: datetime, end: datetime, moving: int | None = None
) -> None:
    """She cannot be in two places at once: her other CONFIRMED or CHECKED_IN booking whose
    [start, end) meets this one, at any store, refuses it. Call it holding her counter row."""
    params = {"person": person_id, "start": start, "end": end, **({"moving": moving} if moving is not None else {})}
    if (await run(session, _her_booking_meeting(moving is not None), params)).first() is not None:
        raise overlapping()


def overlapping() -> DomainError:
    return DomainError.single(Code.OVERLAPPING_BOOKING, "she already has a booking at that time", ("slotStart",))


@functools.cache
def _her_booking_meeting(except_one: bool):
    """Built once (a reschedule checks it; a new booking's INSERT has the same test): one of her holding bookings
    whose [start, end) meets [:start, :end)."""
    statement = select(Booking.id).where(_meets(sa.bindparam("person"), sa.bindparam("start"), sa.bindparam("end")))
    if except_one:
        statement = statement.where(Booking.id != sa.bindparam("moving"))
    return statement.limit(1)


def _meets(person: sa.BindParameter[Any], start: sa.BindParameter[Any], end: sa.BindParameter[Any]) -> Any:
    """Her holding booking whose [start, end) meets [start, end)."""
    return sa.and_(
        col(Booking.person_id) == person,
        among_constants(col(Booking.status), HOLDING_STATUSES),
        col(Booking.slot_start) < end,
        col(Booking.slot_end) > start,
    )


@functools.cache
def insert_unless_overlapping() -> sa.Insert:
    """A new booking's INSERT (its columns bound by name, returning its id and store), which writes nothing when
    she has a holding booking that meets it (:func:`refuse_overlap`'s check in the same statement: a round trip
    less per booking). Run it holding her counter row."""
    table = table_of(Booking)
    named = {column.name: sa.bindparam(column.name, type_=column.type) for column in table.c if not column.primary_key}
    unless = ~sa.exists().where(_meets(named["person_id"], named["slot_start"], named["slot_end"]))
    values = sa.select(*(bind.label(name) for name, bind in named.items())).where(unless)
    return (
        sa.insert(table)
        .from_select(list(named), values, include_defaults=False)
        .returning(table.c.id, table.c.store_id)
    )


async def take_seat(session: AsyncSession, store_id: int, slot_start: datetime, capacity: int) -> None:
    key = {"store_id": store_id, "slot_start": slot_start}
    if capacity <= 0 or not await increment_below(session, SlotLedger, key, "booked", capacity):
        raise _slot_full()


async def release_seat(session: AsyncSession, store_id: int, slot_start: datetime) -> None:
    ledger = table_of(SlotLedger)
    await session.exec(
        sa.update(ledger)
        .where(ledger.c.store_id == store_id, ledger.c.slot_start == slot_start, ledger.c.booked > 0)
        .values(booked=ledger.c.booked - 1)
    )


async def release_customer_place(session: AsyncSession, person_id: int) -> None:
    counter = table_of(CustomerBookingCount)
    await session.exec(
        sa.update(counter)
        .where(counter.c.person_id == person_id, counter.c.upcoming > 0)
        .values(upcoming=counter.c.upcoming - 1)
    )
