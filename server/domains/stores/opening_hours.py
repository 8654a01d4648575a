"""A store's opening hours and slot grid: pure time arithmetic in its local time (no database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Interval = tuple[time, time]


@dataclass(frozen=True)
class Slot:
    day: date  # store-local
    local_start: time
    local_end: time
    start: datetime  # UTC
    end: datetime  # UTC


def parse_hhmm(value: str) -> time:
    return time.fromisoformat(value)


def opening_interval(opening_hours: list[dict], day: date) -> Interval | None:
    """The store's hours on ``day`` (a local date), or None on a closed day."""
    for hours in opening_hours:
        if hours["weekday"] == day.weekday():
            return parse_hhmm(hours["opens"]), parse_hhmm(hours["closes"])
    return None


def day_slots(opening_hours: list[dict], timezone: str, day: date, slot_minutes: int) -> list[Slot]:
    """Slots of ``slot_minutes`` from opening until the last that ends by closing."""
    interval = opening_interval(opening_hours, day)
    if interval is None:
        return []
    zone = ZoneInfo(timezone)
    opens = datetime.combine(day, interval[0], tzinfo=zone)
    closes = datetime.combine(day, interval[1], tzinfo=zone)
    step = timedelta(minutes=slot_minutes)
    slots, start = [], opens
    while start + step <= closes:
        end = start + step
        slots.append(Slot(day, start.time(), end.time(), start.astimezone(UTC), end.astimezone(UTC)))
        start += step
    return slots


def slot_starting_at(
    opening_hours: list[dict], timezone: str, day: date, slot_minutes: int, start: datetime
) -> Slot | None:
    """The slot of :func:`day_slots` that starts at ``start`` (aware), or None; without making the day's others
    (every booking asks for one)."""
    interval = opening_interval(opening_hours, day)
    if interval is None:
        return None
    zone = ZoneInfo(timezone)
    opens = datetime.combine(day, interval[0], tzinfo=zone)
    closes = datetime.combine(day, interval[1], tzinfo=zone)
    if not _one_offset(opens, closes):  # the clocks change while it is open: as the grid has it
        return next(
            (slot for slot in day_slots(opening_hours, timezone, day, slot_minutes) if slot.start == start), None
        )
    step = timedelta(minutes=slot_minutes)
    steps, off_grid = divmod(start.astimezone(zone) - opens, step)  # same zone: wall-clock time, as day_slots steps
    local_start = opens + steps * step
    local_end = local_start + step
    utc_start = local_start.astimezone(UTC)
    # An instant in the hour that repeats after the day's hours (02:30 the second time, when the store closes at
    # 02:45 the first) reads as a wall-clock time of the grid: it is still not that slot's instant.
    if steps < 0 or off_grid or local_end > closes or utc_start != start:
        return None
    return Slot(day, local_start.time(), local_end.time(), utc_start, local_end.astimezone(UTC))


def _one_offset(*moments: datetime) -> bool:
    """Whether these local times all exist and share one offset from UTC (then wall-clock and UTC steps agree)."""
    offsets = {moment.utcoffset() for moment in moments}
    offsets |= {moment.astimezone(UTC).astimezone(moment.tzinfo).utcoffset() for moment in moments}
    return len(offsets) == 1


def local_day(moment: datetime, timezone: str) -> date:
    return moment.astimezone(ZoneInfo(timezone)).date()


def covered(intervals: list[Interval], leave: list[Interval], start: time, end: time) -> bool:
    """Whether [start, end) lies inside one working interval and overlaps no leave."""
    if any(l_start < end and start < l_end for l_start, l_end in leave):
        return False
    return any(w_start <= start and end <= w_end for w_start, w_end in intervals)


def minutes_of(moment: time) -> int:
    return moment.hour * 60 + moment.minute
