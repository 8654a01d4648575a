"""Which slots can still be booked: free seats by slot, for one store or a list of them (the read side)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..common.dialect import is_in
from ..common.errors import CommonErrorCode as Common
from ..common.errors import DomainError
from ..common.lookup import rows_by_id
from ..common.rows import saved_id
from ..common.validation import Validator, not_found
from ..schedule.services import (
    MAX_DAYS_ASKED,
    SlotCapacity,
    days_between,
    settings_by_store,
    slot_capacities_by_store,
)
from ..stores.models import Store
from ..stores.opening_hours import local_day
from ..stores.services import service_ids_by_store
from .errors import BookingErrorCode as Code
from .models import (
    SlotLedger,
)

NEXT_SLOT_WINDOWS = ((0, 1), (2, 6))  # day offsets from today, inclusive


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

    @property
    def store_id(self) -> int:
        return saved_id(self.store)


async def available_slots(
    session: AsyncSession, store_id: int, first_day, last_day, service_id: int | None, now: datetime
) -> list[OpenSlot]:
    """Bookable slots of the store between two local dates: not past, not within the lead time."""
    check = Validator()
    if last_day < first_day:
        check.add(Common.INVALID_VALUE, "to is before from", ("to",))
    elif (last_day - first_day).days >= MAX_DAYS_ASKED:
        check.add(Common.OUT_OF_RANGE, f"ask for at most {MAX_DAYS_ASKED} days at a time", ("to",))
    check.raise_if_any()
    store = await session.get(Store, store_id)
    asks_service = service_id is not None and store is not None and store.active
    offered = await service_ids_by_store(session, [store_id]) if asks_service else {}
    refusal = _slots_refusal(store, service_id, offered)
    if refusal:
        raise refusal
    assert store is not None, "_slots_refusal refuses a missing store"
    [slots] = await open_slots(session, [SlotsAsked(store, days_between(first_day, last_day), now)])
    return slots


def _slots_refusal(store: Store | None, service_id: int | None, offered: Mapping[int, list[int]]) -> DomainError | None:
    """Why the store's slots cannot be asked for, if they cannot: no such active store, or the service
    asked for is not one it offers."""
    if store is None or not store.active:
        return not_found("store", ("storeId",))
    if service_id is not None and service_id not in offered.get(saved_id(store), []):
        return DomainError.single(Code.SERVICE_NOT_OFFERED, "this store does not offer the service", ("serviceId",))
    return None


async def open_slots(session: AsyncSession, asks: Sequence[SlotsAsked]) -> list[list[OpenSlot]]:
    """Per ask, in order: its bookable slots (not past, not within the store's lead time) and the seats
    left in each. A few statements whatever the number of stores."""
    if not asks:
        return []
    days_by_store: dict[int, set[date]] = defaultdict(set)
    for ask in asks:
        days_by_store[ask.store_id].update(ask.days)
    stores = {ask.store_id: ask.store for ask in asks}
    capacities = await slot_capacities_by_store(
        session, [(store, sorted(days_by_store[store_id])) for store_id, store in stores.items()]
    )
    settings = await settings_by_store(session, list(stores))
    bookable = [_bookable(capacities[ask.store_id], ask, settings[ask.store_id].lead_minutes) for ask in asks]
    taken = await seats_taken_by_store(session, _starts_by_store(asks, bookable))
    return [
        [OpenSlot(s, max(s.capacity - taken.get((ask.store_id, s.slot.start), 0), 0)) for s in slots]
        for ask, slots in zip(asks, bookable, strict=False)
    ]


def _bookable(capacities: Sequence[SlotCapacity], ask: SlotsAsked, lead_minutes: int) -> list[SlotCapacity]:
    days, opens_after = set(ask.days), ask.now + timedelta(minutes=lead_minutes)
    return [s for s in capacities if s.slot.day in days and s.slot.start >= opens_after]


def _starts_by_store(asks: Sequence[SlotsAsked], slots: Sequence[Sequence[SlotCapacity]]) -> dict[int, set[datetime]]:
    """The slots whose seats taken matter: those with any seat (the others have none left whatever)."""
    starts: dict[int, set[datetime]] = defaultdict(set)
    for ask, store_slots in zip(asks, slots, strict=False):
        starts[ask.store_id].update(s.slot.start for s in store_slots if s.capacity > 0)
    return starts


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
    found: dict[FreeSlotAsked, OpenSlot | DomainError | None] = dict(await _refusals(session, asks, stores))
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


# nextFreeSlot looks at the next 7 store-local days, today and tomorrow first: they nearly always
# have a free slot (even late in the evening), and each day looked at costs slot arithmetic.
NEXT_SLOT_WINDOWS = ((0, 1), (2, 6))  # day offsets from today, inclusive
