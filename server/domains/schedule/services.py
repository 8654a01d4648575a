"""Shifts, slot settings and the capacity of every slot of a store."""

from __future__ import annotations

import functools
import itertools
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ...prepared import any_of, run
from ...unit_of_work import use_case
from ..common.actor import Actor, Role
from ..common.dialect import dialect_of
from ..common.errors import CommonErrorCode as Common
from ..common.errors import DomainError
from ..common.lookup import rows_by_id
from ..common.rows import new_row, saved_id, select_columns
from ..common.validation import Validator, not_found
from ..staff.models import StaffUser
from ..stores.models import Store
from ..stores.opening_hours import Interval, Slot, covered, day_slots, minutes_of, parse_hhmm, slot_starting_at
from .errors import ScheduleErrorCode as Code
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
    """The store's slot settings (see :func:`settings_by_store`)."""
    return (await settings_by_store(session, [store_id]))[store_id]


_SETTINGS_READ = "slot_settings"  # session.info: store id -> its settings, as read in this session


def keep_settings(session: AsyncSession, store_id: int, settings: SlotSettings | None) -> None:
    """A store's settings (None: it has no row) a caller read in a statement of its own, joined to the
    store: the session's later asks for them use these."""
    session.info.setdefault(_SETTINGS_READ, {})[store_id] = settings or _defaults(store_id)


def _defaults(store_id: int) -> SlotSettings:
    """The settings of a store that has no row of its own (most stores; every booking of a surge asks)."""
    return new_row(SlotSettings, store_id=store_id)


async def settings_by_store(session: AsyncSession, store_ids: Collection[int]) -> dict[int, SlotSettings]:
    """Slot settings of each store, read once per session (most stores have no row: the defaults)."""
    known = session.info.setdefault(_SETTINGS_READ, {})
    missing = sorted(set(store_ids) - known.keys())
    if missing:
        rows = await session.exec(_settings_of_stores(dialect_of(session)), params={"stores": missing})
        found = {row.store_id: row for row in rows}
        known.update({store_id: found.get(store_id) or _defaults(store_id) for store_id in missing})
    return {store_id: known[store_id] for store_id in store_ids}


@functools.cache
def _settings_of_stores(dialect: str):
    return select(SlotSettings).where(any_of(SlotSettings.store_id, "stores", dialect))


@use_case
async def update_settings(
    session: AsyncSession,
    actor: Actor,
    store_id: int,
    *,
    slot_minutes: int | None,
    guide_capacity: int | None,
    lead_minutes: int | None,
    now: datetime,
) -> SlotSettings:
    actor.require_role(Role.HQ_ADMIN, Role.STORE_MANAGER)
    actor.require_store(store_id)
    await _store(session, store_id)
    check = Validator()
    if slot_minutes is not None and slot_minutes not in SLOT_MINUTES_CHOICES:
        check.add(
            Common.INVALID_VALUE,
            f"slotMinutes must be one of {', '.join(map(str, SLOT_MINUTES_CHOICES))}",
            ("slotMinutes",),
        )
    check.number_range(("guideCapacity",), guide_capacity, 1, MAX_GUIDE_CAPACITY)
    check.number_range(("leadMinutes",), lead_minutes, 0, MAX_LEAD_MINUTES)
    check.raise_if_any()
    settings = await session.get(SlotSettings, store_id) or SlotSettings(store_id=store_id)
    session.info.pop(_SETTINGS_READ, None)
    for name, value in (
        ("slot_minutes", slot_minutes),
        ("guide_capacity", guide_capacity),
        ("lead_minutes", lead_minutes),
    ):
        if value is not None:
            setattr(settings, name, value)
    settings.updated_at = now
    session.add(settings)
    return settings


@use_case
async def set_capacity_override(
    session: AsyncSession, actor: Actor, store_id: int, day: date, capacity: int | None, now: datetime
) -> None:
    """Per-slot capacity on ``day``; None goes back to what the shifts give."""
    actor.require_role(Role.HQ_ADMIN, Role.STORE_MANAGER)
    actor.require_store(store_id)
    await _store(session, store_id)
    check = Validator()
    check.number_range(("capacity",), capacity, 0, 1000)
    check.raise_if_any()
    row = await session.get(CapacityOverride, (store_id, day))
    if capacity is None:
        if row is not None:
            await session.delete(row)
    elif row is None:
        session.add(CapacityOverride(store_id=store_id, day=day, capacity=capacity, updated_at=now))
    else:
        row.capacity, row.updated_at = capacity, now


