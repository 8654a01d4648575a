"""A booked customer's reception, in one place: the booking's state and its RECEPTION task's change
together.

Booked (CONFIRMED; the task is opened and dispatched) → checked in (CHECKED_IN; the
task starts) → completed (COMPLETED; the task is DONE), or cancelled, moved to
another slot, or a no-show (the task is cancelled or dispatched again). The tasks
domain keeps the task's own rules (who may act on it, its SOP steps); this module
decides when a booking's task changes, and the booking with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ...unit_of_work import use_case
from ..auth.tokens import TokenPolicy
from ..catalog.services import products_by_ids
from ..common.actor import Actor, Role
from ..common.errors import CommonErrorCode as Common
from ..common.errors import DomainError
from ..common.ratelimits import AbuseLimits, RateLimited
from ..common.rows import row_by_key, saved_id, table_of
from ..common.validation import not_found
from ..identity.events import EventType, RawEvent
from ..identity.models import Person
from ..identity.services import record_person_event
from ..schedule.services import (
    SlotCapacity,
    settings_of,
    slot_at,
)
from ..stores.models import Store
from ..stores.opening_hours import local_day
from ..tasks import services as tasks
from ..tasks.dispatch import Need
from ..tasks.errors import TaskErrorCode
from ..tasks.models import Task
from . import codes, qr
from .changes import BookingChangeKind, announce_change
from .errors import BookingErrorCode as Code
from .models import (
    BOOKING_EVENT_SOURCE,
    HOLDING_STATUSES,
    Booking,
    BookingProduct,
    BookingStatus,
)
from .seats import release_customer_place


async def open_reception(
    session: AsyncSession,
    booking: Booking,
    store: Store,
    slot: SlotCapacity,
    product_ids: Sequence[int],
    policy: tasks.TaskPolicy,
    now: datetime,
) -> Task:
    """A new booking's RECEPTION task, dispatched to a guide (or the store's queue)."""
    reception = tasks.Reception(
        booking_id=saved_id(booking),
        person_id=booking.person_id,
        store_id=saved_id(store),
        slot_start=booking.slot_start,
        from_livestream=booking.livestream_id is not None,
        need=await need_of(session, booking, store, slot, product_ids),
    )
    return await tasks.create_reception(session, reception, policy, now)


async def move_reception(
    session: AsyncSession,
    booking: Booking,
    store: Store,
    slot: SlotCapacity,
    policy: tasks.TaskPolicy,
    now: datetime,
    actor_key: str,
) -> None:
    """The booking moved to ``slot``: its task is due then, dispatched again if its guide cannot take it."""
    statement = select(BookingProduct.product_id).where(BookingProduct.booking_id == booking.id)
    products = list((await session.exec(statement)).all())
    need = await need_of(session, booking, store, slot, products)
    await tasks.move_reception(session, saved_id(booking), need, policy, now, actor_key)


async def cancel_reception(session: AsyncSession, booking: Booking, actor_key: str, now: datetime) -> None:
    """The booking was cancelled: so is its task."""
    await tasks.cancel_for_booking(session, saved_id(booking), actor_key, now)


async def close_for_no_show(session: AsyncSession, booking: Booking, now: datetime) -> None:
    """She did not come: her task is cancelled (the booking is marked NO_SHOW by the caller)."""
    await tasks.cancel_for_no_show(session, saved_id(booking), now)


async def need_of(
    session: AsyncSession, booking: Booking, store: Store, slot: SlotCapacity, product_ids: Sequence[int]
) -> Need:
    """What dispatch needs to choose a guide for this booking's reception."""
    person = await row_by_key(session, Person, booking.person_id)
    products = await products_by_ids(session, product_ids)
    zone = ZoneInfo(store.timezone)
    store_id = saved_id(store)
    return Need(
        store_id=store_id,
        slot_start=booking.slot_start,
        day_start=datetime.combine(slot.slot.day, time.min, zone).astimezone(UTC),
        day_end=datetime.combine(slot.slot.day + timedelta(days=1), time.min, zone).astimezone(UTC),
        candidates=slot.guide_ids,
        guide_capacity=(await settings_of(session, store_id)).guide_capacity,
        relationship_guide_id=person.relationship_guide_id if person else None,
        category_ids=frozenset(p.category_id for p in products.values() if p.category_id),
        service_id=booking.service_id,
    )


async def slot_of(session: AsyncSession, store: Store, booking: Booking) -> SlotCapacity | None:
    """The booking's slot as the shifts are now (None when the grid changed under it)."""
    day = local_day(booking.slot_start, store.timezone)
    return await slot_at(session, store, day, booking.slot_start)


