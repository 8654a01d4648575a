"""Booking a store visit: the checks, the atomic seat and per-customer counters, and the timeline event."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ...outbox import emit
from ..auth.tokens import TokenPolicy
from ..catalog.services import products_by_ids, services_by_ids
from ..common.actor import Actor, ActorKind, Role
from ..common.dialect import increment_below, insert_ignore, is_in, lock_counter
from ..common.errors import DomainError, Forbidden
from ..common.idempotency import create_once
from ..common.lookup import rows_by_id
from ..common.ratelimits import AbuseLimits, RateLimited
from ..common.validation import Validator, not_found
from ..identity.events import EventType, RawEvent
from ..identity.hooks import on_erasure, on_merge, on_store_relationship
from ..identity.models import Person
from ..identity.services import record_person_event, root_person
from ..livestreams.models import Livestream
from ..messaging.services import withdraw
from ..schedule.services import (
    MAX_DAYS_ASKED,
    SlotCapacity,
    days_between,
    settings_by_store,
    settings_of,
    slot_capacities,
    slot_capacities_by_store,
)
from ..stores.models import Store
from ..stores.opening_hours import local_day, opening_interval
from ..stores.services import service_ids_by_store
from ..tasks.dispatch import Need
from ..tasks.errors import TaskErrorCode
from ..tasks.models import Task
from ..tasks.services import (
    Reception,
    TaskPolicy,
    cancel_for_booking,
    complete,
    create_reception,
    move_reception,
    start_for_booking,
)
from . import qr
from .errors import BookingErrorCode as Code
from .models import Booking, BookingProduct, CustomerBookingCount, SlotLedger
from .topics import ALL_BOOKINGS_TOPIC, livestream_bookings_topic

MAX_UPCOMING_PER_CUSTOMER = 3
MAX_NOTE = 500
MAX_PRODUCTS = 20
BOOKING_EVENT_SOURCE = "bookings"
# Who may book for a customer: her store's staff, and HQ admins anywhere.
STAFF_BOOKERS = (Role.HQ_ADMIN, Role.STORE_MANAGER, Role.GUIDE)


class BookingStatus(StrEnum):
    CONFIRMED = "CONFIRMED"
    CHECKED_IN = "CHECKED_IN"
    COMPLETED = "COMPLETED"
    NO_SHOW = "NO_SHOW"
    CANCELLED = "CANCELLED"


# Bookings that hold her at a store at their time: no other may overlap them.
HOLDING_STATUSES = (BookingStatus.CONFIRMED.value, BookingStatus.CHECKED_IN.value)


class BookingSource(StrEnum):
    LIVESTREAM = "LIVESTREAM"  # booked from a livestream
    DIRECT = "DIRECT"  # by the customer, outside a livestream
    STAFF = "STAFF"  # by staff on the customer's behalf


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
                Code.REQUIRED, "staff book on behalf of a customer: give customerId", ("input", "customerId")
            )
        person_id = request.customer_id
    person = await root_person(session, person_id)
    if person is None or person.erased_at is not None:
        raise not_found(Code, "customer", ("input", "customerId"))
    return person


async def _check_references(session: AsyncSession, request: BookingRequest) -> tuple[Store, Livestream | None]:
    check = Validator(Code)
    check.text(("input", "note"), request.note, max_length=MAX_NOTE, min_length=0, required=False, multiline=True)
    check.count(("input", "productIds"), request.product_ids, MAX_PRODUCTS)
    if request.slot_start.tzinfo is None:
        check.add("INVALID_VALUE", "slotStart needs a time zone", ("input", "slotStart"))
    check.raise_if_any()
    store = await session.get(Store, request.store_id)
    if store is None or not store.active:
        raise not_found(Code, "store", ("input", "storeId"))
    livestream = None
    if request.livestream_id is not None:
        livestream = await session.get(Livestream, request.livestream_id)
        if livestream is None:
            check.add("NOT_FOUND", "livestream not found", ("input", "livestreamId"))
    if request.service_id is not None:
        service = (await services_by_ids(session, [request.service_id])).get(request.service_id)
        if service is None or not service.active:
            check.add("NOT_FOUND", "service not found", ("input", "serviceId"))
        elif request.service_id not in (await service_ids_by_store(session, [store.id])).get(store.id, []):
            check.add("SERVICE_NOT_OFFERED", "this store does not offer the service", ("input", "serviceId"))
    products = set(request.product_ids)
    if products and len(await products_by_ids(session, list(products))) != len(products):
        check.add("NOT_FOUND", "a product was not found", ("input", "productIds"))
    check.raise_if_any()
    return store, livestream


async def _slot(session: AsyncSession, store: Store, slot_start: datetime, now: datetime) -> SlotCapacity:
    """The slot starting at ``slot_start``, or the reason it cannot be booked."""
    path = ("input", "slotStart")
    if slot_start <= now:
        raise DomainError.single(Code.SLOT_IN_PAST, "this slot has started or passed", path)
    day = local_day(slot_start, store.timezone)
    interval = opening_interval(store.opening_hours, day)
    local = slot_start.astimezone(ZoneInfo(store.timezone)).time()
    if interval is None or not interval[0] <= local < interval[1]:
        raise DomainError.single(Code.STORE_CLOSED, "the store is closed at that time", path)
    slot = next((s for s in await slot_capacities(session, store, [day]) if s.slot.start == slot_start), None)
    if slot is None:
        raise DomainError.single(Code.SLOT_NOT_ALIGNED, "slotStart is not the start of a slot", path)
    settings = await settings_of(session, store.id)
    if slot_start < now + timedelta(minutes=settings.lead_minutes):
        raise DomainError.single(
            Code.SLOT_TOO_SOON, f"slots close {settings.lead_minutes} minutes before they start", path
        )
    return slot


async def _take_customer_place(session: AsyncSession, person_id: int) -> None:
    taken = await session.exec(
        increment_below(session, CustomerBookingCount, {"person_id": person_id}, "upcoming", MAX_UPCOMING_PER_CUSTOMER)
    )
    if taken.rowcount != 1:
        raise DomainError.single(
            Code.TOO_MANY_ACTIVE_BOOKINGS,
            f"at most {MAX_UPCOMING_PER_CUSTOMER} upcoming bookings per customer",
            ("input",),
        )


async def _hold_customer(session: AsyncSession, person_id: int) -> None:
    """Lock her counter row: her other booking changes wait until this transaction ends, so the
    overlap check that follows sees what they committed."""
    await session.exec(lock_counter(session, CustomerBookingCount, {"person_id": person_id}, "upcoming"))


async def _refuse_overlap(
    session: AsyncSession, person_id: int, start: datetime, end: datetime, moving: int | None = None
) -> None:
    """She cannot be in two places at once: her other CONFIRMED or CHECKED_IN booking whose
    [start, end) meets this one, at any store, refuses it. Call it holding her counter row."""
    statement = select(Booking.id).where(
        Booking.person_id == person_id,
        col(Booking.status).in_(HOLDING_STATUSES),
        Booking.slot_start < end,
        Booking.slot_end > start,
    )
    if moving is not None:
        statement = statement.where(Booking.id != moving)
    if (await session.exec(statement.limit(1))).first() is not None:
        raise DomainError.single(
            Code.OVERLAPPING_BOOKING, "she already has a booking at that time", ("input", "slotStart")
        )


async def _take_seat(session: AsyncSession, store_id: int, slot_start: datetime, capacity: int) -> None:
    taken = (
        capacity > 0
        and (
            await session.exec(
                increment_below(
                    session, SlotLedger, {"store_id": store_id, "slot_start": slot_start}, "booked", capacity
                )
            )
        ).rowcount
        == 1
    )
    if not taken:
        raise DomainError.single(Code.SLOT_FULL, "this slot is fully booked", ("input", "slotStart"))


async def release_seat(session: AsyncSession, store_id: int, slot_start: datetime) -> None:
    ledger = SlotLedger.__table__
    await session.exec(
        sa.update(ledger)
        .where(ledger.c.store_id == store_id, ledger.c.slot_start == slot_start, ledger.c.booked > 0)
        .values(booked=ledger.c.booked - 1)
    )


async def release_customer_place(session: AsyncSession, person_id: int) -> None:
    counter = CustomerBookingCount.__table__
    await session.exec(
        sa.update(counter)
        .where(counter.c.person_id == person_id, counter.c.upcoming > 0)
        .values(upcoming=counter.c.upcoming - 1)
    )


async def create_booking(
    session: AsyncSession,
    actor: Actor,
    request: BookingRequest,
    idempotency_key: str | None,
    now: datetime,
    limits: AbuseLimits,
    policy: TaskPolicy = TaskPolicy(),
) -> Booking:
    """Book a seat in a slot for a customer. Commits; a retry with the same key returns the same booking.

    Calls per customer are limited (RATE_LIMITED), whoever books for her, retries included.
    """
    # The session's identity map holds rows weakly: keeping the person and the booking referenced
    # here spares the later steps (timeline, dispatch, the answer) reading them again.
    person = await _booker(session, actor, request)
    try:
        await limits.take(limits.bookings_per_customer, f"customer:{person.id}")
    except RateLimited as limited:
        raise DomainError.single(
            Code.RATE_LIMITED,
            "too many bookings for this customer; try again later",
            ("input",),
            retry_after=limited.retry_after,
        ) from None
    store, livestream = await _check_references(session, request)
    created: list[Booking] = []

    async def create() -> int:
        slot = await _slot(session, store, request.slot_start, now)
        await _take_customer_place(session, person.id)  # locks her counter row
        await _take_seat(session, store.id, slot.slot.start, slot.capacity)
        # After the seat: in a surge at one slot most attempts stop at SLOT_FULL without this read.
        await _refuse_overlap(session, person.id, slot.slot.start, slot.slot.end)
        source = (
            BookingSource.STAFF if actor.is_staff else BookingSource.LIVESTREAM if livestream else BookingSource.DIRECT
        )
        booking = Booking(
            person_id=person.id,
            store_id=store.id,
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
        session.add(booking)
        await session.flush()
        created.append(booking)
        session.add_all([BookingProduct(booking_id=booking.id, product_id=p) for p in sorted(set(request.product_ids))])
        await _record_booking_event(session, booking, request, now)
        await create_reception(session, await _reception(session, booking, store, slot, request), policy, now)
        _announce_booking(session, booking, store, now)
        return booking.id

    booking_id = await create_once(
        session,
        actor=actor.key,
        operation="bookingCreate",
        key=idempotency_key,
        payload=_fingerprint(request, person.id),
        codes=Code,
        create=create,
    )
    return created[0] if created and created[0].id == booking_id else await session.get(Booking, booking_id)


async def _reception(
    session: AsyncSession, booking: Booking, store: Store, slot: SlotCapacity, request: BookingRequest
) -> Reception:
    need = await need_of(session, booking, store, slot, sorted(set(request.product_ids)))
    return Reception(
        booking_id=booking.id,
        person_id=booking.person_id,
        store_id=store.id,
        slot_start=booking.slot_start,
        from_livestream=booking.livestream_id is not None,
        need=need,
    )


async def need_of(
    session: AsyncSession, booking: Booking, store: Store, slot: SlotCapacity, product_ids: Sequence[int]
) -> Need:
    """What dispatch needs to choose a guide for this booking's reception."""
    person = await session.get(Person, booking.person_id)
    products = await products_by_ids(session, product_ids)
    zone = ZoneInfo(store.timezone)
    return Need(
        store_id=store.id,
        slot_start=booking.slot_start,
        day_start=datetime.combine(slot.slot.day, time.min, zone).astimezone(UTC),
        day_end=datetime.combine(slot.slot.day + timedelta(days=1), time.min, zone).astimezone(UTC),
        candidates=slot.guide_ids,
        guide_capacity=(await settings_of(session, store.id)).guide_capacity,
        relationship_guide_id=person.relationship_guide_id if person else None,
        category_ids=frozenset(p.category_id for p in products.values() if p.category_id),
        service_id=booking.service_id,
    )