# --- shifts --------------------------------------------------------------------------------------


async def _store(session: AsyncSession, store_id: int) -> Store:
    store = await session.get(Store, store_id)
    if store is None:
        raise not_found("store", ("storeId",))
    return store


async def _guide_store(session: AsyncSession, actor: Actor, staff_id: int, path: tuple[str, ...] = ("staffId",)) -> int:
    """The store of the guide ``staff_id``, once the actor may set her shifts."""
    actor.require_role(Role.HQ_ADMIN, Role.STORE_MANAGER)
    guide = await session.get(StaffUser, staff_id)
    if guide is None:
        raise not_found("staff member", path)
    actor.require_store(guide.store_id)
    if guide.role != Role.GUIDE.value or guide.store_id is None:
        raise DomainError.single(Code.NOT_A_GUIDE, "shifts are for guides of a store", path)
    return guide.store_id


def _check_interval(check: Validator, path: tuple[str, ...], starts: time | None, ends: time | None) -> None:
    if starts is None or ends is None:
        check.add(Code.INVALID_SHIFT, "a shift needs starts and ends", path)
    elif starts.tzinfo is not None or ends.tzinfo is not None:
        check.add(Code.INVALID_SHIFT, "shift times are store-local, without an offset", path)
    elif (
        starts.second
        or ends.second
        or starts.microsecond
        or ends.microsecond
        or minutes_of(starts) % 5
        or minutes_of(ends) % 5
    ):
        check.add(Code.INVALID_SHIFT, "shift times are whole minutes on a 5-minute grid", path)
    elif starts >= ends:
        check.add(Code.INVALID_SHIFT, "a shift starts before it ends", path)


@use_case
async def set_weekly_shifts(
    session: AsyncSession, actor: Actor, staff_id: int, shifts: Sequence[WeeklyShift]
) -> list[ShiftPattern]:
    """Replace the guide's weekly pattern (shiftsSet's arguments are staffId and shifts: errors point there)."""
    store_id = await _guide_store(session, actor, staff_id, ("staffId",))
    check = Validator()
    check.count(("shifts",), shifts, MAX_SHIFTS_A_WEEK)
    for index, shift in enumerate(shifts):
        path = ("shifts", str(index))
        check.number_range((*path, "weekday"), shift.weekday, 0, 6)
        _check_interval(check, path, shift.starts, shift.ends)
    for _first, second in _overlapping(shifts):
        check.add(Code.INVALID_SHIFT, "two shifts of one weekday overlap", ("shifts", str(second)))
    check.raise_if_any()
    await session.exec(delete(ShiftPattern).where(col(ShiftPattern.staff_id) == staff_id))
    rows = [
        ShiftPattern(
            staff_id=staff_id,
            store_id=store_id,
            weekday=s.weekday,
            starts=s.starts.strftime("%H:%M"),
            ends=s.ends.strftime("%H:%M"),
        )
        for s in shifts
    ]
    session.add_all(rows)
    return sorted(rows, key=lambda r: (r.weekday, r.starts))


def _overlapping(shifts: Sequence[WeeklyShift]):
    ordered = sorted(range(len(shifts)), key=lambda i: (shifts[i].weekday, shifts[i].starts))
    for a, b in itertools.pairwise(ordered):
        if shifts[a].weekday == shifts[b].weekday and shifts[b].starts < shifts[a].ends:
            yield a, b


@use_case
async def add_shift_exception(
    session: AsyncSession,
    actor: Actor,
    staff_id: int,
    day: date,
    kind: ExceptionKind,
    starts: time | None,
    ends: time | None,
    note: str,
    now: datetime,
) -> ShiftException:
    """LEAVE without times is the whole day; EXTRA needs its times."""
    store_id = await _guide_store(session, actor, staff_id)
    check = Validator()
    note = check.text(("note",), note, max_length=200, min_length=0, required=False, multiline=True) or ""
    if kind is ExceptionKind.EXTRA or starts is not None or ends is not None:
        _check_interval(check, (), starts, ends)
    check.raise_if_any()
    row = ShiftException(
        staff_id=staff_id,
        store_id=store_id,
        day=day,
        kind=kind.value,
        starts=starts.strftime("%H:%M") if starts else None,
        ends=ends.strftime("%H:%M") if ends else None,
        note=note,
        created_at=now,
    )
    session.add(row)
    return row


@use_case
async def remove_shift_exception(session: AsyncSession, actor: Actor, exception_id: int) -> None:
    row = await session.get(ShiftException, exception_id)
    if row is None:
        raise not_found("shift exception", ("id",))
    await _guide_store(session, actor, row.staff_id, ("id",))
    await session.delete(row)


