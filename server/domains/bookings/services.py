"""Booking a store visit: the checks, the atomic seat and per-customer counters, and the timeline event."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from ...prepared import run, run_many
from ...unit_of_work import use_case
from ..catalog.services import products_by_ids, services_by_ids
from ..common.actor import Actor, ActorKind, Role
from ..common.dialect import insert_ignore, is_in
from ..common.errors import CommonErrorCode as Common
from ..common.errors import DomainError, Forbidden
from ..common.idempotency import create_once
from ..common.lookup import rows_by_id
from ..common.ratelimits import AbuseLimits, RateLimited
from ..common.rows import held_rows, keep, model_columns, new_row, saved_id, select_columns, table_of
from ..common.validation import Validator, not_found
from ..identity.events import EventType, RawEvent
from ..identity.hooks import on_erasure, on_merge, on_store_customers, on_store_relationship
from ..identity.models import Person
from ..identity.persons import root_person
from ..identity.services import record_person_event
from ..livestreams.models import Livestream
from ..messaging.services import withdraw
from ..schedule.models import SlotSettings
from ..schedule.services import SlotCapacity, keep_settings, settings_of, slot_at
from ..stores.models import Store
from ..stores.opening_hours import local_day, opening_interval
from ..stores.services import service_ids_by_store
from ..tasks.services import TaskPolicy
from . import codes
from .changes import BookingChangeKind, announce_change
from .errors import BookingErrorCode as Code
from .models import BOOKING_EVENT_SOURCE, Booking, BookingProduct, BookingSource, BookingStatus, CustomerBookingCount
from .reception import cancel_reception, move_reception, open_reception
from .seats import (
    hold_customer,
    insert_unless_overlapping,
    overlapping,
    refuse_overlap,
    release_customer_place,
    release_seat,
    take_place_and_seat,
    take_seat,
)

# Scopes of idempotency keys, stored with each key's record: renaming one forgets the keys given.
BOOKING_KEY_SCOPE = "bookingCreate"

MAX_NOTE = 500
MAX_PRODUCTS = 20
# Who may book for a customer: her store's staff, and HQ admins anywhere.
STAFF_BOOKERS = (Role.HQ_ADMIN, Role.STORE_MANAGER, Role.GUIDE)


@dataclass(frozen=True)
class BookingRequest:
    store_id: int
    slot_start: datetime
    livestream_id: int | None = None
    product_ids: Sequence[int] = field(default_factory=tuple)
    service_id: int | None = None
    note: str = ""
    customer_id: int | None = None  # staff booking on a customer's behalf


def _fingerprint(request: BookingRequest, person_id: int) -> dict:
    return {
        "store": request.store_id,
        "slot": request.slot_start.isoformat(),
        "livestream": request.livestream_id,
        "products": sorted(set(request.product_ids)),
        "service": request.service_id,
        "note": request.note,
        "person": person_id,
    }


async def _booker(session: AsyncSession, actor: Actor, request: BookingRequest) -> Person:
    """The person the booking is for (the caller keeps her: later steps find her in the session)."""
    if actor.kind is ActorKind.CUSTOMER:
        if request.customer_id not in (None, actor.id):
            raise Forbidden("customers book for themselves")
        person_id = actor.id
    else:
        actor.require_role(*STAFF_BOOKERS)
        actor.require_store(request.store_id)
        if request.customer_id is None:
            raise DomainError.single(
                Common.REQUIRED, "staff book on behalf of a customer: give customerId", ("customerId",)
            )
        person_id = request.customer_id
    person = await root_person(session, person_id)
    if person is None or person.erased_at is not None:
        raise not_found("customer", ("customerId",))
    return person


async def _check_references(session: AsyncSession, request: BookingRequest) -> tuple[Store, Livestream | None]:
    check = Validator()
    check.text(("note",), request.note, max_length=MAX_NOTE, min_length=0, required=False, multiline=True)
    check.count(("productIds",), request.product_ids, MAX_PRODUCTS)
    if request.slot_start.tzinfo is None:
        check.add(Common.INVALID_VALUE, "slotStart needs a time zone", ("slotStart",))
    check.raise_if_any()
    found = (await run(session, _STORE_AND_LIVESTREAM, _ids_of(request))).first()
    store, livestream, settings = held_rows(session, found, Store, Livestream, SlotSettings) if found else [None] * 3
    if store is None or not store.active:
        raise not_found("store", ("storeId",))
    store_id = saved_id(store)
    keep_settings(session, store_id, settings)
    if request.livestream_id is not None and livestream is None:
        check.add(Common.NOT_FOUND, "livestream not found", ("livestreamId",))
    if request.service_id is not None:
        service = (await services_by_ids(session, [request.service_id])).get(request.service_id)
        if service is None or not service.active:
            check.add(Common.NOT_FOUND, "service not found", ("serviceId",))
        elif request.service_id not in (await service_ids_by_store(session, [store_id])).get(store_id, []):
            check.add(Code.SERVICE_NOT_OFFERED, "this store does not offer the service", ("serviceId",))
    products = set(request.product_ids)
    if products and len(await products_by_ids(session, list(products))) != len(products):
        check.add(Common.NOT_FOUND, "a product was not found", ("productIds",))
    check.raise_if_any()
    keep(session, store, livestream)  # the booking's answer shows them
    return store, livestream


# The store, its slot settings and the livestream the booking names, in one read (the livestream None
# when none is named, the settings None when the store keeps the defaults).
_STORE_AND_LIVESTREAM = (
    select_columns(*model_columns(Store), *model_columns(Livestream), *model_columns(SlotSettings))
    .select_from(table_of(Store))
    .outerjoin(table_of(Livestream), col(Livestream.id) == sa.bindparam("livestream"))
    .outerjoin(table_of(SlotSettings), col(SlotSettings.store_id) == col(Store.id))
    .where(col(Store.id) == sa.bindparam("store"))
)


def _ids_of(request: BookingRequest) -> dict[str, int | None]:
    return {"store": request.store_id, "livestream": request.livestream_id}


async def _slot(session: AsyncSession, store: Store, slot_start: datetime, now: datetime) -> SlotCapacity:
    """The slot starting at ``slot_start``, or the reason it cannot be booked."""
    path = ("slotStart",)
    if slot_start <= now:
        raise DomainError.single(Code.SLOT_IN_PAST, "this slot has started or passed", path)
    day = local_day(slot_start, store.timezone)
    interval = opening_interval(store.opening_hours, day)
    local = slot_start.astimezone(ZoneInfo(store.timezone)).time()
    if interval is None or not interval[0] <= local < interval[1]:
        raise DomainError.single(Code.STORE_CLOSED, "the store is closed at that time", path)
    slot = await slot_at(session, store, day, slot_start)
    if slot is None:
        raise DomainError.single(Code.SLOT_NOT_ALIGNED, "slotStart is not the start of a slot", path)
    settings = await settings_of(session, saved_id(store))
    if slot_start < now + timedelta(minutes=settings.lead_minutes):
        raise DomainError.single(
            Code.SLOT_TOO_SOON, f"slots close {settings.lead_minutes} minutes before they start", path
        )
    return slot


@use_case
async def create_booking(
    session: AsyncSession,
    actor: Actor,
    request: BookingRequest,
    idempotency_key: str | None,
    now: datetime,
    limits: AbuseLimits,
    policy: TaskPolicy = TaskPolicy(),
) -> Booking:
    """Book a seat in a slot for a customer; a retry with the same key returns the same booking.

    Calls per customer are limited (RATE_LIMITED), whoever books for her, retries included.
    """
    # The session's identity map holds rows weakly: keeping the person referenced here spares the
    # later steps (timeline, dispatch) reading her again. The booking itself is written with a prebuilt
    # INSERT and is not in the session.
    person = await _booker(session, actor, request)
    try:
        await limits.take(limits.bookings_per_customer, f"customer:{person.id}")
    except RateLimited as limited:
        raise DomainError.single(
            Code.RATE_LIMITED,
            "too many bookings for this customer; try again later",
            (),
            retry_after=limited.retry_after,
        ) from None
    store, livestream = await _check_references(session, request)
    person_id, store_id = saved_id(person), saved_id(store)

    async def create() -> Booking:
        slot = await _slot(session, store, request.slot_start, now)
        await take_place_and_seat(session, person_id, store_id, slot.slot.start, slot.capacity)  # locks her counter
        source = (
            BookingSource.STAFF if actor.is_staff else BookingSource.LIVESTREAM if livestream else BookingSource.DIRECT
        )
        booking = new_row(
            Booking,
            person_id=person_id,
            store_id=store_id,
            slot_start=slot.slot.start,
            slot_end=slot.slot.end,
            status=BookingStatus.CONFIRMED.value,
            source=source.value,
            channel=livestream.channel if livestream else None,
            livestream_id=request.livestream_id,
            service_id=request.service_id,
            note=(request.note or "").strip(),
            created_by=actor.key,
            created_at=now,
            updated_at=now,
        )
        # Refused when she has another booking then: checked after the seat (in a surge at one slot most
        # attempts stop at SLOT_FULL), holding her counter row, by the INSERT itself.
        if not await codes.insert_with_code(session, insert_unless_overlapping(), booking):
            raise overlapping()
        products = [{"booking_id": booking.id, "product_id": p} for p in sorted(set(request.product_ids))]
        if products:
            await run_many(session, _INSERT_PRODUCTS, products)
        await _record_booking_event(session, booking, request, now)
        await open_reception(session, booking, store, slot, sorted(set(request.product_ids)), policy, now)
        await announce_change(session, booking, BookingChangeKind.CREATED, now)
        return booking

    return await create_once(
        session,
        actor=actor.key,
        scope=BOOKING_KEY_SCOPE,
        key=idempotency_key,
        payload=_fingerprint(request, person_id),
        create=create,
        model=Booking,
    )


# Built once, as the booking's own INSERT (seats.insert_unless_overlapping): every booking of a surge writes
# its products through it, not through the session's unit of work (the new booking is not kept in the session:
# read it again to change it).
_INSERT_PRODUCTS = sa.insert(table_of(BookingProduct))


async def _record_booking_event(
    session: AsyncSession, booking: Booking, request: BookingRequest, now: datetime
) -> None:
    """The booking on her timeline: a LIVESTREAM_BOOK_CLICK when it came from a livestream."""
    if booking.livestream_id is None:
        return
    products = sorted(set(request.product_ids))
    await record_person_event(
        session,
        booking.person_id,
        BOOKING_EVENT_SOURCE,
        RawEvent(
            event_id=f"booking:{booking.id}",
            type=EventType.LIVESTREAM_BOOK_CLICK,
            occurred_at=now,
            identifiers=[],
            livestream_id=booking.livestream_id,
            store_id=booking.store_id,
            product_id=products[0] if products else None,
            properties={"bookingId": booking.id, "slotStart": booking.slot_start.isoformat()},
        ),
        now,
        at_commit=True,
    )


@use_case
async def cancel_booking(
    session: AsyncSession, actor: Actor, booking_id: int, reason: str | None, now: datetime
) -> Booking:
    """The customer or the store cancels a CONFIRMED booking: the seat and her place are freed."""
    booking = await session.get(Booking, booking_id, with_for_update=True)
    if booking is None:
        raise not_found("booking", ("id",))
    _authorize_change(actor, booking)
    check = Validator()
    reason = check.text(("reason",), reason, max_length=200, min_length=0, required=False, multiline=True)
    check.raise_if_any()
    if booking.status != BookingStatus.CONFIRMED.value:
        raise DomainError.single(Code.INVALID_STATE, f"a {booking.status} booking cannot be cancelled", ("id",))
    booking.status = BookingStatus.CANCELLED.value
    booking.cancelled_at, booking.cancelled_by, booking.cancel_reason = now, actor.key, reason or None
    booking.updated_at = now
    await release_customer_place(session, booking.person_id)  # her counter, then the slot's: as a booking does
    await release_seat(session, booking.store_id, booking.slot_start)
    await codes.release(session, saved_id(booking))
    await withdraw(session, reminder_key(booking))
    await cancel_reception(session, booking, actor.key, now)
    await announce_change(session, booking, BookingChangeKind.CANCELLED, now)
    return booking


def reminder_key(booking: Booking) -> str:
    """Her reminder of this booking's current slot: one message per booking and slot."""
    return f"booking:{booking.id}:remind:{booking.slot_start.isoformat()}"


