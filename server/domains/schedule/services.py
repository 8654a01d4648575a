"""Shifts, slot settings and the capacity of every slot of a store."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..common.actor import Actor, Role
from ..common.errors import DomainError
from ..common.lookup import rows_by_id
from ..common.validation import Validator, not_found
from ..staff.models import StaffUser
from ..stores.models import Store
from .errors import ScheduleErrorCode as Code
from .grid import Interval, Slot, covered, day_slots, minutes_of, parse_hhmm
from .models import CapacityOverride, ShiftException, ShiftPattern, SlotSettings

SLOT_MINUTES_CHOICES = (15, 20, 30, 45, 60, 90, 120)
MAX_GUIDE_CAPACITY = 10
MAX_LEAD_MINUTES = 7 * 24 * 60
MAX_SHIFTS_A_WEEK = 21
MAX_DAYS_ASKED = 31


class ExceptionKind(StrEnum):
    LEAVE = "LEAVE"
    EXTRA = "EXTRA"


@dataclass(frozen=True)
class WeeklyShift:
    weekday: int
    starts: time
    ends: time


@dataclass(frozen=True)
class SlotCapacity:
    slot: Slot
    capacity: int
    guide_ids: tuple[int, ...]  # guides on shift over the whole slot


# --- settings ------------------------------------------------------------------------------------

async def settings_of(session: AsyncSession, store_id: int) -> SlotSettings:
    """The store's slot settings, read once per session (most stores have no row: the defaults)."""
    known = session.info.setdefault("slot_settings", {})
    if store_id not in known:
        known[store_id] = await session.get(SlotSettings, store_id) or SlotSettings(store_id=store_id)
    return known[store_id]


async def update_settings(session: AsyncSession, actor: Actor, store_id: int, *, slot_minutes: int | None,
                          guide_capacity: int | None, lead_minutes: int | None, now: datetime) -> SlotSettings:
    actor.require_role(Role.HQ_ADMIN, Role.STORE_MANAGER)
    actor.require_store(store_id)
    await _store(session, store_id)
    check = Validator(Code)
    if slot_minutes is not None and slot_minutes not in SLOT_MINUTES_CHOICES:
        check.add("INVALID_VALUE", f"slotMinutes must be one of {', '.join(map(str, SLOT_MINUTES_CHOICES))}",
                  ("input", "slotMinutes"))
    check.number_range(("input", "guideCapacity"), guide_capacity, 1, MAX_GUIDE_CAPACITY)
    check.number_range(("input", "leadMinutes"), lead_minutes, 0, MAX_LEAD_MINUTES)
    check.raise_if_any()
    settings = await session.get(SlotSettings, store_id) or SlotSettings(store_id=store_id)
    session.info.pop("slot_settings", None)
    for name, value in (("slot_minutes", slot_minutes), ("guide_capacity", guide_capacity),
                        ("lead_minutes", lead_minutes)):
        if value is not None:
            setattr(settings, name, value)
    settings.updated_at = now
    session.add(settings)
    await session.commit()
    return settings


async def set_capacity_override(session: AsyncSession, actor: Actor, store_id: int, day: date,
                                capacity: int | None, now: datetime) -> None:
    """Per-slot capacity on ``day``; None goes back to what the shifts give."""
    actor.require_role(Role.HQ_ADMIN, Role.STORE_MANAGER)
    actor.require_store(store_id)
    await _store(session, store_id)
    check = Validator(Code)
    check.number_range(("input", "capacity"), capacity, 0, 1000)
    check.raise_if_any()
    row = await session.get(CapacityOverride, (store_id, day))
    if capacity is None:
        if row is not None:
            await session.delete(row)
    elif row is None:
        session.add(CapacityOverride(store_id=store_id, day=day, capacity=capacity, updated_at=now))
    else:
        row.capacity, row.updated_at = capacity, now
    await session.commit()


# --- shifts --------------------------------------------------------------------------------------

