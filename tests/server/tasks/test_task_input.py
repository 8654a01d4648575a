"""The task mutations through `input` (the guide app's form from now on); their plain arguments are
deprecated and tested by the other task tests."""

from __future__ import annotations

import pytest

from tests.server.assertions import assert_user_error, scalar
from tests.server.bookings.helpers import arrive, book, customer, next_local

MONDAY = 0
TASKS = "query { myTaskList { edges { node { id booking { id } } } } }"
CHECK_IN = """mutation($id: ID!) { bookingCheckIn(input: {bookingId: $id}) { errors { code } } }"""
ACK = "mutation($i: TaskAcknowledgeInput!) { taskAcknowledge(input: $i) { task { status } errors { code field } } }"
START = "mutation($i: TaskStartInput!) { taskStart(input: $i) { task { status } errors { code field } } }"
STEP = """mutation($i: TaskStepCompleteInput!) { taskStepComplete(input: $i) {
  task { status steps { position doneAt } } errors { code field } } }"""
COMPLETE = "mutation($i: TaskCompleteInput!) { taskComplete(input: $i) { task { status } errors { code field } } }"
REASSIGN = """mutation($i: TaskReassignInput!) { taskReassign(input: $i) {
  task { assignee { username } } errors { code field } } }"""


@pytest.fixture
async def task(api, two_guides, clock, token_for):
    token, _ = await customer(api)
    slot = next_local(clock, MONDAY, 15)
    booking = (await book(api, token, two_guides, slot))["booking"]["id"]
    [edge] = (await api.data(TASKS, token=await token_for("sh.guide")))["myTaskList"]["edges"]
    return {"id": edge["node"]["id"], "booking": booking, "slot": slot}


async def run(api, document: str, name: str, variables: dict, token: str) -> dict:
    payload = (await api.data(document, {"i": variables}, token))[name]
    assert payload["errors"] == [], payload
    return payload["task"]


async def test_a_guide_receives_her_customer_through_input(api, db, task, clock, token_for):
    guide = await token_for("sh.guide")
    assert (await run(api, ACK, "taskAcknowledge", {"id": task["id"]}, guide))["status"] == "ACKNOWLEDGED"
    arrive(clock, task["slot"])
    guide = await token_for("sh.guide")
    assert (await api.data(CHECK_IN, {"id": task["booking"]}, guide))["bookingCheckIn"]["errors"] == []
    for position in (0, 1, 2):
        ticked = await run(api, STEP, "taskStepComplete", {"taskId": task["id"], "position": position}, guide)
        assert ticked["steps"][position]["doneAt"] is not None
    assert (await run(api, COMPLETE, "taskComplete", {"id": task["id"]}, guide))["status"] == "DONE"
    assert await scalar(db, "SELECT status FROM task") == "DONE"
    assert await scalar(db, "SELECT status FROM booking") == "COMPLETED"


async def test_a_guide_starts_a_task_through_input(api, db, task, token_for):
    started = await run(api, START, "taskStart", {"id": task["id"]}, await token_for("sh.guide"))
    assert started["status"] == "IN_PROGRESS"
    assert await scalar(db, "SELECT status FROM task") == "IN_PROGRESS"


async def test_a_manager_reassigns_through_input_and_errors_point_into_it(api, db, task, world, token_for):
    manager = await token_for("sh.manager")
    elsewhere = {"id": task["id"], "guideId": world.gid("StaffUser", "bj.guide")}
    refused = (await api.data(REASSIGN, {"i": elsewhere}, manager))["taskReassign"]
    assert_user_error(refused, "NOT_A_CANDIDATE", ["input", "guideId"], "task")
    assert await scalar(db, "SELECT assignee_id FROM task") == world.ids["sh.guide"]
    moved = {"id": task["id"], "guideId": world.gid("StaffUser", "sh.guide2")}
    assert (await run(api, REASSIGN, "taskReassign", moved, manager))["assignee"]["username"] == "sh.guide2"
    assert await scalar(db, "SELECT assignee_id FROM task") == world.ids["sh.guide2"]


async def test_a_step_outside_the_sop_points_at_its_position_in_the_input(api, db, task, token_for):
    guide = await token_for("sh.guide")
    bad = (await api.data(STEP, {"i": {"taskId": task["id"], "position": 99}}, guide))["taskStepComplete"]
    assert [e["field"] for e in bad["errors"]] == [["input", "position"]], bad
    assert await scalar(db, "SELECT count(*) FROM task_step WHERE done_at IS NOT NULL") == 0
