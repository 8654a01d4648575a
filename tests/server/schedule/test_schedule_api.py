"""Shifts and slot settings through the API, as availableSlots shows them; bad input writes nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from server.domains.schedule.models import ShiftException
from tests.conftest import answered_nothing
from tests.server.bookings.helpers import SHANGHAI, SLOTS, book, customer, give_shifts, next_local
from tests.world import gid

MONDAY, TUESDAY, SUNDAY = 0, 1, 6
ALL_DAY = [f"{h:02d}:{m:02d}" for h in range(10, 22) for m in (0, 30)]  # 10:00 … 21:30
SHIFTS_SET = """mutation($staff: ID!, $shifts: [WeeklyShiftInput!]!) { shiftsSet(staffId: $staff, shifts: $shifts) {
  shifts { weekday starts ends } errors { code field } } }"""
EXCEPTION_ADD = """mutation($input: ShiftExceptionAddInput!) { shiftExceptionAdd(input: $input) {
  shiftException { id day kind starts ends } errors { code field } } }"""
EXCEPTION_REMOVE = """mutation($id: ID!) { shiftExceptionRemove(id: $id) { removedId errors { code field } } }"""
SETTINGS_UPDATE = """mutation($input: SlotSettingsUpdateInput!) { slotSettingsUpdate(input: $input) {
  settings { slotMinutes guideCapacity leadMinutes } errors { code field } } }"""
OVERRIDE = """mutation($input: SlotCapacityOverrideInput!) { slotCapacityOverrideSet(input: $input) {
  ok errors { code field } } }"""
SCHEDULE_TABLES = ("shift_pattern", "shift_exception", "store_slot_settings", "slot_capacity_override")


def local_date(clock, weekday: int) -> date:
    """The next store-local date of this weekday (at least a day ahead)."""
    return next_local(clock, weekday, 12).astimezone(SHANGHAI).date()


async def slots(api, token: str, world, first: date, last: date | None = None) -> list[dict]:
    variables = {"store": world.gid("Store", "shanghai"), "from": first.isoformat(), "to": (last or first).isoformat()}
    return (await api.data(SLOTS, variables, token))["availableSlots"]


async def seats(api, token: str, world, day: date) -> dict[str, tuple[int, int]]:
    """Local start (HH:MM) -> (capacity, remaining) of the day's slots."""
    return {s["localTime"][:5]: (s["capacity"], s["remaining"]) for s in await slots(api, token, world, day)}


def staffed(day_seats: dict[str, tuple[int, int]]) -> list[str]:
    return [start for start, (capacity, _) in day_seats.items() if capacity]


async def schedule_rows(db) -> dict[str, list]:
    async with db.engine.connect() as connection:
        return {
            table: sorted(map(tuple, (await connection.execute(sa.text(f'SELECT * FROM "{table}"'))).all()), key=repr)
            for table in SCHEDULE_TABLES
        }


def guide(world) -> str:
    return world.gid("StaffUser", "sh.guide")


async def test_a_weekly_pattern_staffs_its_hours_on_its_weekdays_and_a_new_one_replaces_it(
    api, db, world, clock, token_for
):
    manager = await token_for("sh.manager")
    monday, tuesday = local_date(clock, MONDAY), local_date(clock, TUESDAY)
    pattern = [
        {"weekday": "MONDAY", "starts": "14:00", "ends": "15:00"},
        {"weekday": "MONDAY", "starts": "10:00", "ends": "11:00"},
    ]
    saved = (await api.data(SHIFTS_SET, {"staff": guide(world), "shifts": pattern}, manager))["shiftsSet"]
    assert saved["errors"] == []
    assert [(s["weekday"], s["starts"][:5], s["ends"][:5]) for s in saved["shifts"]] == [
        ("MONDAY", "10:00", "11:00"),
        ("MONDAY", "14:00", "15:00"),
    ]
    monday_seats = await seats(api, manager, world, monday)
    assert list(monday_seats) == ALL_DAY  # every slot of the opening hours is listed
    assert staffed(monday_seats) == ["10:00", "10:30", "14:00", "14:30"]
    assert {monday_seats[t] for t in staffed(monday_seats)} == {(1, 1)}
    assert staffed(await seats(api, manager, world, tuesday)) == []

    again = [{"weekday": "TUESDAY", "starts": "10:00", "ends": "22:00"}]
    assert (await api.data(SHIFTS_SET, {"staff": guide(world), "shifts": again}, manager))["shiftsSet"]["errors"] == []
    assert staffed(await seats(api, manager, world, monday)) == []
    assert staffed(await seats(api, manager, world, tuesday)) == ALL_DAY