async def shifts_of(session: AsyncSession, staff_id: int) -> list[ShiftPattern]:
    rows = await session.exec(
        select(ShiftPattern)
        .where(ShiftPattern.staff_id == staff_id)
        .order_by(col(ShiftPattern.weekday), col(ShiftPattern.starts))
    )
    return list(rows)


async def exceptions_of(session: AsyncSession, staff_id: int, start: date, end: date) -> list[ShiftException]:
    rows = await session.exec(
        select(ShiftException)
        .where(ShiftException.staff_id == staff_id, ShiftException.day >= start, ShiftException.day <= end)
        .order_by(col(ShiftException.day), col(ShiftException.id))
    )
    return list(rows)


# --- capacity ------------------------------------------------------------------------------------

GuideDuty = dict[int, tuple[list[Interval], list[Interval]]]  # guide -> (working intervals, leave intervals)


@dataclass(frozen=True)
class _Days:
    """What the shifts say about some days of some stores: per store and day, the duty of its active
    guides, and the capacity the store set for that date (if it did)."""

    duty: dict[int, dict[date, GuideDuty]]
    overrides: dict[tuple[int, date], int]


async def _days_by_store(session: AsyncSession, days_by_store: Mapping[int, Sequence[date]]) -> _Days:
    """One read for every store and day asked: the weekly patterns of those weekdays, the dated
    exceptions and the capacity overrides (a booking checks its slot with it, availableSlots a week)."""
    all_days = sorted({day for days in days_by_store.values() for day in days})
    params: dict[str, Any] = {"weekdays": sorted({day.weekday() for day in all_days}), "days": all_days}
    one_store = len(days_by_store) == 1
    if one_store:
        params["store"] = next(iter(days_by_store))
    else:
        params["stores"] = list(days_by_store)
    patterns: dict[tuple[int, int], list] = defaultdict(list)
    exceptions: dict[tuple[int, date], list] = defaultdict(list)
    overrides: dict[tuple[int, date], int] = {}
    for row in await run(session, _schedule_of_days(dialect_of(session), one_store), params):
        if row.source == _PATTERN:
            patterns[row.store_id, row.weekday].append(row)
        elif row.source == _EXCEPTION:
            exceptions[row.store_id, row.day].append(row)
        else:
            overrides[row.store_id, row.day] = row.capacity
    duty = {
        store_id: {day: _guide_duty(patterns[store_id, day.weekday()], exceptions[store_id, day]) for day in days}
        for store_id, days in days_by_store.items()
    }
    return _Days(duty, overrides)


_PATTERN, _EXCEPTION, _OVERRIDE = "pattern", "exception", "override"


@functools.cache
def _schedule_of_days(dialect: str, one_store: bool):
    """Built once: the schedule's read runs for every booking and every availableSlots. Plain rows (of
    guides active at that same store), not entities: nothing changes them, and loading them into the
    session costs more than reading them. Each row says where it comes from.

    One store (a booking, a store's slots) is bound as one value, not a list: PostgreSQL plans a prepared
    statement once for any values, and for a list of unknown length it read every guide of every store."""

    def of_stores(column):
        return column == sa.bindparam("store") if one_store else any_of(column, "stores", dialect)

    def nothing(type_: sa.types.TypeEngine):
        return sa.cast(sa.null(), type_)

    def of_guides(model: type[ShiftPattern] | type[ShiftException]):
        return (col(StaffUser.id) == model.staff_id) & (col(StaffUser.store_id) == model.store_id)

    guides = (col(StaffUser.active), col(StaffUser.role) == Role.GUIDE.value)
    patterns = (
        select_columns(
            sa.literal(_PATTERN).label("source"),
            col(ShiftPattern.store_id).label("store_id"),
            col(ShiftPattern.staff_id).label("staff_id"),
            col(ShiftPattern.weekday).label("weekday"),
            nothing(sa.Date()).label("day"),
            col(ShiftPattern.starts).label("starts"),
            col(ShiftPattern.ends).label("ends"),
            nothing(sa.String()).label("kind"),
            nothing(sa.Integer()).label("capacity"),
        )
        .join(StaffUser, of_guides(ShiftPattern))
        .where(of_stores(ShiftPattern.store_id), any_of(ShiftPattern.weekday, "weekdays", dialect), *guides)
    )
    exceptions = (
        select_columns(
            sa.literal(_EXCEPTION),
            ShiftException.store_id,
            ShiftException.staff_id,
            nothing(sa.Integer()),
            ShiftException.day,
            ShiftException.starts,
            ShiftException.ends,
            ShiftException.kind,
            nothing(sa.Integer()),
        )
        .join(StaffUser, of_guides(ShiftException))
        .where(of_stores(ShiftException.store_id), any_of(ShiftException.day, "days", dialect), *guides)
    )
    overrides = select_columns(
        sa.literal(_OVERRIDE),
        CapacityOverride.store_id,
        nothing(sa.Integer()),
        nothing(sa.Integer()),
        CapacityOverride.day,
        nothing(sa.String()),
        nothing(sa.String()),
        nothing(sa.String()),
        CapacityOverride.capacity,
    ).where(of_stores(CapacityOverride.store_id), any_of(CapacityOverride.day, "days", dialect))
    return sa.union_all(patterns, exceptions, overrides)