async def bookings_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Booking]:
    return await rows_by_id(session, Booking, ids)


def completed_visits(since: datetime, excluding: SelectOfScalar[int] | None = None) -> SelectOfScalar[Booking]:
    """Bookings COMPLETED from ``since`` on, oldest first, but for the booking ids ``excluding`` selects
    (a later domain's follow-up already done): a SELECT for the caller to limit and claim."""
    statement = select(Booking).where(
        col(Booking.status) == BookingStatus.COMPLETED.value, col(Booking.completed_at) >= since
    )
    if excluding is not None:
        statement = statement.where(col(Booking.id).not_in(excluding))
    return statement.order_by(col(Booking.completed_at), col(Booking.id))


async def product_ids_by_booking(session: AsyncSession, ids: Sequence[int]) -> dict[int, list[int]]:
    rows = await session.exec(
        select(BookingProduct)
        .where(col(BookingProduct.booking_id).in_(list(ids)))
        .order_by(col(BookingProduct.product_id))
    )
    result: dict[int, list[int]] = {i: [] for i in ids}
    for row in rows:
        result[row.booking_id].append(row.product_id)
    return result


@on_store_relationship("bookings")
async def has_booking_at(session: AsyncSession, person_id: int, store_id: int) -> bool:
    """Any booking of hers at the store, whatever its state: the store has received or expects her."""
    statement = select(Booking.id).where(Booking.person_id == person_id, Booking.store_id == store_id).limit(1)
    return (await session.exec(statement)).first() is not None