async def _store(session: AsyncSession, store_id: int) -> Store:
    store = await session.get(Store, store_id)
    if store is None:
        raise not_found(Code, "store", ("input", "storeId"))
    return store


async def _guide(session: AsyncSession, actor: Actor, staff_id: int) -> StaffUser:
    actor.require_role(Role.HQ_ADMIN, Role.STORE_MANAGER)
    guide = await session.get(StaffUser, staff_id)
    if guide is None:
        raise not_found(Code, "staff member", ("input", "staffId"))
    actor.require_store(guide.store_id)
    if guide.role != Role.GUIDE.value or guide.store_id is None:
        raise DomainError.single(Code.NOT_A_GUIDE, "shifts are for guides of a store", ("input", "staffId"))
    return guide


def _check_interval(check: Validator, path: tuple[str, ...], starts: time | None, ends: time | None) -> None:
    if starts is None or ends is None:
        check.add("INVALID_SHIFT", "a shift needs starts and ends", path)
    elif starts.tzinfo is not None or ends.tzinfo is not None:
        check.add("INVALID_SHIFT", "shift times are store-local, without an offset", path)
    elif starts.second or ends.second or starts.microsecond or ends.microsecond or minutes_of(starts) % 5 \
            or minutes_of(ends) % 5:
        check.add("INVALID_SHIFT", "shift times are whole minutes on a 5-minute grid", path)
    elif starts >= ends:
        check.add("INVALID_SHIFT", "a shift starts before it ends", path)


async def set_weekly_shifts(session: AsyncSession, actor: Actor, staff_id: int,
                            shifts: Sequence[WeeklyShift]) -> list[ShiftPattern]:
    """Replace the guide's weekly pattern."""
    guide = await _guide(session, actor, staff_id)
    check = Validator(Code)
    check.count(("input", "shifts"), shifts, MAX_SHIFTS_A_WEEK)
    for index, shift in enumerate(shifts):
        path = ("input", "shifts", str(index))
        check.number_range((*path, "weekday"), shift.weekday, 0, 6)
        _check_interval(check, path, shift.starts, shift.ends)
    for first, second in _overlapping(shifts):
        check.add("INVALID_SHIFT", "two shifts of one weekday overlap", ("input", "shifts", str(second)))
    check.raise_if_any()
    await session.exec(delete(ShiftPattern).where(ShiftPattern.staff_id == staff_id))
    rows = [ShiftPattern(staff_id=staff_id, store_id=guide.store_id, weekday=s.weekday,
                         starts=s.starts.strftime("%H:%M"), ends=s.ends.strftime("%H:%M")) for s in shifts]
    session.add_all(rows)
    await session.commit()
    return sorted(rows, key=lambda r: (r.weekday, r.starts))


def _overlapping(shifts: Sequence[WeeklyShift]):
    ordered = sorted(range(len(shifts)), key=lambda i: (shifts[i].weekday, shifts[i].starts))
    for a, b in zip(ordered, ordered[1:]):
        if shifts[a].weekday == shifts[b].weekday and shifts[b].starts < shifts[a].ends:
            yield a, b


async def add_shift_exception(session: AsyncSession, actor: Actor, staff_id: int, day: date, kind: ExceptionKind,
                              starts: time | None, ends: time | None, note: str, now: datetime) -> ShiftException:
    """LEAVE without times is the whole day; EXTRA needs its times."""
    guide = await _guide(session, actor, staff_id)
    check = Validator(Code)
    note = check.text(("input", "note"), note, max_length=200, min_length=0, required=False) or ""
    if kind is ExceptionKind.EXTRA or starts is not None or ends is not None:
        _check_interval(check, ("input",), starts, ends)
    check.raise_if_any()
    row = ShiftException(staff_id=staff_id, store_id=guide.store_id, day=day, kind=kind.value,
                         starts=starts.strftime("%H:%M") if starts else None,
                         ends=ends.strftime("%H:%M") if ends else None, note=note, created_at=now)
    session.add(row)
    await session.commit()
    return row