@dataclass(frozen=True)
class CheckInWindow:
    """When she can be checked in: from ``opens_before`` the slot starts until the no-show time,
    ``closes_after`` the slot ends (then the no-show job marks her)."""

    opens_before: timedelta = timedelta(minutes=60)
    closes_after: timedelta = timedelta(minutes=30)

    @classmethod
    def from_settings(cls, settings) -> CheckInWindow:
        return cls(
            opens_before=timedelta(minutes=settings.check_in_opens_minutes),
            closes_after=timedelta(minutes=settings.no_show_minutes),
        )


@use_case
async def check_in(
    session: AsyncSession,
    actor: Actor,
    *,
    target: CheckInTarget,
    tokens: TokenPolicy,
    limits: AbuseLimits,
    window: CheckInWindow,
    now: datetime,
) -> Booking:
    """Store staff check her in: by scanning her QR code, by the 6-digit code she shows, or from
    the booking itself (her task).

    Single use and on time: only a CONFIRMED booking whose check-in window is open
    moves to CHECKED_IN, in one conditional UPDATE, so a second scan (or two guides
    at once, or a reschedule meanwhile) is refused. Her visit goes on her timeline
    and her reception task starts. A code is looked up only among the bookings of one
    store whose window is open; codes that match none are counted against the caller
    and her store (RATE_LIMITED once too many), and nothing is written.
    """
    actor.require_role(Role.HQ_ADMIN, Role.STORE_MANAGER, Role.GUIDE)
    target.validate()
    nonce = None
    booking_id: int | None
    if target.check_in_code is not None:
        booking_id = await _booking_of_code(session, actor, target, limits, window, now)
    elif target.qr_token is not None:
        booking_id, nonce = _decoded(target.qr_token, tokens, now)
    else:
        booking_id = target.booking_id
    booking = await session.get(Booking, booking_id)
    if booking is None or (nonce is not None and nonce != booking.qr_nonce):
        raise (_bad_qr("this QR code does not belong to a booking") if nonce else not_found("booking", ("bookingId",)))
    actor.require_store(booking.store_id)
    table = table_of(Booking)
    moved = await session.exec(
        sa.update(table)
        .where(
            table.c.id == booking.id,
            table.c.status == BookingStatus.CONFIRMED.value,
            table.c.slot_start <= now + window.opens_before,
            table.c.slot_end > now - window.closes_after,
        )
        .values(status=BookingStatus.CHECKED_IN.value, checked_in_at=now, updated_at=now)
    )
    if moved.rowcount != 1:
        await session.refresh(booking)
        raise _check_in_refusal(booking, window, now)
    await session.refresh(booking)
    await release_customer_place(session, booking.person_id)
    await record_person_event(
        session,
        booking.person_id,
        BOOKING_EVENT_SOURCE,
        RawEvent(
            event_id=f"booking:{booking.id}:visit",
            type=EventType.STORE_VISIT,
            occurred_at=now,
            identifiers=[],
            livestream_id=booking.livestream_id,
            store_id=booking.store_id,
            properties={"bookingId": booking.id},
        ),
        now,
    )
    await tasks.start_for_booking(session, saved_id(booking), actor, now)
    await announce_change(session, booking, BookingChangeKind.CHECKED_IN, now)
    return booking


@use_case
async def complete_reception(session: AsyncSession, actor: Actor, task_id: int, now: datetime) -> Task:
    """The guide finishes her reception: the task is DONE and her booking COMPLETED, together.

    A booked customer must have been checked in first (the reception may have
    been started by hand, with taskStart): otherwise her booking would stay
    CONFIRMED and later count as a no-show although she came.
    """
    task = await tasks.complete(session, actor, task_id, now)
    if task.booking_id is not None:
        table = table_of(Booking)
        moved = await session.exec(
            sa.update(table)
            .where(table.c.id == task.booking_id, table.c.status == BookingStatus.CHECKED_IN.value)
            .values(status=BookingStatus.COMPLETED.value, completed_at=now, updated_at=now)
        )
        if moved.rowcount != 1:
            raise DomainError.single(
                TaskErrorCode.NOT_CHECKED_IN, "check the customer in before completing her reception", ("id",)
            )
        booking = await session.get(Booking, task.booking_id, populate_existing=True)  # as the UPDATE left it
        assert booking is not None, "the UPDATE above found it"
        await announce_change(session, booking, BookingChangeKind.COMPLETED, now)
    return task


async def complete_by_purchase(session: AsyncSession, booking_id: int, actor_key: str, now: datetime) -> None:
    """Her order was paid: a booking she is checked in for (or came to without a check-in) is COMPLETED,
    and its reception task DONE, in the caller's transaction. Other bookings stay as they are."""
    booking = await session.get(Booking, booking_id, with_for_update=True)
    if booking is None or booking.status not in HOLDING_STATUSES:
        return
    if booking.status == BookingStatus.CONFIRMED.value:  # she came: the check-in was skipped
        booking.checked_in_at = now
        await release_customer_place(session, booking.person_id)
        await codes.release(session, saved_id(booking))
    booking.status, booking.completed_at, booking.updated_at = BookingStatus.COMPLETED.value, now, now
    await tasks.complete_for_booking(session, saved_id(booking), actor_key, now)
    await announce_change(session, booking, BookingChangeKind.COMPLETED, now)