async def slot_of(session: AsyncSession, store: Store, booking: Booking) -> SlotCapacity | None:
    """The booking's slot as the shifts are now (None when the grid changed under it)."""
    day = local_day(booking.slot_start, store.timezone)
    return next((s for s in await slot_capacities(session, store, [day]) if s.slot.start == booking.slot_start), None)


def _announce_booking(session: AsyncSession, booking: Booking, store: Store, now: datetime) -> None:
    """For bookingFeed: every new booking, with its store and city."""
    message = {
        "bookingId": booking.id,
        "storeId": store.id,
        "storeName": store.name,
        "city": store.city,
        "slotStart": booking.slot_start.isoformat(),
        "livestreamId": booking.livestream_id,
        "source": booking.source,
    }
    emit(session, ALL_BOOKINGS_TOPIC, "BOOKED", message, now)
    if booking.livestream_id is not None:
        emit(session, livestream_bookings_topic(booking.livestream_id), "BOOKED", message, now)


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
    )


async def cancel_booking(
    session: AsyncSession, actor: Actor, booking_id: int, reason: str | None, now: datetime
) -> Booking:
    """The customer or the store cancels a CONFIRMED booking: the seat and her place are freed."""
    booking = await session.get(Booking, booking_id, with_for_update=True)
    if booking is None:
        raise not_found(Code, "booking", ("input", "id"))
    _authorize_change(actor, booking)
    check = Validator(Code)
    reason = check.text(("input", "reason"), reason, max_length=200, min_length=0, required=False, multiline=True)
    check.raise_if_any()
    if booking.status != BookingStatus.CONFIRMED.value:
        raise DomainError.single(Code.INVALID_STATE, f"a {booking.status} booking cannot be cancelled", ("input", "id"))
    booking.status = BookingStatus.CANCELLED.value
    booking.cancelled_at, booking.cancelled_by, booking.cancel_reason = now, actor.key, reason or None
    booking.updated_at = now
    await release_seat(session, booking.store_id, booking.slot_start)
    await release_customer_place(session, booking.person_id)
    await withdraw(session, reminder_key(booking))
    await cancel_for_booking(session, booking.id, actor.key, now)
    await session.commit()
    return booking


