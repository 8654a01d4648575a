"""The rules of a visit: one place at a time per customer, check-in on time, a ticked step means a handled task.

Each refusal is a user error with its code, and nothing is written.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.server.assertions import assert_user_error
from tests.world import login

from .helpers import BOOK, SHANGHAI, arrive, book, booking_input, customer, give_shifts, iso, next_local

MONDAY = 0
RESCHEDULE = """mutation($input: BookingRescheduleInput!) { bookingReschedule(input: $input) {
  booking { slotStart status } errors { code field } } }"""
CHECK_IN = """mutation($input: BookingCheckInInput!) { bookingCheckIn(input: $input) {
  booking { status checkedInAt } errors { code field message } } }"""
QR = "query($id: ID!) { node(id: $id) { ... on Booking { qrToken } } }"
CANCEL = "mutation($id: ID!) { bookingCancel(input: {id: $id}) { errors { code } } }"
SLOT_SETTINGS = """mutation($input: SlotSettingsUpdateInput!) { slotSettingsUpdate(input: $input) {
  errors { code field } } }"""
TASKS = """query { myTaskList { edges { node { id status ackDueAt assignee { id } history { action } } } } }"""
STEP = """mutation($id: ID!, $p: Int!) { taskStepComplete(taskId: $id, position: $p) {
  task { status ackDueAt steps { doneAt } } errors { code field } } }"""
QUEUE = """query($s: ID!) { storeTasks(storeId: $s, unassignedOnly: true) { edges { node { id } } } }"""
OVERRIDE = """mutation($input: SlotCapacityOverrideInput!) { slotCapacityOverrideSet(input: $input) { ok } }"""


async def state(db) -> dict:
    """Everything a booking rule could have written."""
    queries = {
        "booking": "SELECT id, store_id, slot_start, status, checked_in_at, updated_at FROM booking ORDER BY id",
        "seats": "SELECT store_id, slot_start, booked FROM slot_ledger ORDER BY store_id, slot_start",
        "places": "SELECT person_id, upcoming FROM customer_booking_count ORDER BY person_id",
        "events": "SELECT count(*) FROM customer_event",
        "task": "SELECT id, status, assignee_id, ack_due_at, updated_at FROM task ORDER BY id",
        "steps": "SELECT task_id, position, done_at FROM task_step ORDER BY task_id, position",
        "history": "SELECT count(*) FROM task_history",
        "outbox": "SELECT count(*) FROM outbox",
    }
    async with db.engine.connect() as connection:
        return {
            name: [tuple(row) for row in (await connection.execute(sa.text(sql))).all()]
            for name, sql in queries.items()
        }


@pytest.fixture
async def both_stores(db, world):
    """A guide on shift all day in Shanghai and in Beijing."""
    await give_shifts(db, world, "sh.guide")
    await give_shifts(db, world, "bj.guide")
    return world


def in_beijing(world) -> dict:
    return {"storeId": world.gid("Store", "beijing")}


# --- one place at a time -------------------------------------------------------------------------


async def test_she_cannot_book_two_stores_for_the_same_moment(api, db, both_stores, clock):
    world = both_stores
    token, _ = await customer(api)
    slot = next_local(clock, MONDAY, 15)
    assert (await book(api, token, world, slot))["errors"] == []
    before = await state(db)
    refused = await book(api, token, world, slot, **in_beijing(world))
    assert_user_error(refused, "OVERLAPPING_BOOKING", ["input", "slotStart"], "booking")
    assert await state(db) == before
    assert (await book(api, token, world, slot + timedelta(minutes=30), **in_beijing(world)))["errors"] == []


async def test_staff_cannot_book_her_into_an_overlap_either(api, db, both_stores, clock, token_for):
    world = both_stores
    token, customer_id = await customer(api)
    slot = next_local(clock, MONDAY, 15)
    assert (await book(api, token, world, slot))["errors"] == []
    before = await state(db)
    payload = (
        await api.data(
            BOOK,
            {"input": booking_input(world, slot, customerId=customer_id, **in_beijing(world))},
            await token_for("bj.manager"),
        )
    )["bookingCreate"]
    assert_user_error(payload, "OVERLAPPING_BOOKING", ["input", "slotStart"], "booking")
    assert await state(db) == before


async def test_slots_of_different_lengths_overlap_when_their_times_meet(api, db, both_stores, clock, token_for):
    world = both_stores
    hour_long = {"input": {"storeId": world.gid("Store", "beijing"), "slotMinutes": 60}}
    assert (await api.data(SLOT_SETTINGS, hour_long, await token_for("admin")))["slotSettingsUpdate"]["errors"] == []
    token, _ = await customer(api)
    assert (await book(api, token, world, next_local(clock, MONDAY, 15, 30)))["errors"] == []  # 15:30-16:00
    before = await state(db)
    refused = await book(api, token, world, next_local(clock, MONDAY, 15), **in_beijing(world))  # 15:00-16:00
    assert_user_error(refused, "OVERLAPPING_BOOKING", ["input", "slotStart"], "booking")
    assert await state(db) == before
    assert (await book(api, token, world, next_local(clock, MONDAY, 16), **in_beijing(world)))["errors"] == []


async def test_a_cancelled_booking_leaves_her_time_free(api, db, both_stores, clock):
    world = both_stores
    token, _ = await customer(api)
    slot = next_local(clock, MONDAY, 15)
    first = (await book(api, token, world, slot))["booking"]["id"]
    assert (await api.data(CANCEL, {"id": first}, token))["bookingCancel"]["errors"] == []
    assert (await book(api, token, world, slot, **in_beijing(world)))["errors"] == []


async def test_another_customer_is_not_held_by_her_bookings(api, both_stores, clock):
    world = both_stores
    slot = next_local(clock, MONDAY, 15)
    hers, _ = await customer(api, "13812345678")
    his, _ = await customer(api, "13912345678")
    assert (await book(api, hers, world, slot))["errors"] == []
    assert (await book(api, his, world, slot, **in_beijing(world)))["errors"] == []


async def test_a_checked_in_visit_holds_her_time_too(api, db, both_stores, clock, token_for):
    world = both_stores
    hour_long = {"input": {"storeId": world.gid("Store", "shanghai"), "slotMinutes": 60}}
    assert (await api.data(SLOT_SETTINGS, hour_long, await token_for("admin")))["slotSettingsUpdate"]["errors"] == []
    token, _ = await customer(api)
    slot = next_local(clock, MONDAY, 15)  # 15:00-16:00 in Shanghai
    booking = (await book(api, token, world, slot))["booking"]["id"]
    arrive(clock, slot)
    checked = await api.data(CHECK_IN, {"input": {"bookingId": booking}}, await token_for("sh.guide"))
    assert checked["bookingCheckIn"]["errors"] == []
    token, _ = await customer(api)
    before = await state(db)
    refused = await book(api, token, world, slot + timedelta(minutes=30), **in_beijing(world))  # 15:30 in Beijing
    assert_user_error(refused, "OVERLAPPING_BOOKING", ["input", "slotStart"], "booking")
    assert await state(db) == before


async def test_a_reschedule_into_her_other_booking_is_refused(api, db, both_stores, clock):
    world = both_stores
    token, _ = await customer(api)
    here, there = next_local(clock, MONDAY, 15), next_local(clock, MONDAY, 17)
    shanghai = (await book(api, token, world, here))["booking"]["id"]
    assert (await book(api, token, world, there, **in_beijing(world)))["errors"] == []
    before = await state(db)
    moved = await api.data(RESCHEDULE, {"input": {"id": shanghai, "slotStart": iso(there)}}, token)
    assert_user_error(moved["bookingReschedule"], "OVERLAPPING_BOOKING", ["input", "slotStart"], "booking")
    assert await state(db) == before
    nearby = here + timedelta(minutes=30)  # overlaps only the booking being moved: allowed
    moved = await api.data(RESCHEDULE, {"input": {"id": shanghai, "slotStart": iso(nearby)}}, token)
    assert moved["bookingReschedule"] == {"booking": {"slotStart": iso(nearby), "status": "CONFIRMED"}, "errors": []}


# --- check-in on time ----------------------------------------------------------------------------


@pytest.fixture
async def booked(api, db, world, clock):
    """She booked Monday 15:00-15:30 in Shanghai; her QR code; the slot start."""
    await give_shifts(db, world)
    token, _ = await customer(api)
    slot = next_local(clock, MONDAY, 15)
    booking_id = (await book(api, token, world, slot))["booking"]["id"]
    qr = (await api.data(QR, {"id": booking_id}, token))["node"]["qrToken"]
    return {"id": booking_id, "qr": qr, "slot": slot}


def check_in_by(path: str, booked: dict) -> dict:
    return {"input": {"qrToken": booked["qr"]} if path == "qrToken" else {"bookingId": booked["id"]}}


async def check_in(api, username: str, path: str, booked: dict, token_for) -> dict:
    return (await api.data(CHECK_IN, check_in_by(path, booked), await token_for(username)))["bookingCheckIn"]


@pytest.mark.parametrize("path", ["qrToken", "bookingId"])
async def test_check_in_opens_an_hour_before_the_slot(api, db, booked, clock, token_for, path):
    clock.current = booked["slot"] - timedelta(days=2)  # two days early, as was found
    before = await state(db)
    early = await check_in(api, "sh.guide", path, booked, token_for)
    assert_user_error(early, "CHECK_IN_TOO_EARLY", ["input"], "booking")
    opens = booked["slot"] - timedelta(hours=1)
    assert iso(opens) in early["errors"][0]["message"]
    clock.current = opens - timedelta(seconds=1)
    assert_user_error(
        await check_in(api, "sh.guide", path, booked, token_for), "CHECK_IN_TOO_EARLY", ["input"], "booking"
    )
    assert await state(db) == before
    clock.current = opens
    on_time = await check_in(api, "sh.guide", path, booked, token_for)
    assert on_time["errors"] == [] and on_time["booking"]["status"] == "CHECKED_IN"


@pytest.mark.parametrize("path", ["qrToken", "bookingId"])
async def test_check_in_closes_at_the_no_show_time(api, db, booked, clock, token_for, path):
    no_show = booked["slot"] + timedelta(minutes=30 + 30)  # the slot ends at 15:30; no-show 30 minutes later
    clock.current = no_show
    before = await state(db)
    late = await check_in(api, "sh.manager", path, booked, token_for)
    assert_user_error(late, "CHECK_IN_TOO_LATE", ["input"], "booking")
    assert await state(db) == before
    clock.current = no_show - timedelta(seconds=1)
    assert (await check_in(api, "sh.manager", path, booked, token_for))["errors"] == []


async def test_a_no_show_stays_a_no_show(api, db, booked, clock, token_for):
    clock.current = booked["slot"] + timedelta(hours=1)
    assert (await api.app.state.scheduler.run_once())["mark_no_shows"] == 1
    before = await state(db)
    refused = await check_in(api, "sh.guide", "qrToken", booked, token_for)
    assert_user_error(refused, "INVALID_STATE", ["input"], "booking")
    assert await state(db) == before


async def test_the_check_in_window_follows_the_settings(app_factory, db, booked, clock):
    api = await app_factory(check_in_opens_minutes=15, no_show_minutes=0)

    async def check_in_at(moment) -> dict:
        clock.current = moment
        guide = await login(api, "sh.guide")
        return (await api.data(CHECK_IN, check_in_by("bookingId", booked), guide))["bookingCheckIn"]

    before = await state(db)
    early = await check_in_at(booked["slot"] - timedelta(minutes=16))
    assert_user_error(early, "CHECK_IN_TOO_EARLY", ["input"], "booking")
    late = await check_in_at(booked["slot"] + timedelta(minutes=30))  # the slot's end is its no-show time
    assert_user_error(late, "CHECK_IN_TOO_LATE", ["input"], "booking")
    assert await state(db) == before
    assert (await check_in_at(booked["slot"] - timedelta(minutes=15)))["errors"] == []


# --- a ticked step acknowledges the task ---------------------------------------------------------


async def test_ticking_a_step_of_an_open_task_acknowledges_it(api, db, booked, clock, token_for):
    guide = await token_for("sh.guide")
    [edge] = (await api.data(TASKS, token=guide))["myTaskList"]["edges"]
    assert edge["node"]["status"] == "OPEN" and edge["node"]["ackDueAt"] is not None
    ticked = (await api.data(STEP, {"id": edge["node"]["id"], "p": 0}, guide))["taskStepComplete"]
    assert ticked["errors"] == [] and ticked["task"]["status"] == "ACKNOWLEDGED"
    assert ticked["task"]["ackDueAt"] is None and ticked["task"]["steps"][0]["doneAt"] is not None
    [edge] = (await api.data(TASKS, token=guide))["myTaskList"]["edges"]
    assert [h["action"] for h in edge["node"]["history"]] == ["CREATED", "ASSIGNED", "ACKNOWLEDGED", "STEP_DONE"]
    clock.advance(minutes=11)  # past the acknowledgement SLA: nobody takes it from him
    assert (await api.app.state.scheduler.run_once())["escalate_overdue_tasks"] == 0
    [edge] = (await api.data(TASKS, token=await token_for("sh.guide")))["myTaskList"]["edges"]
    assert edge["node"]["status"] == "ACKNOWLEDGED"


async def test_a_step_of_a_queued_task_is_refused(api, db, world, booked, token_for):
    manager = await token_for("sh.manager")
    day = booked["slot"].astimezone(SHANGHAI).date().isoformat()
    await api.data(OVERRIDE, {"input": {"storeId": world.gid("Store", "shanghai"), "day": day, "capacity": 2}}, manager)
    second, _ = await customer(api, "13912345678")
    assert (await book(api, second, world, booked["slot"]))["errors"] == []
    [queued] = (await api.data(QUEUE, {"s": world.gid("Store", "shanghai")}, manager))["storeTasks"]["edges"]
    before = await state(db)
    refused = (await api.data(STEP, {"id": queued["node"]["id"], "p": 0}, manager))["taskStepComplete"]
    assert_user_error(refused, "INVALID_STATE", ["taskId"], "task")
    assert await state(db) == before
