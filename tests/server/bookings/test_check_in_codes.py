"""Check-in by the 6-digit code she shows: only hers to see, only at her store, only while check-in is
open, limited against guessing, unique among the codes a store holds. Every refusal writes nothing.
"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from server.domains.bookings import codes
from tests.server.assertions import assert_forbidden, assert_user_error, run_jobs
from tests.world import login

from .helpers import SHANGHAI, arrive, book, customer, give_shifts, next_local

MONDAY = 0
CHECK_IN = """mutation($input: BookingCheckInInput!) { bookingCheckIn(input: $input) {
  booking { id status checkedInAt } errors { code field message retryAfter } } }"""
CODE = "query($id: ID!) { node(id: $id) { ... on Booking { checkInCode qrToken status } } }"
CANCEL = "mutation($id: ID!) { bookingCancel(input: {id: $id}) { errors { code } } }"
RESCHEDULE = """mutation($input: BookingRescheduleInput!) { bookingReschedule(input: $input) {
  booking { slotStart } errors { code } } }"""


async def state(db) -> dict:
    """Everything a check-in could have written."""
    queries = {
        "booking": "SELECT id, status, checked_in_at, updated_at FROM booking ORDER BY id",
        "codes": "SELECT store_id, code, booking_id FROM booking_check_in_code ORDER BY booking_id",
        "places": "SELECT person_id, upcoming FROM customer_booking_count ORDER BY person_id",
        "events": "SELECT count(*) FROM customer_event",
        "task": "SELECT id, status, assignee_id, updated_at FROM task ORDER BY id",
        "history": "SELECT count(*) FROM task_history",
        "outbox": "SELECT count(*) FROM outbox",
    }
    async with db.engine.connect() as connection:
        return {
            name: [tuple(row) for row in (await connection.execute(sa.text(sql))).all()]
            for name, sql in queries.items()
        }


async def stored_codes(db) -> dict[int, tuple[int, str]]:
    """booking id -> (store id, code)."""
    async with db.engine.connect() as connection:
        rows = (await connection.execute(sa.text("SELECT booking_id, store_id, code FROM booking_check_in_code"))).all()
    return {booking_id: (store_id, code) for booking_id, store_id, code in rows}


@pytest.fixture
async def booked(api, db, world, clock):
    """She booked Monday 15:00-15:30 in Shanghai; her token, the booking, its code and the slot."""
    await give_shifts(db, world)
    await give_shifts(db, world, "bj.guide")
    token, _ = await customer(api)
    slot = next_local(clock, MONDAY, 15)
    booking_id = (await book(api, token, world, slot))["booking"]["id"]
    code = (await api.data(CODE, {"id": booking_id}, token))["node"]["checkInCode"]
    return {"token": token, "id": booking_id, "code": code, "slot": slot}


async def check_in(api, username: str, **fields) -> dict:
    token = await login(api, username)
    return (await api.data(CHECK_IN, {"input": fields}, token))["bookingCheckIn"]


async def test_her_code_is_six_digits_for_her_eyes_only_while_she_can_be_checked_in(api, db, world, booked):
    assert re.fullmatch(r"[0-9]{6}", booked["code"])
    assert list((await stored_codes(db)).values()) == [(world.ids["shanghai"], booked["code"])]
    for staff in ("sh.guide", "sh.manager", "admin"):
        seen = (await api.data(CODE, {"id": booked["id"]}, await login(api, staff)))["node"]
        assert seen["checkInCode"] is None and seen["status"] == "CONFIRMED"
    other, _ = await customer(api, "13987654321")
    assert (await api.data(CODE, {"id": booked["id"]}, other))["node"] is None  # not hers: not even the booking


async def test_a_guide_checks_her_in_by_code_at_her_store_while_check_in_is_open(api, db, booked, clock):
    arrive(clock, booked["slot"])
    spaced = f"{booked['code'][:3]} {booked['code'][3:]}"  # as she reads it out
    checked = await check_in(api, "sh.guide", checkInCode=spaced)
    assert checked["errors"] == [] and checked["booking"]["id"] == booked["id"]
    assert checked["booking"]["status"] == "CHECKED_IN"
    her, _ = await customer(api)  # signed in again: her earlier access token has expired by now
    after = await state(db)
    assert [row[1] for row in after["booking"]] == ["CHECKED_IN"]
    assert [row[1] for row in after["task"]] == ["IN_PROGRESS"]
    async with db.engine.connect() as connection:
        visits = (
            await connection.execute(sa.text("SELECT count(*) FROM customer_event WHERE type = 'STORE_VISIT'"))
        ).scalar_one()
    assert visits == 1
    # Once checked in, her code is shown no more; typed again it answers that she is in, writing nothing.
    assert (await api.data(CODE, {"id": booked["id"]}, her))["node"]["checkInCode"] is None
    again = await check_in(api, "sh.manager", checkInCode=booked["code"])
    assert_user_error(again, "ALREADY_CHECKED_IN", ["input"], "booking")
    assert await state(db) == after


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


@pytest.mark.parametrize(
    "typed",
    [lambda code: wrong(code), lambda code: code[:5], lambda code: "12345a", lambda code: "1234567", lambda code: ""],
    ids=["another code", "five digits", "a letter", "seven digits", "empty"],
)
async def test_a_code_that_is_no_booking_is_refused_with_nothing_written(api, db, booked, clock, typed):
    arrive(clock, booked["slot"])
    before = await state(db)
    refused = await check_in(api, "sh.guide", checkInCode=typed(booked["code"]))
    assert_user_error(refused, "INVALID_CHECK_IN_CODE", ["input", "checkInCode"], "booking")
    assert await state(db) == before


async def test_another_stores_guide_cannot_use_her_code(api, db, world, booked, clock):
    arrive(clock, booked["slot"])
    before = await state(db)
    refused = await check_in(api, "bj.guide", checkInCode=booked["code"])
    assert_user_error(refused, "INVALID_CHECK_IN_CODE", ["input", "checkInCode"], "booking")
    await assert_forbidden(  # nor look it up in her store by naming it
        api,
        CHECK_IN,
        {"input": {"checkInCode": booked["code"], "storeId": world.gid("Store", "shanghai")}},
        await login(api, "bj.guide"),
    )
    assert await state(db) == before


@pytest.mark.parametrize(
    "moment",
    [
        lambda slot: slot - timedelta(days=2),
        lambda slot: slot - timedelta(minutes=60, seconds=1),
        lambda slot: slot + timedelta(minutes=30 + 30),  # the slot ends at 15:30, no-show 30 minutes later
    ],
    ids=["days early", "a second before it opens", "at the no-show time"],
)
async def test_outside_the_check_in_window_her_code_matches_nothing(api, db, booked, clock, moment):
    clock.current = moment(booked["slot"])
    before = await state(db)
    refused = await check_in(api, "sh.guide", checkInCode=booked["code"])
    assert_user_error(refused, "INVALID_CHECK_IN_CODE", ["input", "checkInCode"], "booking")
    assert await state(db) == before


async def test_the_window_edges_match(api, db, booked, clock):
    clock.current = booked["slot"] - timedelta(minutes=60)
    assert (await check_in(api, "sh.guide", checkInCode=booked["code"]))["errors"] == []


async def test_hq_names_the_store_and_staff_need_not(api, db, world, booked, clock):
    arrive(clock, booked["slot"])
    before = await state(db)
    missing = await check_in(api, "admin", checkInCode=booked["code"])
    assert_user_error(missing, "REQUIRED", ["input", "storeId"], "booking")
    elsewhere = await check_in(api, "admin", checkInCode=booked["code"], storeId=world.gid("Store", "beijing"))
    assert_user_error(elsewhere, "INVALID_CHECK_IN_CODE", ["input", "checkInCode"], "booking")
    await assert_forbidden(
        api,
        CHECK_IN,
        {"input": {"checkInCode": booked["code"], "storeId": world.gid("Store", "shanghai")}},
        await login(api, "bj.guide"),
    )
    assert await state(db) == before
    checked = await check_in(api, "admin", checkInCode=booked["code"], storeId=world.gid("Store", "shanghai"))
    assert checked["errors"] == [] and checked["booking"]["status"] == "CHECKED_IN"


@pytest.mark.parametrize(
    "fields, field",
    [
        ({}, ["input"]),
        ({"checkInCode": "123456", "qrToken": "x"}, ["input"]),
        ({"checkInCode": "123456", "bookingId": "Qm9va2luZzox"}, ["input"]),
        ({"bookingId": "Qm9va2luZzox", "storeId": "U3RvcmU6MQ=="}, ["input", "storeId"]),
    ],
    ids=["none", "code and QR", "code and booking", "store without a code"],
)
async def test_exactly_one_way_to_name_her(api, db, booked, clock, fields, field):
    arrive(clock, booked["slot"])
    before = await state(db)
    assert_user_error(await check_in(api, "sh.guide", **fields), "INVALID_VALUE", field, "booking")
    assert await state(db) == before


# --- guessing ------------------------------------------------------------------------------------


async def test_wrong_codes_are_limited_per_guide_and_per_store(app_factory, db, booked, clock):
    api = await app_factory(
        limit_wrong_check_in_codes_per_staff="2 per 10 minutes", limit_wrong_check_in_codes_per_store="3 per 10 minutes"
    )
    arrive(clock, booked["slot"])
    before = await state(db)
    for _ in range(2):
        refused = await check_in(api, "sh.guide", checkInCode=wrong(booked["code"]))
        assert_user_error(refused, "INVALID_CHECK_IN_CODE", ["input", "checkInCode"], "booking")
    limited = await check_in(api, "sh.guide", checkInCode=booked["code"])  # even the right one, now
    assert_user_error(limited, "RATE_LIMITED", ["input", "checkInCode"], "booking")
    assert 0 < limited["errors"][0]["retryAfter"] <= 600
    # Her manager has tried nothing: one wrong code fills the store's count, then the store waits too.
    refused = await check_in(api, "sh.manager", checkInCode=wrong(booked["code"]))
    assert_user_error(refused, "INVALID_CHECK_IN_CODE", ["input", "checkInCode"], "booking")
    limited = await check_in(api, "sh.manager", checkInCode=booked["code"])
    assert_user_error(limited, "RATE_LIMITED", ["input", "checkInCode"], "booking")
    assert await state(db) == before
    # Another store counts on its own; the QR code and the task are not limited.
    refused = await check_in(api, "bj.guide", checkInCode=wrong(booked["code"]))
    assert_user_error(refused, "INVALID_CHECK_IN_CODE", ["input", "checkInCode"], "booking")
    checked = await check_in(api, "sh.guide", bookingId=booked["id"])
    assert checked["errors"] == [] and checked["booking"]["status"] == "CHECKED_IN"


async def test_codes_that_match_are_not_counted(app_factory, db, world, booked, clock):
    api = await app_factory(limit_wrong_check_in_codes_per_staff="2 per 10 minutes")
    second, _ = await customer(api, "13987654321")
    other = (await book(api, second, world, booked["slot"] + timedelta(minutes=30)))["booking"]["id"]
    other_code = (await api.data(CODE, {"id": other}, second))["node"]["checkInCode"]
    arrive(clock, booked["slot"])
    assert_user_error(
        await check_in(api, "sh.guide", checkInCode=wrong(booked["code"])),
        "INVALID_CHECK_IN_CODE",
        ["input", "checkInCode"],
        "booking",
    )
    assert (await check_in(api, "sh.guide", checkInCode=booked["code"]))["errors"] == []
    assert (await check_in(api, "sh.guide", checkInCode=other_code))["errors"] == []
    # Typed again, hers answers ALREADY_CHECKED_IN: a repeat is not a guess either.
    again = await check_in(api, "sh.guide", checkInCode=booked["code"])
    assert [e["code"] for e in again["errors"]] == ["ALREADY_CHECKED_IN"]
    refused = await check_in(api, "sh.guide", checkInCode=wrong(wrong(booked["code"])))
    assert [e["code"] for e in refused["errors"]] == ["INVALID_CHECK_IN_CODE"]  # the second wrong one: not yet limited
    limited = await check_in(api, "sh.guide", checkInCode=wrong(booked["code"]))
    assert [e["code"] for e in limited["errors"]] == ["RATE_LIMITED"]


# --- uniqueness ----------------------------------------------------------------------------------


async def test_a_store_never_holds_one_code_twice_and_a_cancelled_booking_gives_it_back(
    api, db, world, clock, monkeypatch
):
    """Every draw is the same code: the first booking gets it, the others none (a QR code still checks
    them in); another store may hold it too; once the first is cancelled, the next booking gets it."""
    monkeypatch.setattr(codes, "draw", lambda: "000042")
    await give_shifts(db, world)
    await give_shifts(db, world, "bj.guide")
    slot = next_local(clock, MONDAY, 15)
    first_token, _ = await customer(api, "13811223301")
    first = (await book(api, first_token, world, slot))["booking"]["id"]
    second_token, _ = await customer(api, "13811223302")
    second = (await book(api, second_token, world, slot + timedelta(hours=1)))["booking"]["id"]
    there = (await book(api, second_token, world, slot, storeId=world.gid("Store", "beijing")))["booking"]["id"]
    seen = {
        booking: (await api.data(CODE, {"id": booking}, token))["node"]
        for booking, token in ((first, first_token), (second, second_token), (there, second_token))
    }
    assert seen[first]["checkInCode"] == "000042" and seen[there]["checkInCode"] == "000042"
    assert seen[second]["checkInCode"] is None and seen[second]["qrToken"]
    assert sorted((await stored_codes(db)).values()) == [
        (world.ids["shanghai"], "000042"),
        (world.ids["beijing"], "000042"),
    ]
    assert (await api.data(CANCEL, {"id": first}, first_token))["bookingCancel"]["errors"] == []
    third_token, _ = await customer(api, "13811223303")
    third = (await book(api, third_token, world, slot + timedelta(hours=2)))["booking"]["id"]
    assert (await api.data(CODE, {"id": third}, third_token))["node"]["checkInCode"] == "000042"


async def test_many_bookings_at_one_store_get_distinct_codes_even_from_a_small_pool(api, db, world, clock, monkeypatch):
    """Draws from six codes with repeats: twelve bookings racing at one store take six distinct codes
    (the rest get none rather than a shared one), and nothing fails."""
    pool = [f"{n:06d}" for n in range(6)]
    draws = iter(pool * 1000)
    monkeypatch.setattr(codes, "draw", lambda: next(draws))
    await give_shifts(db, world)
    monday = next_local(clock, MONDAY, 10)
    override = """mutation($input: SlotCapacityOverrideInput!) { slotCapacityOverrideSet(input: $input) { ok } }"""
    manager = await login(api, "sh.manager")
    day = monday.astimezone(SHANGHAI).date().isoformat()
    store = world.gid("Store", "shanghai")
    assert (await api.data(override, {"input": {"storeId": store, "day": day, "capacity": 12}}, manager))[
        "slotCapacityOverrideSet"
    ]["ok"]
    tokens = [(await customer(api, f"137{12345600 + n}"))[0] for n in range(12)]
    answers = await asyncio.gather(*(book(api, token, world, monday) for token in tokens))
    assert [a["errors"] for a in answers] == [[]] * 12
    held = await stored_codes(db)
    assert sorted(code for _store, code in held.values()) == pool


async def test_a_rescheduled_booking_keeps_its_code_and_housekeeping_gives_back_spent_ones(
    api, db, world, booked, clock
):
    moved = {"id": booked["id"], "slotStart": (booked["slot"] + timedelta(hours=1)).isoformat()}
    assert (await api.data(RESCHEDULE, {"input": moved}, booked["token"]))["bookingReschedule"]["errors"] == []
    assert (await api.data(CODE, {"id": booked["id"]}, booked["token"]))["node"]["checkInCode"] == booked["code"]
    slot = booked["slot"] + timedelta(hours=1)
    arrive(clock, slot)
    assert (await check_in(api, "sh.guide", checkInCode=booked["code"]))["errors"] == []
    clock.current = slot + timedelta(hours=12)
    await run_jobs(api)
    assert len(await stored_codes(db)) == 1  # still within a day of its window: kept
    clock.current = slot + timedelta(days=1, hours=2)  # its window closed (15:30 + 30 minutes) over a day ago
    await run_jobs(api)
    assert await stored_codes(db) == {}


async def test_a_no_show_gives_its_code_back(api, db, booked, clock):
    clock.current = booked["slot"] + timedelta(hours=1)
    assert (await run_jobs(api))["mark_no_shows"] == 1
    assert await stored_codes(db) == {}


# --- races -----------------------------------------------------------------------------------------


async def test_two_guides_typing_her_code_at_once_check_her_in_once(api, db, booked, clock):
    arrive(clock, booked["slot"])
    guide, manager = await login(api, "sh.guide"), await login(api, "sh.manager")
    answers = await asyncio.gather(
        *(
            api.data(CHECK_IN, {"input": {"checkInCode": booked["code"]}}, token)
            for token in (guide, manager, guide, manager)
        )
    )
    outcomes = sorted(tuple(e["code"] for e in a["bookingCheckIn"]["errors"]) for a in answers)
    assert outcomes == [(), ("ALREADY_CHECKED_IN",), ("ALREADY_CHECKED_IN",), ("ALREADY_CHECKED_IN",)]
    async with db.engine.connect() as connection:
        visits = (
            await connection.execute(sa.text("SELECT count(*) FROM customer_event WHERE type = 'STORE_VISIT'"))
        ).scalar_one()
        started = (
            await connection.execute(sa.text("SELECT count(*) FROM task_history WHERE action = 'STARTED'"))
        ).scalar_one()
    assert (visits, started) == (1, 1)