def reminder_key(booking: Booking) -> str:
    """Her reminder of this booking's current slot: one message per booking and slot."""
    return f"booking:{booking.id}:remind:{booking.slot_start.isoformat()}"


async def bookings_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Booking]:
    return await rows_by_id(session, Booking, ids)


async def product_ids_by_booking(session: AsyncSession, ids: Sequence[int]) -> dict[int, list[int]]:
    rows = await session.exec(
        select(BookingProduct).where(col(BookingProduct.booking_id).in_(list(ids))).order_by(BookingProduct.product_id)
    )
    result: dict[int, list[int]] = {i: [] for i in ids}
    for row in rows:
        result[row.booking_id].append(row.product_id)
    return result


async def seats_taken_by_store(
    session: AsyncSession, starts_by_store: Mapping[int, Collection[datetime]]
) -> dict[tuple[int, datetime], int]:
    """(store, slot start) -> seats taken, for the slots asked that have any: one statement."""
    wanted = {(store_id, start) for store_id, starts in starts_by_store.items() for start in starts}
    if not wanted:
        return {}
    starts = [start for _, start in wanted]
    rows = await session.exec(
        select(SlotLedger.store_id, SlotLedger.slot_start, SlotLedger.booked).where(
            is_in(session, SlotLedger.store_id, sorted(starts_by_store)),
            col(SlotLedger.slot_start) >= min(starts),
            col(SlotLedger.slot_start) <= max(starts),
        )
    )
    return {(store_id, start): booked for store_id, start, booked in rows if (store_id, start) in wanted}