async def remove_shift_exception(session: AsyncSession, actor: Actor, exception_id: int) -> None:
    row = await session.get(ShiftException, exception_id)
    if row is None:
        raise not_found(Code, "shift exception", ("id",))
    await _guide(session, actor, row.staff_id)
    await session.delete(row)
    await session.commit()


async def shifts_of(session: AsyncSession, staff_id: int) -> list[ShiftPattern]:
    rows = await session.exec(select(ShiftPattern).where(ShiftPattern.staff_id == staff_id)
                              .order_by(ShiftPattern.weekday, ShiftPattern.starts))
    return list(rows)


async def exceptions_of(session: AsyncSession, staff_id: int, start: date, end: date) -> list[ShiftException]:
    rows = await session.exec(select(ShiftException).where(
        ShiftException.staff_id == staff_id, ShiftException.day >= start, ShiftException.day <= end)
        .order_by(ShiftException.day, ShiftException.id))
    return list(rows)


# --- capacity ------------------------------------------------------------------------------------

async def _duty(session: AsyncSession, store_id: int, days: Sequence[date]):
    """Per day: {guide: (working intervals, leave intervals)} of the store's active guides."""
    guides = select(StaffUser.id).where(StaffUser.store_id == store_id, StaffUser.active,
                                        StaffUser.role == Role.GUIDE.value)
    patterns = await session.exec(select(ShiftPattern).where(
        ShiftPattern.store_id == store_id, col(ShiftPattern.staff_id).in_(guides),
        col(ShiftPattern.weekday).in_({d.weekday() for d in days})))
    exceptions = await session.exec(select(ShiftException).where(
        ShiftException.store_id == store_id, col(ShiftException.staff_id).in_(guides),
        col(ShiftException.day).in_(list(days))))
    by_weekday: dict[int, list[ShiftPattern]] = defaultdict(list)
    for pattern in patterns:
        by_weekday[pattern.weekday].append(pattern)
    by_day: dict[date, list[ShiftException]] = defaultdict(list)
    for exception in exceptions:
        by_day[exception.day].append(exception)
    duty: dict[date, dict[int, tuple[list[Interval], list[Interval]]]] = {}
    for day in days:
        guides_today: dict[int, tuple[list[Interval], list[Interval]]] = defaultdict(lambda: ([], []))
        for pattern in by_weekday[day.weekday()]:
            guides_today[pattern.staff_id][0].append((parse_hhmm(pattern.starts), parse_hhmm(pattern.ends)))
        for exception in by_day[day]:
            interval = ((parse_hhmm(exception.starts), parse_hhmm(exception.ends)) if exception.starts
                        else (time.min, time.max))
            guides_today[exception.staff_id][0 if exception.kind == ExceptionKind.EXTRA else 1].append(interval)
        duty[day] = dict(guides_today)
    return duty


async def slot_capacities(session: AsyncSession, store: Store, days: Sequence[date]) -> list[SlotCapacity]:
    """Every slot of the store on these local days, with its capacity and the guides covering it.

    Capacity = guides on shift over the whole slot x per-guide capacity, unless
    the store overrides it for that date.
    """
    settings = await settings_of(session, store.id)
    duty = await _duty(session, store.id, days)
    overrides = {row.day: row.capacity for row in await session.exec(select(CapacityOverride).where(
        CapacityOverride.store_id == store.id, col(CapacityOverride.day).in_(list(days))))}
    result = []
    for day in days:
        for slot in day_slots(store.opening_hours, store.timezone, day, settings.slot_minutes):
            end = slot.local_end if slot.local_end > slot.local_start else time.max
            guides = tuple(sorted(g for g, (work, leave) in duty[day].items()
                                  if covered(work, leave, slot.local_start, end)))
            capacity = overrides.get(day, len(guides) * settings.guide_capacity)
            result.append(SlotCapacity(slot, capacity, guides))
    return result


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


async def exceptions_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, ShiftException]:
    return await rows_by_id(session, ShiftException, ids)