@on_store_customers("bookings")
def customers_with_bookings_at(store_id: int) -> SelectOfScalar[int]:
    """Everyone with a booking at the store, whatever its state (as has_booking_at decides one by one)."""
    return select(Booking.person_id).where(Booking.store_id == store_id)


@on_merge("bookings")
async def follow_merges(session: AsyncSession, root_of: dict[int, int]) -> None:
    """OneID merged persons (merged id -> survivor): their bookings and upcoming counts go with them.

    The count may then exceed the limit; that only stops her booking more until some pass.
    """
    merged = sorted(root_of)
    if not await _any_booking_by(session, merged):
        return
    bookings, counter = table_of(Booking), table_of(CustomerBookingCount)
    for old, new in root_of.items():
        await session.exec(sa.update(bookings).where(bookings.c.person_id == old).values(person_id=new))
        moved = await session.get(CustomerBookingCount, old)
        if moved is None or not moved.upcoming:
            continue
        await session.exec(insert_ignore(session, CustomerBookingCount, {"person_id": new, "upcoming": 0}))
        await session.exec(
            sa.update(counter).where(counter.c.person_id == new).values(upcoming=counter.c.upcoming + moved.upcoming)
        )
        moved.upcoming = 0


@on_erasure("bookings")
async def forget_free_text(session: AsyncSession, person_ids: Collection[int], now: datetime) -> None:
    """An erased customer's bookings keep their facts (store, slot, state), not what was written about
    them: her note and the reason given when one was cancelled."""
    table = table_of(Booking)
    await session.exec(
        sa.update(table).where(is_in(session, table.c.person_id, person_ids)).values(note="", cancel_reason=None)
    )