@dataclass(frozen=True)
class OpenSlot:
    slot: SlotCapacity
    remaining: int


@dataclass(frozen=True)
class SlotsAsked:
    """Slots of a store on some of its local days, as bookable at ``now``."""

    store: Store
    days: Sequence[date]
    now: datetime


async def available_slots(
    session: AsyncSession, store_id: int, first_day, last_day, service_id: int | None, now: datetime
) -> list[OpenSlot]:
    """Bookable slots of the store between two local dates: not past, not within the lead time."""
    check = Validator(Code)
    if last_day < first_day:
        check.add("INVALID_VALUE", "to is before from", ("to",))
    elif (last_day - first_day).days >= MAX_DAYS_ASKED:
        check.add("OUT_OF_RANGE", f"ask for at most {MAX_DAYS_ASKED} days at a time", ("to",))
    check.raise_if_any()
    store = await session.get(Store, store_id)
    asks_service = service_id is not None and store is not None and store.active
    offered = await service_ids_by_store(session, [store_id]) if asks_service else {}
    refusal = _slots_refusal(store, service_id, offered)
    if refusal:
        raise refusal
    [slots] = await open_slots(session, [SlotsAsked(store, days_between(first_day, last_day), now)])
    return slots


def _slots_refusal(store: Store | None, service_id: int | None, offered: Mapping[int, list[int]]) -> DomainError | None:
    """Why the store's slots cannot be asked for, if they cannot: no such active store, or the service
    asked for is not one it offers."""
    if store is None or not store.active:
        return not_found(Code, "store", ("storeId",))
    if service_id is not None and service_id not in offered.get(store.id, []):
        return DomainError.single(Code.SERVICE_NOT_OFFERED, "this store does not offer the service", ("serviceId",))
    return None


