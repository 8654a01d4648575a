"""The slot a booking asks for (``slot_starting_at``) is the one the day's grid (``day_slots``) has at that moment,
and there is none where the grid has none: every zone, day, hours and slot length, daylight saving included."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import example, given, settings
from hypothesis import strategies as st

from server.domains.stores.opening_hours import day_slots, slot_starting_at

ZONES = ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"]
# Days around the changes of daylight saving time, and plain ones.
DAYS = st.sampled_from([date(2026, 3, 8), date(2026, 3, 29), date(2026, 10, 25), date(2026, 11, 1)]) | st.dates(
    date(2026, 1, 1), date(2027, 12, 31)
)


def _hours(day: date, opens: time, closes: time) -> list[dict]:
    return [{"weekday": day.weekday(), "opens": opens.isoformat("minutes"), "closes": closes.isoformat("minutes")}]


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    day=DAYS,
    opens_minute=st.integers(0, 23 * 60),
    open_minutes=st.integers(0, 24 * 60),
    slot_minutes=st.sampled_from([15, 20, 30, 45, 60, 90, 120]),
    offset_minutes=st.integers(-120, 26 * 60),
)
@example(
    zone="Europe/Berlin", day=date(2026, 10, 25), opens_minute=60, open_minutes=300, slot_minutes=30, offset_minutes=90
)  # 02:00-03:00 happens twice there that night
@example(
    zone="Europe/Berlin", day=date(2026, 10, 25), opens_minute=60, open_minutes=75, slot_minutes=15, offset_minutes=60
)  # closed by 02:15 the first time: 02:00 the second time (01:00 UTC) is no slot, not the 02:00 slot of 00:00 UTC
def test_the_slot_asked_for_is_the_grid_s(zone, day, opens_minute, open_minutes, slot_minutes, offset_minutes):
    opens = time(opens_minute // 60, opens_minute % 60)
    closing_minute = min(opens_minute + open_minutes, 23 * 60 + 59)
    closes = time(closing_minute // 60, closing_minute % 60)
    hours = _hours(day, opens, closes)
    grid = day_slots(hours, zone, day, slot_minutes)
    first = {}
    for slot in grid:  # where the clocks go forward a wall-clock time that never happens repeats an instant
        first.setdefault(slot.start, slot)
    for start, slot in first.items():
        assert slot_starting_at(hours, zone, day, slot_minutes, start) == slot
    asked = datetime.combine(day, time(0), tzinfo=UTC) + timedelta(minutes=offset_minutes)
    expected = next((slot for slot in grid if slot.start == asked), None)
    assert slot_starting_at(hours, zone, day, slot_minutes, asked) == expected


def test_a_closed_day_has_no_slot():
    monday = date(2026, 12, 7)
    hours = _hours(monday + timedelta(days=1), time(10), time(22))
    assert slot_starting_at(hours, "Asia/Shanghai", monday, 30, datetime(2026, 12, 7, 3, tzinfo=UTC)) is None