async def _any_booking_by(session: AsyncSession, person_ids: Sequence[int]) -> bool:
    statement = select(Booking.id).where(is_in(session, Booking.person_id, person_ids)).limit(1)
    return (await session.exec(statement)).first() is not None


@use_case
async def reschedule_booking(
    session: AsyncSession, actor: Actor, booking_id: int, slot_start: datetime, policy: TaskPolicy, now: datetime
) -> Booking:
    """Move a CONFIRMED booking to another slot of its store, atomically: the old seat is given back
    only if the new one is taken (one transaction; seats are locked in slot order, so two customers
    swapping slots cannot deadlock). Her task follows; its guide changes only if not on shift then."""
    booking = await session.get(Booking, booking_id, with_for_update=True)
    if booking is None:
        raise not_found("booking", ("id",))
    _authorize_change(actor, booking)
    if booking.status != BookingStatus.CONFIRMED.value:
        raise DomainError.single(Code.INVALID_STATE, f"a {booking.status} booking cannot be moved", ("id",))
    if slot_start.tzinfo is None:
        raise DomainError.single(Common.INVALID_VALUE, "slotStart needs a time zone", ("slotStart",))
    if slot_start == booking.slot_start:
        return booking
    store = await session.get(Store, booking.store_id)
    assert store is not None, "a booking's store_id is a foreign key"
    slot = await _slot(session, store, slot_start, now)
    await hold_customer(session, booking.person_id)
    await refuse_overlap(session, booking.person_id, slot.slot.start, slot.slot.end, moving=booking.id)
    old_start = booking.slot_start
    for start in sorted([old_start, slot.slot.start]):
        if start == old_start:
            await release_seat(session, booking.store_id, old_start)
        else:
            await take_seat(session, booking.store_id, start, slot.capacity)
    await withdraw(session, reminder_key(booking))  # a reminder of the old time must not go out now
    booking.slot_start, booking.slot_end, booking.updated_at = slot.slot.start, slot.slot.end, now
    booking.customer_reminded_at = None  # she is reminded of the new time
    await move_reception(session, booking, store, slot, policy, now, actor.key)
    await announce_change(session, booking, BookingChangeKind.RESCHEDULED, now)
    return booking


def _authorize_change(actor: Actor, booking: Booking) -> None:
    if actor.kind is ActorKind.CUSTOMER:
        if booking.person_id != actor.id:
            raise Forbidden("not your booking")
        return
    actor.require_role(Role.HQ_ADMIN, Role.STORE_MANAGER, Role.GUIDE)
    actor.require_store(booking.store_id)