async def open_slots(session: AsyncSession, asks: Sequence[SlotsAsked]) -> list[list[OpenSlot]]:
    """Per ask, in order: its bookable slots (not past, not within the store's lead time) and the seats
    left in each. A few statements whatever the number of stores."""
    if not asks:
        return []
    days_by_store: dict[int, set[date]] = defaultdict(set)
    for ask in asks:
        days_by_store[ask.store.id].update(ask.days)
    stores = {ask.store.id: ask.store for ask in asks}
    capacities = await slot_capacities_by_store(
        session, [(store, sorted(days_by_store[store_id])) for store_id, store in stores.items()]
    )
    settings = await settings_by_store(session, list(stores))
    bookable = [_bookable(capacities[ask.store.id], ask, settings[ask.store.id].lead_minutes) for ask in asks]
    taken = await seats_taken_by_store(session, _starts_by_store(asks, bookable))
    return [
        [OpenSlot(s, max(s.capacity - taken.get((ask.store.id, s.slot.start), 0), 0)) for s in slots]
        for ask, slots in zip(asks, bookable, strict=False)
    ]


def _bookable(capacities: Sequence[SlotCapacity], ask: SlotsAsked, lead_minutes: int) -> list[SlotCapacity]:
    days, opens_after = set(ask.days), ask.now + timedelta(minutes=lead_minutes)
    return [s for s in capacities if s.slot.day in days and s.slot.start >= opens_after]


def _starts_by_store(asks: Sequence[SlotsAsked], slots: Sequence[Sequence[SlotCapacity]]) -> dict[int, set[datetime]]:
    """The slots whose seats taken matter: those with any seat (the others have none left whatever)."""
    starts: dict[int, set[datetime]] = defaultdict(set)
    for ask, store_slots in zip(asks, slots, strict=False):
        starts[ask.store.id].update(s.slot.start for s in store_slots if s.capacity > 0)
    return starts


# nextFreeSlot looks at the next 7 store-local days, today and tomorrow first: they nearly always
# have a free slot (even late in the evening), and each day looked at costs slot arithmetic.
NEXT_SLOT_WINDOWS = ((0, 1), (2, 6))  # day offsets from today, inclusive


@dataclass(frozen=True)
class FreeSlotAsked:
    """The first slot with a free seat at a store, for a service (or any), as of ``now``."""

    store_id: int
    service_id: int | None
    now: datetime


async def next_free_slots(
    session: AsyncSession, asks: Sequence[FreeSlotAsked]
) -> dict[FreeSlotAsked, OpenSlot | DomainError | None]:
    """Per ask: the first slot with a free seat within :data:`NEXT_SLOT_WINDOWS` (None if none), or why
    the store's slots cannot be asked for, as :func:`available_slots` would raise it. A few statements a
    window whatever the number of stores."""
    stores = await rows_by_id(session, Store, [ask.store_id for ask in asks])
    found: dict[FreeSlotAsked, OpenSlot | DomainError | None] = await _refusals(session, asks, stores)
    pending = [ask for ask in asks if ask not in found]
    for first, last in NEXT_SLOT_WINDOWS:
        windows = [_window(stores[ask.store_id], ask.now, first, last) for ask in pending]
        for ask, slots in zip(pending, await open_slots(session, windows), strict=False):
            found[ask] = next((slot for slot in slots if slot.remaining > 0), None)
        pending = [ask for ask in pending if found[ask] is None]
    return found


async def _refusals(
    session: AsyncSession, asks: Sequence[FreeSlotAsked], stores: Mapping[int, Store]
) -> dict[FreeSlotAsked, DomainError]:
    with_service = sorted({ask.store_id for ask in asks if ask.service_id is not None and ask.store_id in stores})
    offered = await service_ids_by_store(session, with_service) if with_service else {}
    refusals = {ask: _slots_refusal(stores.get(ask.store_id), ask.service_id, offered) for ask in asks}
    return {ask: refusal for ask, refusal in refusals.items() if refusal is not None}