async def test_leave_takes_a_guide_off_and_removing_it_puts_him_back(api, db, world, clock, token_for):
    await give_shifts(db, world)
    manager = await token_for("sh.manager")
    monday, tuesday = local_date(clock, MONDAY), local_date(clock, TUESDAY)
    whole_day = await api.data(
        EXCEPTION_ADD,
        {"input": {"staffId": guide(world), "day": monday.isoformat(), "kind": "LEAVE", "note": "年假"}},
        manager,
    )
    whole_day = whole_day["shiftExceptionAdd"]
    assert whole_day["errors"] == [] and whole_day["shiftException"]["starts"] is None
    partial = (
        await api.data(
            EXCEPTION_ADD,
            {
                "input": {
                    "staffId": guide(world),
                    "day": tuesday.isoformat(),
                    "kind": "LEAVE",
                    "starts": "14:00",
                    "ends": "15:00",
                }
            },
            manager,
        )
    )["shiftExceptionAdd"]
    assert partial["errors"] == []
    assert staffed(await seats(api, manager, world, monday)) == []
    assert staffed(await seats(api, manager, world, tuesday)) == [t for t in ALL_DAY if t not in ("14:00", "14:30")]

    removed = await api.data(EXCEPTION_REMOVE, {"id": whole_day["shiftException"]["id"]}, manager)
    assert removed["shiftExceptionRemove"] == {"removedId": whole_day["shiftException"]["id"], "errors": []}
    assert staffed(await seats(api, manager, world, monday)) == ALL_DAY
    assert len((await schedule_rows(db))["shift_exception"]) == 1  # the Tuesday leave stays


async def test_an_extra_shift_staffs_that_date_only(api, db, world, clock, token_for):
    manager = await token_for("sh.manager")
    monday = local_date(clock, MONDAY)
    extra = (
        await api.data(
            EXCEPTION_ADD,
            {
                "input": {
                    "staffId": guide(world),
                    "day": monday.isoformat(),
                    "kind": "EXTRA",
                    "starts": "18:00",
                    "ends": "20:00",
                }
            },
            manager,
        )
    )["shiftExceptionAdd"]
    assert extra["errors"] == [] and extra["shiftException"]["kind"] == "EXTRA"
    assert staffed(await seats(api, manager, world, monday)) == ["18:00", "18:30", "19:00", "19:30"]
    assert staffed(await seats(api, manager, world, monday + timedelta(days=7))) == []


async def test_slot_length_and_per_guide_capacity_cut_and_fill_the_slots(api, db, world, clock, token_for):
    await give_shifts(db, world)
    manager = await token_for("sh.manager")
    updated = await api.data(
        SETTINGS_UPDATE,
        {"input": {"storeId": world.gid("Store", "shanghai"), "slotMinutes": 60, "guideCapacity": 2}},
        manager,
    )
    assert updated["slotSettingsUpdate"] == {
        "settings": {"slotMinutes": 60, "guideCapacity": 2, "leadMinutes": 30},
        "errors": [],
    }
    day = await slots(api, manager, world, local_date(clock, MONDAY))
    assert [s["localTime"][:5] for s in day] == [f"{h:02d}:00" for h in range(10, 22)]
    assert {(s["capacity"], s["remaining"]) for s in day} == {(2, 2)}
    assert day[0]["end"][11:16] == day[1]["start"][11:16]  # an hour each, back to back


async def test_booking_closes_the_lead_time_before_a_slot(api, db, world, clock, token_for):
    await give_shifts(db, world)
    clock.current = next_local(clock, MONDAY, 12, 50)  # before signing in: tokens follow the clock
    manager = await token_for("sh.manager")
    today = clock.now().astimezone(SHANGHAI).date()
    assert (await slots(api, manager, world, today))[0]["localTime"][:5] == "13:30"  # default lead: 30 min
    await api.data(SETTINGS_UPDATE, {"input": {"storeId": world.gid("Store", "shanghai"), "leadMinutes": 120}}, manager)
    assert (await slots(api, manager, world, today))[0]["localTime"][:5] == "15:00"
    tomorrow = await slots(api, manager, world, today + timedelta(days=1))
    assert tomorrow[0]["localTime"][:5] == "10:00"