def _check_in_refusal(booking: Booking, window: CheckInWindow, now: datetime) -> DomainError:
    if booking.status == BookingStatus.CHECKED_IN.value:
        return DomainError.single(Code.ALREADY_CHECKED_IN, "the booking is CHECKED_IN", ())
    if booking.status != BookingStatus.CONFIRMED.value:
        return DomainError.single(Code.INVALID_STATE, f"the booking is {booking.status}", ())
    opens = booking.slot_start - window.opens_before
    if now < opens:
        return DomainError.single(
            Code.CHECK_IN_TOO_EARLY,
            f"check-in opens at {_iso(opens)}, {_minutes(window.opens_before)} minutes before the slot",
            (),
        )
    closed = booking.slot_end + window.closes_after
    return DomainError.single(
        Code.CHECK_IN_TOO_LATE,
        f"check-in closed at {_iso(closed)}, {_minutes(window.closes_after)} minutes after the slot ended",
        (),
    )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _minutes(span: timedelta) -> int:
    return int(span.total_seconds() // 60)


@dataclass(frozen=True)
class CheckInTarget:
    """Whom to check in: exactly one of her QR token, the booking, or her check-in code (with the
    store it is looked up in: the caller's own, which HQ staff, having none, must name)."""

    booking_id: int | None = None
    qr_token: str | None = None
    check_in_code: str | None = None
    store_id: int | None = None

    def validate(self) -> None:
        given = [v for v in (self.qr_token, self.booking_id, self.check_in_code) if v is not None]
        if len(given) != 1:
            raise DomainError.single(Common.INVALID_VALUE, "give exactly one of qrToken, bookingId and checkInCode", ())
        if self.store_id is not None and self.check_in_code is None:
            raise DomainError.single(
                Common.INVALID_VALUE,
                "storeId names where a checkInCode is looked up: give it only with one",
                ("storeId",),
            )


async def _booking_of_code(
    session: AsyncSession,
    actor: Actor,
    target: CheckInTarget,
    limits: AbuseLimits,
    window: CheckInWindow,
    now: datetime,
) -> int:
    """The booking whose code was typed: one of the store's bookings due for check-in now.

    Six digits can be guessed: codes that match nothing are counted per staff member and per store,
    and once either count is full every code is refused (RATE_LIMITED) until the window moves on.
    A full count is checked before the lookup and a miss counted after it, so requests already in
    flight when the count fills may each still look once.
    """
    assert target.check_in_code is not None
    code = codes.normalized(target.check_in_code)
    if code is None:
        raise DomainError.single(Code.INVALID_CHECK_IN_CODE, "a check-in code is 6 digits", ("checkInCode",))
    store_id = target.store_id if target.store_id is not None else actor.store_id
    if store_id is None:
        raise DomainError.single(
            Common.REQUIRED, "staff of no store (HQ) name the store a checkInCode is looked up in", ("storeId",)
        )
    actor.require_store(store_id)
    if target.store_id is not None and await session.get(Store, store_id) is None:
        raise not_found("store", ("storeId",))
    counts = (
        (limits.wrong_check_in_codes_per_staff, actor.key),
        (limits.wrong_check_in_codes_per_store, f"store:{store_id}"),
    )
    try:
        for rate, key in counts:
            await limits.check(rate, key)
    except RateLimited as limited:
        raise DomainError.single(
            Code.RATE_LIMITED,
            "too many check-in codes that matched no booking; try again later, or scan her QR code",
            ("checkInCode",),
            retry_after=limited.retry_after,
        ) from None
    booking_id = await codes.booking_due(session, store_id, code, window.opens_before, window.closes_after, now)
    if booking_id is None:
        for rate, key in counts:
            await limits.count(rate, key)
        raise DomainError.single(
            Code.INVALID_CHECK_IN_CODE,
            "no booking due for check-in at this store has this code (check the digits and her booking's time)",
            ("checkInCode",),
        )
    return booking_id


def _decoded(qr_token: str, tokens: TokenPolicy, now: datetime) -> tuple[int, str]:
    try:
        return qr.decode(tokens, qr_token, now)
    except qr.InvalidQrToken as invalid:
        raise _bad_qr(str(invalid)) from None


def _bad_qr(message: str) -> DomainError:
    return DomainError.single(Code.INVALID_QR_TOKEN, message, ("qrToken",))


def qr_token_of(booking: Booking, tokens: TokenPolicy) -> str:
    return qr.encode(tokens, saved_id(booking), booking.qr_nonce, booking.slot_end)