def _window(store: Store, now: datetime, first: int, last: int) -> SlotsAsked:
    today = local_day(now, store.timezone)
    return SlotsAsked(store, days_between(today + timedelta(days=first), today + timedelta(days=last)), now)


@on_store_relationship("bookings")
async def has_booking_at(session: AsyncSession, person_id: int, store_id: int) -> bool:
    """Any booking of hers at the store, whatever its state: the store has received or expects her."""
    statement = select(Booking.id).where(Booking.person_id == person_id, Booking.store_id == store_id).limit(1)
    return (await session.exec(statement)).first() is not None


@on_merge("bookings")
async def follow_merges(session: AsyncSession, root_of: dict[int, int]) -> None:
    """OneID merged persons (merged id -> survivor): their bookings and upcoming counts go with them.

    The count may then exceed the limit; that only stops her booking more until some pass.
    """
    merged = sorted(root_of)
    if not await _any_booking_by(session, merged):
        return
    for old, new in root_of.items():
        await session.exec(
            sa.update(Booking.__table__).where(Booking.__table__.c.person_id == old).values(person_id=new)
        )
        moved = await session.get(CustomerBookingCount, old)
        if moved is None or not moved.upcoming:
            continue
        await session.exec(insert_ignore(session, CustomerBookingCount, {"person_id": new, "upcoming": 0}))
        counter = CustomerBookingCount.__table__
        await session.exec(
            sa.update(counter).where(counter.c.person_id == new).values(upcoming=counter.c.upcoming + moved.upcoming)
        )
        moved.upcoming = 0


@on_erasure("bookings")
async def forget_free_text(session: AsyncSession, person_ids: Collection[int], now: datetime) -> None:
    """An erased customer's bookings keep their facts (store, slot, state), not what was written about
    them: her note and the reason given when one was cancelled."""
    table = Booking.__table__
    await session.exec(
        sa.update(table).where(is_in(session, table.c.person_id, person_ids)).values(note="", cancel_reason=None)
    )


async def _any_booking_by(session: AsyncSession, person_ids: Sequence[int]) -> bool:
    statement = select(Booking.id).where(is_in(session, Booking.person_id, person_ids)).limit(1)
    return (await session.exec(statement)).first() is not None


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


async def check_in(
    session: AsyncSession,
    actor: Actor,
    *,
    booking_id: int | None,
    qr_token: str | None,
    tokens: TokenPolicy,
    window: CheckInWindow,
    now: datetime,
) -> Booking:
    """Store staff check her in, by scanning her QR code or by looking the booking up.

    Single use and on time: only a CONFIRMED booking whose check-in window is open
    moves to CHECKED_IN, in one conditional UPDATE, so a second scan (or two guides
    at once, or a reschedule meanwhile) is refused. Her visit goes on her timeline
    and her reception task starts.
    """
    actor.require_role(Role.HQ_ADMIN, Role.STORE_MANAGER, Role.GUIDE)
    booking_id, nonce = _check_in_target(booking_id, qr_token, tokens, now)
    booking = await session.get(Booking, booking_id)
    if booking is None or (nonce is not None and nonce != booking.qr_nonce):
        raise (
            _bad_qr("this QR code does not belong to a booking")
            if nonce
            else not_found(Code, "booking", ("input", "bookingId"))
        )
    actor.require_store(booking.store_id)
    table = Booking.__table__
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
    await start_for_booking(session, booking.id, actor, now)
    await session.commit()
    return booking


async def complete_reception(session: AsyncSession, actor: Actor, task_id: int, now: datetime) -> Task:
    """The guide finishes her reception: the task is DONE and her booking COMPLETED, together.

    A booked customer must have been checked in first (the reception may have
    been started by hand, with taskStart): otherwise her booking would stay
    CONFIRMED and later count as a no-show although she came.
    """
    task = await complete(session, actor, task_id, now)
    if task.booking_id is not None:
        table = Booking.__table__
        moved = await session.exec(
            sa.update(table)
            .where(table.c.id == task.booking_id, table.c.status == BookingStatus.CHECKED_IN.value)
            .values(status=BookingStatus.COMPLETED.value, completed_at=now, updated_at=now)
        )
        if moved.rowcount != 1:
            raise DomainError.single(
                TaskErrorCode.NOT_CHECKED_IN, "check the customer in before completing her reception", ("id",)
            )
    await session.commit()
    return task