async def test_a_capacity_override_replaces_the_shifts_for_that_date_and_null_clears_it(
    api, db, world, clock, token_for
):
    await give_shifts(db, world)
    manager = await token_for("sh.manager")
    monday = local_date(clock, MONDAY)
    token, _ = await customer(api)
    assert (await book(api, token, world, next_local(clock, MONDAY, 15)))["errors"] == []
    store = world.gid("Store", "shanghai")

    async def override(capacity):
        payload = (
            await api.data(
                OVERRIDE, {"input": {"storeId": store, "day": monday.isoformat(), "capacity": capacity}}, manager
            )
        )["slotCapacityOverrideSet"]
        assert payload == {"ok": True, "errors": []}

    await override(3)
    monday_seats = await seats(api, manager, world, monday)
    assert monday_seats["15:00"] == (3, 2) and monday_seats["10:00"] == (3, 3)
    assert set((await seats(api, manager, world, monday + timedelta(days=1))).values()) == {(1, 1)}
    await override(0)
    assert set((await seats(api, manager, world, monday)).values()) == {(0, 0)}
    await override(None)
    monday_seats = await seats(api, manager, world, monday)
    assert monday_seats["15:00"] == (1, 0) and monday_seats["10:00"] == (1, 1)
    assert (await schedule_rows(db))["slot_capacity_override"] == []


async def test_available_slots_leave_out_closed_days_past_slots_and_the_lead_time(api, db, world, clock, token_for):
    await give_shifts(db, world)
    clock.current = next_local(clock, MONDAY, 12, 50)
    today = clock.now().astimezone(SHANGHAI).date()
    token, _ = await customer(api)
    listed = await slots(api, token, world, today - timedelta(days=2), today + timedelta(days=6))  # Sat … Sun
    by_day: dict[str, list[str]] = {}
    for slot in listed:
        by_day.setdefault(slot["localDate"], []).append(slot["localTime"][:5])
    assert list(by_day) == [(today + timedelta(days=n)).isoformat() for n in range(6)]  # no past Sat, no Sunday
    assert by_day[today.isoformat()] == [t for t in ALL_DAY if t >= "13:30"]
    assert all(times == ALL_DAY for day, times in by_day.items() if day != today.isoformat())
    assert local_date(clock, SUNDAY).isoformat() not in by_day


# --- bad input ---------------------------------------------------------------------------------


def bad_inputs(world, day: str, exception_id: int) -> dict:
    store, sh_guide = world.gid("Store", "shanghai"), guide(world)

    def exception(**fields):
        return EXCEPTION_ADD, {"input": {"staffId": sh_guide, "day": day, **fields}}, "shiftExceptionAdd"

    def settings(**fields):
        return SETTINGS_UPDATE, {"input": {"storeId": store, **fields}}, "slotSettingsUpdate"

    def shifts(*shifts, staff=sh_guide):
        return (
            SHIFTS_SET,
            {"staff": staff, "shifts": [dict(zip(("weekday", "starts", "ends"), s, strict=False)) for s in shifts]},
            "shiftsSet",
        )

    return {
        "shift ending before it starts": (*shifts(("MONDAY", "18:00", "10:00")), "INVALID_SHIFT", ["shifts", "0"]),
        "overlapping shifts": (
            *shifts(("MONDAY", "10:00", "14:00"), ("MONDAY", "13:00", "18:00")),
            "INVALID_SHIFT",
            ["shifts", "1"],
        ),
        "shift off the 5-minute grid": (*shifts(("MONDAY", "10:03", "14:00")), "INVALID_SHIFT", ["shifts", "0"]),
        "shifts of an unknown guide": (
            *shifts(("MONDAY", "10:00", "14:00"), staff=gid("StaffUser", 9999)),
            "NOT_FOUND",
            ["staffId"],
        ),
        "shifts of a manager": (
            *shifts(("MONDAY", "10:00", "14:00"), staff=world.gid("StaffUser", "sh.manager")),
            "NOT_A_GUIDE",
            ["staffId"],
        ),
        "extra shift without times": (*exception(kind="EXTRA"), "INVALID_SHIFT", ["input"]),
        "leave ending before it starts": (
            *exception(kind="LEAVE", starts="15:00", ends="14:00"),
            "INVALID_SHIFT",
            ["input"],
        ),
        "exception of an unknown guide": (
            EXCEPTION_ADD,
            {"input": {"staffId": gid("StaffUser", 9999), "day": day, "kind": "LEAVE"}},
            "shiftExceptionAdd",
            "NOT_FOUND",
            ["input", "staffId"],
        ),
        "removing an unknown exception": (
            EXCEPTION_REMOVE,
            {"id": gid("ShiftException", exception_id + 100)},
            "shiftExceptionRemove",
            "NOT_FOUND",
            ["id"],
        ),
        "slot length off the menu": (*settings(slotMinutes=25), "INVALID_VALUE", ["input", "slotMinutes"]),
        "no seat per guide": (*settings(guideCapacity=0), "OUT_OF_RANGE", ["input", "guideCapacity"]),
        "negative lead time": (*settings(leadMinutes=-5), "OUT_OF_RANGE", ["input", "leadMinutes"]),
        "negative capacity override": (
            OVERRIDE,
            {"input": {"storeId": store, "day": day, "capacity": -1}},
            "slotCapacityOverrideSet",
            "OUT_OF_RANGE",
            ["input", "capacity"],
        ),
    }