def _guide_duty(patterns: Sequence, exceptions: Sequence) -> GuideDuty:
    """One day's duty: the weekly patterns of the day, then its dated exceptions."""
    duty: GuideDuty = defaultdict(lambda: ([], []))
    for pattern in patterns:
        duty[pattern.staff_id][0].append((parse_hhmm(pattern.starts), parse_hhmm(pattern.ends)))
    for exception in exceptions:
        interval = (
            (parse_hhmm(exception.starts), parse_hhmm(exception.ends))
            if exception.starts and exception.ends  # set together (see _check_interval)
            else (time.min, time.max)
        )
        duty[exception.staff_id][0 if exception.kind == ExceptionKind.EXTRA else 1].append(interval)
    return dict(duty)


async def slot_capacities(session: AsyncSession, store: Store, days: Sequence[date]) -> list[SlotCapacity]:
    """Every slot of the store on these local days (see :func:`slot_capacities_by_store`)."""
    return (await slot_capacities_by_store(session, [(store, days)]))[saved_id(store)]


async def slot_capacities_by_store(
    session: AsyncSession, wanted: Sequence[tuple[Store, Sequence[date]]]
) -> dict[int, list[SlotCapacity]]:
    """Per store (each listed once): every slot on its local days, in the order of the days, with its
    capacity and the guides covering it. A few statements whatever the number of stores.

    Capacity = guides on shift over the whole slot x per-guide capacity, unless
    the store overrides it for that date.
    """
    if not wanted:
        return {}
    days_by_store = {saved_id(store): list(days) for store, days in wanted}
    settings = await settings_by_store(session, list(days_by_store))
    schedule = await _days_by_store(session, days_by_store)
    capacities: dict[int, list[SlotCapacity]] = {}
    for store, days in wanted:
        store_id = saved_id(store)
        override = schedule.overrides.get
        capacities[store_id] = [
            _slot_capacity(
                slot, schedule.duty[store_id][day], override((store_id, day)), settings[store_id].guide_capacity
            )
            for day in days
            for slot in _day_slots(store, day, settings[store_id])
        ]
    return capacities


async def slot_at(session: AsyncSession, store: Store, day: date, start: datetime) -> SlotCapacity | None:
    """The store's slot starting at ``start`` on its local ``day``, with its capacity (as
    :func:`slot_capacities_by_store` counts it); None when no slot starts then. A booking's check: only
    this slot's capacity is worked out, and a time between slots reads no shifts."""
    store_id = saved_id(store)
    settings = await settings_of(session, store_id)
    slot = slot_starting_at(store.opening_hours, store.timezone, day, settings.slot_minutes, start)
    if slot is None:
        return None
    schedule = await _days_by_store(session, {store_id: [day]})
    return _slot_capacity(
        slot, schedule.duty[store_id][day], schedule.overrides.get((store_id, day)), settings.guide_capacity
    )


def _day_slots(store: Store, day: date, settings: SlotSettings) -> list[Slot]:
    return day_slots(store.opening_hours, store.timezone, day, settings.slot_minutes)


def _slot_capacity(slot: Slot, duty: GuideDuty, override: int | None, guide_capacity: int) -> SlotCapacity:
    end = slot.local_end if slot.local_end > slot.local_start else time.max
    guides = tuple(sorted(g for g, (work, leave) in duty.items() if covered(work, leave, slot.local_start, end)))
    return SlotCapacity(slot, len(guides) * guide_capacity if override is None else override, guides)


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


async def exceptions_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, ShiftException]:
    return await rows_by_id(session, ShiftException, ids)