def _check_in_refusal(booking: Booking, window: CheckInWindow, now: datetime) -> DomainError:
    if booking.status == BookingStatus.CHECKED_IN.value:
        return DomainError.single(Code.ALREADY_CHECKED_IN, "the booking is CHECKED_IN", ("input",))
    if booking.status != BookingStatus.CONFIRMED.value:
        return DomainError.single(Code.INVALID_STATE, f"the booking is {booking.status}", ("input",))
    opens = booking.slot_start - window.opens_before
    if now < opens:
        return DomainError.single(
            Code.CHECK_IN_TOO_EARLY,
            f"check-in opens at {_iso(opens)}, {_minutes(window.opens_before)} minutes before the slot",
            ("input",),
        )
    closed = booking.slot_end + window.closes_after
    return DomainError.single(
        Code.CHECK_IN_TOO_LATE,
        f"check-in closed at {_iso(closed)}, {_minutes(window.closes_after)} minutes after the slot ended",
        ("input",),
    )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _minutes(span: timedelta) -> int:
    return int(span.total_seconds() // 60)


def _check_in_target(booking_id, qr_token, tokens: TokenPolicy, now: datetime) -> tuple[int, str | None]:
    if (booking_id is None) == (qr_token is None):
        raise DomainError.single(Code.INVALID_VALUE, "give either qrToken or bookingId", ("input",))
    if qr_token is None:
        return booking_id, None
    try:
        return qr.decode(tokens, qr_token, now)
    except qr.InvalidQrToken as invalid:
        raise _bad_qr(str(invalid)) from None


def _bad_qr(message: str) -> DomainError:
    return DomainError.single(Code.INVALID_QR_TOKEN, message, ("input", "qrToken"))


def qr_token_of(booking: Booking, tokens: TokenPolicy) -> str:
    return qr.encode(tokens, booking.id, booking.qr_nonce, booking.slot_end)


async def reschedule_booking(
    session: AsyncSession, actor: Actor, booking_id: int, slot_start: datetime, policy: TaskPolicy, now: datetime
) -> Booking:
    """Move a CONFIRMED booking to another slot of its store, atomically: the old seat is given back
    only if the new one is taken (one transaction; seats are locked in slot order, so two customers
    swapping slots cannot deadlock). Her task follows; its guide changes only if not on shift then."""
    booking = await session.get(Booking, booking_id, with_for_update=True)
    if booking is None:
        raise not_found(Code, "booking", ("input", "id"))
    _authorize_change(actor, booking)
    if booking.status != BookingStatus.CONFIRMED.value:
        raise DomainError.single(Code.INVALID_STATE, f"a {booking.status} booking cannot be moved", ("input", "id"))
    if slot_start.tzinfo is None:
        raise DomainError.single(Code.INVALID_VALUE, "slotStart needs a time zone", ("input", "slotStart"))
    if slot_start == booking.slot_start:
        return booking
    store = await session.get(Store, booking.store_id)
    slot = await _slot(session, store, slot_start, now)
    await _hold_customer(session, booking.person_id)
    await _refuse_overlap(session, booking.person_id, slot.slot.start, slot.slot.end, moving=booking.id)
    old_start = booking.slot_start
    for start in sorted([old_start, slot.slot.start]):
        if start == old_start:
            await release_seat(session, store.id, old_start)
        else:
            await _take_seat(session, store.id, start, slot.capacity)
    await withdraw(session, reminder_key(booking))  # a reminder of the old time must not go out now
    booking.slot_start, booking.slot_end, booking.updated_at = slot.slot.start, slot.slot.end, now
    booking.customer_reminded_at = None  # she is reminded of the new time
    products = (
        await session.exec(select(BookingProduct.product_id).where(BookingProduct.booking_id == booking.id))
    ).all()
    await move_reception(
        session, booking.id, await need_of(session, booking, store, slot, list(products)), policy, now, actor.key
    )
    await session.commit()
    return booking


def _authorize_change(actor: Actor, booking: Booking) -> None:
    if actor.kind is ActorKind.CUSTOMER:
        if booking.person_id != actor.id:
            raise Forbidden("not your booking")
        return
    actor.require_role(Role.HQ_ADMIN, Role.STORE_MANAGER, Role.GUIDE)
    actor.require_store(booking.store_id)
