"""Unticking a step ticked by mistake: only while the task is worked, only by its guide, written to history."""

from __future__ import annotations

import pytest

from tests.server.assertions import assert_forbidden, assert_user_error, scalar
from tests.server.bookings.helpers import arrive, book, customer, next_local

MONDAY = 0
TASKS = "query { myTaskList { edges { node { id booking { id } } } } }"
STEP = """mutation($i: TaskStepCompleteInput!) { taskStepComplete(input: $i) { task { status } errors { code } } }"""
REOPEN = """mutation($i: TaskStepReopenInput!) { taskStepReopen(input: $i) {
  task { status steps { position doneAt } history { action note } } errors { code field } } }"""
CHECK_IN = """mutation($id: ID!) { bookingCheckIn(input: {bookingId: $id}) { errors { code } } }"""
COMPLETE = """mutation($i: TaskCompleteInput!) { taskComplete(input: $i) { task { status } errors { code } } }"""
DONE_STEPS = "SELECT count(*) FROM task_step WHERE done_at IS NOT NULL"


@pytest.fixture
async def task(api, two_guides, clock, token_for) -> dict:
    token, _ = await customer(api)
    slot = next_local(clock, MONDAY, 15)
    booking = (await book(api, token, two_guides, slot))["booking"]["id"]
    [edge] = (await api.data(TASKS, token=await token_for("sh.guide")))["myTaskList"]["edges"]
    return {"id": edge["node"]["id"], "booking": booking, "slot": slot}


async def tick(api, task: dict, position: int, token: str) -> None:
    ticked = await api.data(STEP, {"i": {"taskId": task["id"], "position": position}}, token)
    assert ticked["taskStepComplete"]["errors"] == []


async def test_a_guide_unticks_a_step_ticked_by_mistake(api, db, task, token_for):
    guide = await token_for("sh.guide")
    await tick(api, task, 1, guide)
    assert await scalar(db, DONE_STEPS) == 1
    undone = (await api.data(REOPEN, {"i": {"taskId": task["id"], "position": 1}}, guide))["taskStepReopen"]
    assert undone["errors"] == [] and undone["task"]["steps"][1]["doneAt"] is None
    assert undone["task"]["history"][-1]["action"] == "STEP_REOPENED"
    assert await scalar(db, DONE_STEPS) == 0
    again = (await api.data(REOPEN, {"i": {"taskId": task["id"], "position": 1}}, guide))["taskStepReopen"]
    assert again["errors"] == []  # a no-op
    assert await scalar(db, "SELECT count(*) FROM task_history WHERE action = 'STEP_REOPENED'") == 1


async def test_a_done_task_keeps_its_steps_and_others_may_not_untick(api, db, task, clock, token_for):
    guide = await token_for("sh.guide")
    await tick(api, task, 0, guide)
    await assert_forbidden(api, REOPEN, {"i": {"taskId": task["id"], "position": 0}}, await token_for("bj.guide"))
    unknown = (await api.data(REOPEN, {"i": {"taskId": task["id"], "position": 99}}, guide))["taskStepReopen"]
    assert_user_error(unknown, "NOT_FOUND", ["input", "position"], "task")
    arrive(clock, task["slot"])
    guide = await token_for("sh.guide")
    assert (await api.data(CHECK_IN, {"id": task["booking"]}, guide))["bookingCheckIn"]["errors"] == []
    for position in (1, 2):
        await tick(api, task, position, guide)
    assert (await api.data(COMPLETE, {"i": {"id": task["id"]}}, guide))["taskComplete"]["errors"] == []
    late = (await api.data(REOPEN, {"i": {"taskId": task["id"], "position": 0}}, guide))["taskStepReopen"]
    assert_user_error(late, "INVALID_STATE", ["input", "taskId"], "task")
    assert await scalar(db, DONE_STEPS) == 3
