"""Only the store's staff act on its tasks, and of its guides only the assignee; a refusal writes nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import count_rows
from tests.server.assertions import assert_forbidden
from tests.server.bookings.helpers import arrive, book, customer, give_shifts, next_local
from tests.world import PASSWORD

MONDAY = 0
TASKS = "query { myTaskList { edges { node { id status booking { id } } } } }"
STAFF_CREATE = """mutation($input: StaffCreateInput!) { staffCreate(input: $input) { errors { code } } }"""
CHECK_IN = """mutation($id: ID!) { bookingCheckIn(input: {bookingId: $id}) { errors { code } } }"""
START = "mutation($id: ID!) { taskStart(id: $id) { task { status } errors { code field } } }"
STEP = """mutation($id: ID!, $p: Int!) { taskStepComplete(taskId: $id, position: $p) {
  task { status } errors { code field } } }"""
COMPLETE = "mutation($id: ID!) { taskComplete(id: $id) { task { status } errors { code field } } }"
ACTIONS = {"taskStart": START, "taskStepComplete": STEP, "taskComplete": COMPLETE}
# What the assignee's action writes: a step ticked on an OPEN task acknowledges it on the way.
ADDED_HISTORY = {"taskStart": ["STARTED"], "taskStepComplete": ["ACKNOWLEDGED", "STEP_DONE"], "taskComplete": ["DONE"]}


@pytest.fixture
async def task(api, db, world, clock, token_for):
    """Her reception task, held by sh.guide (the only guide on shift); sh.guide2 works at the store too."""
    created = await api.data(
        STAFF_CREATE,
        {
            "input": {
                "username": "sh.guide2",
                "password": PASSWORD,
                "displayName": "Guide Two",
                "role": "GUIDE",
                "storeId": world.gid("Store", "shanghai"),
            }
        },
        await token_for("admin"),
    )
    assert created["staffCreate"]["errors"] == []
    await give_shifts(db, world)
    token, _ = await customer(api)
    slot = next_local(clock, MONDAY, 15)
    booking_id = (await book(api, token, world, slot))["booking"]["id"]
    [edge] = (await api.data(TASKS, token=await token_for("sh.guide")))["myTaskList"]["edges"]
    return {"id": edge["node"]["id"], "booking": booking_id, "slot": slot}


async def ready_for(action: str, api, task: dict, clock, token_for) -> dict:
    """Bring the task to where ``action`` would succeed for its guide; the action's variables."""
    if action == "taskComplete":  # she is here and every required step is ticked
        arrive(clock, task["slot"])
        guide = await token_for("sh.guide")
        assert (await api.data(CHECK_IN, {"id": task["booking"]}, guide))["bookingCheckIn"]["errors"] == []
        for position in (0, 1, 2):
            done = await api.data(STEP, {"id": task["id"], "p": position}, guide)
            assert done["taskStepComplete"]["errors"] == []
    return {"id": task["id"], "p": 3} if action == "taskStepComplete" else {"id": task["id"]}


async def task_state(db) -> dict:
    outbox = await count_rows(db, "outbox")
    async with db.engine.connect() as connection:

        async def rows(sql):
            return [tuple(r) for r in (await connection.execute(sa.text(sql))).all()]

        return {
            "task": await rows("SELECT status, assignee_id, updated_at, ack_due_at FROM task"),
            "steps": await rows("SELECT position, done_at, done_by FROM task_step ORDER BY position"),
            "history": await rows("SELECT id, action FROM task_history ORDER BY id"),
            "booking": await rows("SELECT status FROM booking"),
            "outbox": outbox,
        }


@pytest.mark.parametrize("username", ["bj.guide", "bj.manager"])
@pytest.mark.parametrize("action", list(ACTIONS))
async def test_another_stores_staff_may_not_work_the_task(api, db, task, clock, token_for, action, username):
    variables = await ready_for(action, api, task, clock, token_for)
    before = await task_state(db)
    await assert_forbidden(api, ACTIONS[action], variables, await token_for(username))
    assert await task_state(db) == before


@pytest.mark.parametrize("action", list(ACTIONS))
async def test_a_guide_of_the_store_may_not_work_a_task_assigned_to_another(api, db, task, clock, token_for, action):
    variables = await ready_for(action, api, task, clock, token_for)
    before = await task_state(db)
    payload = (await api.data(ACTIONS[action], variables, await token_for("sh.guide2")))[action]
    assert [e["code"] for e in payload["errors"]] == ["NOT_ASSIGNED_TO_YOU"] and payload["task"] is None
    assert await task_state(db) == before
    allowed = (await api.data(ACTIONS[action], variables, await token_for("sh.guide")))[action]
    assert allowed["errors"] == []  # the assignee may: the refusal was about who asked
    added = [action_name for _, action_name in (await task_state(db))["history"][len(before["history"]) :]]
    assert added == ADDED_HISTORY[action]


async def test_a_refused_step_points_at_the_task_id_argument(api, task, token_for):
    payload = (await api.data(STEP, {"id": task["id"], "p": 0}, await token_for("sh.guide2")))["taskStepComplete"]
    assert payload["errors"] == [{"code": "NOT_ASSIGNED_TO_YOU", "field": ["taskId"]}]
