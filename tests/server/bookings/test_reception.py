"""From booking to a finished reception: dispatch, the guide's task, check-in by QR, the SOP."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import count_rows
from tests.server.assertions import assert_forbidden, assert_user_error

from .helpers import SHANGHAI, arrive, book, customer, give_shifts, next_local

MONDAY = 0
MY_TASKS = """query { myTaskList { edges { node { id status priority customerType assignmentReason dueAt
  steps { position title required doneAt } customer { masked phone }
  booking { id status slotStart } } } } }"""
ACK = "mutation($id: ID!) { taskAcknowledge(id: $id) { task { status ackDueAt } errors { code } } }"
STEP = """mutation($id: ID!, $p: Int!) { taskStepComplete(taskId: $id, position: $p) {
  task { steps { doneAt } } errors { code } } }"""
DONE = "mutation($id: ID!) { taskComplete(id: $id) { task { status } errors { code field message } } }"
CHECK_IN = """mutation($input: BookingCheckInInput!) { bookingCheckIn(input: $input) {
  booking { status checkedInAt } errors { code field } } }"""
QR = "query($id: ID!) { node(id: $id) { ... on Booking { qrToken status } } }"
BOOKING = "query($id: ID!) { node(id: $id) { ... on Booking { status completedAt } } }"
START = "mutation($id: ID!) { taskStart(id: $id) { task { status } errors { code } } }"


@pytest.fixture
async def booked(api, db, world, clock):
    """A customer booked Monday 15:00 in Shanghai, where one guide is on shift."""
    await give_shifts(db, world)
    token, _customer_id = await customer(api)
    payload = await book(api, token, world, next_local(clock, MONDAY, 15))
    assert payload["errors"] == []
    return token, payload["booking"]["id"]


async def my_task(api, guide: str) -> dict:
    [edge] = (await api.data(MY_TASKS, token=guide))["myTaskList"]["edges"]
    return edge["node"]


async def test_the_booking_becomes_a_task_for_the_guide_on_shift(api, booked, token_for):
    task = await my_task(api, await token_for("sh.guide"))
    assert task["status"] == "OPEN" and task["priority"] == "NORMAL" and task["customerType"] == "WALK_IN"
    assert task["assignmentReason"] == "the only guide on shift with a free seat"
    assert task["booking"]["id"] == booked[1]
    assert task["customer"] == {"masked": False, "phone": "+8613812345678"}  # she has a booking at his store
    assert [s["required"] for s in task["steps"]] == [True, True, True, False]


async def test_a_task_no_guide_can_take_waits_in_the_store_queue(api, db, world, booked, clock, token_for):
    manager = await token_for("sh.manager")
    slot = next_local(clock, MONDAY, 15)
    override = """mutation($input: SlotCapacityOverrideInput!) { slotCapacityOverrideSet(input: $input) {
      ok errors { code } } }"""
    day = slot.astimezone(SHANGHAI).date().isoformat()
    assert (
        await api.data(
            override, {"input": {"storeId": world.gid("Store", "shanghai"), "day": day, "capacity": 2}}, manager
        )
    )["slotCapacityOverrideSet"]["ok"]
    second, _ = await customer(api, "13912345678")
    assert (await book(api, second, world, slot))["errors"] == []
    queue = """query($s: ID!) { storeTasks(storeId: $s, unassignedOnly: true) { edges { node {
      assignee { id } assignmentReason history { action } } } } }"""
    [edge] = (await api.data(queue, {"s": world.gid("Store", "shanghai")}, manager))["storeTasks"]["edges"]
    assert edge["node"]["assignee"] is None
    assert edge["node"]["assignmentReason"] == "every guide on shift is already receiving someone in this slot"
    assert [h["action"] for h in edge["node"]["history"]] == ["CREATED", "QUEUED"]


async def test_reception_from_acknowledge_to_done(api, db, booked, clock, token_for):
    guide = await token_for("sh.guide")
    customer_token, booking_id = booked
    task = await my_task(api, guide)
    assert (await api.data(ACK, {"id": task["id"]}, guide))["taskAcknowledge"] == {
        "task": {"status": "ACKNOWLEDGED", "ackDueAt": None},
        "errors": [],
    }
    qr = (await api.data(QR, {"id": booking_id}, customer_token))["node"]["qrToken"]
    arrive(clock, next_local(clock, MONDAY, 15))
    guide = await token_for("sh.guide")
    checked = (await api.data(CHECK_IN, {"input": {"qrToken": qr}}, guide))["bookingCheckIn"]
    assert checked["errors"] == [] and checked["booking"]["status"] == "CHECKED_IN"
    assert (await my_task(api, guide))["status"] == "IN_PROGRESS"
    early = (await api.data(DONE, {"id": task["id"]}, guide))["taskComplete"]
    assert_user_error(early, "REQUIRED_STEPS_OPEN", ["id"], "task")
    for position in (0, 1, 2):  # the required ones
        assert (await api.data(STEP, {"id": task["id"], "p": position}, guide))["taskStepComplete"]["errors"] == []
    assert (await api.data(DONE, {"id": task["id"]}, guide))["taskComplete"]["task"]["status"] == "DONE"
    booking = (await api.data(BOOKING, {"id": booking_id}, guide))["node"]
    assert booking["status"] == "COMPLETED" and booking["completedAt"] is not None
    async with db.engine.connect() as connection:
        kinds = (
            (await connection.execute(sa.text("SELECT type FROM customer_event WHERE source = 'bookings'")))
            .scalars()
            .all()
        )
        actions = (await connection.execute(sa.text("SELECT action FROM task_history ORDER BY id"))).scalars().all()
    assert kinds == ["STORE_VISIT"]
    assert actions == ["CREATED", "ASSIGNED", "ACKNOWLEDGED", "STARTED", "STEP_DONE", "STEP_DONE", "STEP_DONE", "DONE"]


async def test_a_reception_started_by_hand_completes_only_once_she_is_checked_in(api, db, booked, clock, token_for):
    arrive(clock, next_local(clock, MONDAY, 15))
    guide = await token_for("sh.guide")
    task = await my_task(api, guide)
    assert (await api.data(START, {"id": task["id"]}, guide))["taskStart"]["errors"] == []
    for position in (0, 1, 2):
        assert (await api.data(STEP, {"id": task["id"], "p": position}, guide))["taskStepComplete"]["errors"] == []
    history = await count_rows(db, "task_history")
    refused = (await api.data(DONE, {"id": task["id"]}, guide))["taskComplete"]
    assert_user_error(refused, "NOT_CHECKED_IN", ["id"], "task")
    assert (await my_task(api, guide))["status"] == "IN_PROGRESS" and await count_rows(db, "task_history") == history
    assert (await api.data(BOOKING, {"id": booked[1]}, guide))["node"] == {"status": "CONFIRMED", "completedAt": None}
    checked = (await api.data(CHECK_IN, {"input": {"bookingId": booked[1]}}, guide))["bookingCheckIn"]
    assert checked["errors"] == []
    assert (await api.data(DONE, {"id": task["id"]}, guide))["taskComplete"]["task"]["status"] == "DONE"
    assert (await api.data(BOOKING, {"id": booked[1]}, guide))["node"]["status"] == "COMPLETED"


async def test_the_customer_view_lists_her_bookings_each_store_its_own(api, db, world, booked, clock, token_for):
    token, booking_id = booked
    await give_shifts(db, world, "bj.guide")
    second = (await book(api, token, world, next_local(clock, MONDAY, 17)))["booking"]["id"]
    beijing = (
        await book(
            api, token, world, next_local(clock, MONDAY, 16), storeId=world.gid("Store", "beijing"), note="private note"
        )
    )["booking"]["id"]
    query = """query($id: ID!, $status: BookingStatus) { customer(id: $id) {
      bookings(status: $status) { totalCount edges { node { id status store { code } } } } } }"""
    me = (await api.data("query { me { ... on Customer { id } } }", token=token))["me"]["id"]
    in_shanghai = (await api.data(query, {"id": me}, await token_for("sh.guide")))["customer"]["bookings"]
    assert in_shanghai["totalCount"] == 2
    assert [e["node"]["id"] for e in in_shanghai["edges"]] == [second, booking_id]  # newest slot first
    everywhere = (await api.data(query, {"id": me}, await token_for("admin")))["customer"]["bookings"]
    assert {e["node"]["id"] for e in everywhere["edges"]} == {booking_id, second, beijing}
    cancel = """mutation($input: BookingCancelInput!) { bookingCancel(input: $input) { errors { code } } }"""
    assert (await api.data(cancel, {"input": {"id": second}}, token))["bookingCancel"]["errors"] == []
    confirmed = (await api.data(query, {"id": me, "status": "CONFIRMED"}, token))["customer"]["bookings"]
    assert {e["node"]["id"] for e in confirmed["edges"]} == {booking_id, beijing}  # she reads all of hers
    signed_in = """mutation { customerLogin(input: {phone: "13812345678", smsCode: "000000"}) {
      session { viewer { ... on Customer { bookings { totalCount } } } } errors { code } } }"""
    answer = (await api.data(signed_in))["customerLogin"]  # the sign-in answer shows her: no actor yet
    assert answer["session"]["viewer"]["bookings"]["totalCount"] == 3


async def test_a_qr_code_checks_in_once(api, db, booked, clock, token_for):
    qr = (await api.data(QR, {"id": booked[1]}, booked[0]))["node"]["qrToken"]
    arrive(clock, next_local(clock, MONDAY, 15))
    guide = await token_for("sh.guide")
    assert (await api.data(CHECK_IN, {"input": {"qrToken": qr}}, guide))["bookingCheckIn"]["errors"] == []
    again = (await api.data(CHECK_IN, {"input": {"qrToken": qr}}, guide))["bookingCheckIn"]
    assert_user_error(again, "ALREADY_CHECKED_IN", ["input"], "booking")
    async with db.engine.connect() as connection:
        visits = (
            await connection.execute(sa.text("SELECT count(*) FROM customer_event WHERE type = 'STORE_VISIT'"))
        ).scalar_one()
    assert visits == 1


async def test_a_forged_qr_code_is_refused_with_nothing_written(api, db, booked, token_for):
    guide = await token_for("sh.guide")
    qr = (await api.data(QR, {"id": booked[1]}, booked[0]))["node"]["qrToken"]
    forged = qr[:-4] + ("AAAA" if not qr.endswith("AAAA") else "BBBB")
    before = await count_rows(db, "customer_event")
    payload = (await api.data(CHECK_IN, {"input": {"qrToken": forged}}, guide))["bookingCheckIn"]
    assert_user_error(payload, "INVALID_QR_TOKEN", ["input", "qrToken"], "booking")
    assert await count_rows(db, "customer_event") == before


async def test_staff_see_no_qr_code_and_another_store_cannot_check_her_in(api, booked, token_for):
    guide = await token_for("sh.guide")
    assert (await api.data(QR, {"id": booked[1]}, guide))["node"]["qrToken"] is None
    await assert_forbidden(api, CHECK_IN, {"input": {"bookingId": booked[1]}}, await token_for("bj.guide"))


async def test_another_guide_cannot_work_the_task(api, db, world, booked, token_for):
    task = await my_task(api, await token_for("sh.guide"))
    await assert_forbidden(api, ACK, {"id": task["id"]}, await token_for("bj.guide"))


async def test_cancelling_the_booking_cancels_the_task(api, booked, token_for):
    cancel = """mutation($id: ID!) { bookingCancel(input: {id: $id}) { errors { code } } }"""
    assert (await api.data(cancel, {"id": booked[1]}, booked[0]))["bookingCancel"]["errors"] == []
    assert (await my_task(api, await token_for("sh.guide")))["status"] == "CANCELLED"