@pytest.fixture
async def scheduled(db, world, clock):
    """The Shanghai guide's weekly pattern and one leave: what a refused change must leave alone."""
    await give_shifts(db, world)
    async with db.writer() as session:
        leave = ShiftException(
            staff_id=world.ids["sh.guide"],
            store_id=world.ids["shanghai"],
            day=local_date(clock, MONDAY),
            kind="LEAVE",
            note="",
        )
        session.add(leave)
        await session.commit()
        world.ids["leave"] = leave.id
    return world


BAD_CASES = [
    "shift ending before it starts",
    "overlapping shifts",
    "shift off the 5-minute grid",
    "shifts of an unknown guide",
    "shifts of a manager",
    "extra shift without times",
    "leave ending before it starts",
    "exception of an unknown guide",
    "removing an unknown exception",
    "slot length off the menu",
    "no seat per guide",
    "negative lead time",
    "negative capacity override",
]


@pytest.mark.parametrize("case", BAD_CASES)
async def test_bad_schedule_input_is_refused_with_nothing_written(api, db, scheduled, clock, token_for, case):
    query, variables, name, code, field = bad_inputs(
        scheduled, local_date(clock, TUESDAY).isoformat(), scheduled.ids["leave"]
    )[case]
    before = await schedule_rows(db)
    payload = (await api.data(query, variables, await token_for("sh.manager")))[name]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)], payload
    assert all(value in (None, False) for key, value in payload.items() if key != "errors")
    assert await schedule_rows(db) == before


async def test_an_unknown_store_is_not_found(api, db, world, clock, token_for):
    admin = await token_for("admin")
    for query, name, extra in (
        (SETTINGS_UPDATE, "slotSettingsUpdate", {"slotMinutes": 60}),
        (OVERRIDE, "slotCapacityOverrideSet", {"day": "2030-01-07", "capacity": 2}),
    ):
        payload = (await api.data(query, {"input": {"storeId": gid("Store", 999), **extra}}, admin))[name]
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_FOUND", ["input", "storeId"])]
    assert all(rows == [] for rows in (await schedule_rows(db)).values())


async def test_shifts_set_errors_point_at_its_own_arguments(api, world, token_for):
    manager = await token_for("sh.manager")
    bad = (
        await api.data(
            SHIFTS_SET,
            {"staff": guide(world), "shifts": [{"weekday": "MONDAY", "starts": "18:00", "ends": "10:00"}]},
            manager,
        )
    )["shiftsSet"]
    unknown = (await api.data(SHIFTS_SET, {"staff": gid("StaffUser", 9999), "shifts": []}, manager))["shiftsSet"]
    assert bad["errors"] == [{"code": "INVALID_SHIFT", "field": ["shifts", "0"]}]
    assert unknown["errors"] == [{"code": "NOT_FOUND", "field": ["staffId"]}]


async def test_another_stores_manager_and_a_guide_may_not_change_the_schedule(api, db, scheduled, clock, token_for):
    world, day = scheduled, local_date(clock, TUESDAY).isoformat()
    store, sh_guide = world.gid("Store", "shanghai"), guide(world)
    attempts = [
        (SHIFTS_SET, {"staff": sh_guide, "shifts": [{"weekday": "MONDAY", "starts": "10:00", "ends": "12:00"}]}),
        (EXCEPTION_ADD, {"input": {"staffId": sh_guide, "day": day, "kind": "LEAVE"}}),
        (EXCEPTION_REMOVE, {"id": gid("ShiftException", world.ids["leave"])}),
        (SETTINGS_UPDATE, {"input": {"storeId": store, "slotMinutes": 60}}),
        (OVERRIDE, {"input": {"storeId": store, "day": day, "capacity": 5}}),
    ]
    before = await schedule_rows(db)
    for username in ("bj.manager", "sh.guide"):
        token = await token_for(username)
        for query, variables in attempts:
            body = await api(query, variables, token)
            assert answered_nothing(body), body
            assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], (username, query, body)
    assert await schedule_rows(db) == before
