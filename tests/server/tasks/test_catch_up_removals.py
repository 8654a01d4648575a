"""The catch-up's removals: after a dropped socket, myRemovedTaskIds names the tasks given away from her
meanwhile (reassigned, escalated, or back to the store queue), as the REMOVED event does live."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.server.assertions import assert_forbidden, run_jobs, scalar
from tests.server.bookings.helpers import book, customer, iso, next_local

MONDAY = 0
ACK_SLA_MINUTES = 10
REMOVED = "query($after: DateTime!) { myRemovedTaskIds(updatedAfter: $after) }"
REASSIGN = """mutation($i: TaskReassignInput!) { taskReassign(input: $i) { errors { code } } }"""
TASKS = "query { myTaskList { edges { node { id } } } }"


@pytest.fixture
async def task_id(api, db, two_guides, clock, token_for) -> str:
    """Her task: sh.guide holds it (sh.guide2, on shift too, signs in with the same password)."""
    async with db.engine.begin() as connection:
        await connection.execute(
            sa.text(
                "UPDATE staff_user SET password_hash = (SELECT password_hash FROM staff_user WHERE username = "
                "'sh.guide') WHERE username = 'sh.guide2'"
            )
        )
    token, _ = await customer(api)
    assert (await book(api, token, two_guides, next_local(clock, MONDAY, 15)))["errors"] == []
    [edge] = (await api.data(TASKS, token=await token_for("sh.guide")))["myTaskList"]["edges"]
    return edge["node"]["id"]


async def removed(api, token: str, after) -> list[str]:
    return (await api.data(REMOVED, {"after": iso(after)}, token))["myRemovedTaskIds"]


async def test_a_task_reassigned_while_she_was_offline_is_named_to_her_only(
    api, db, task_id, two_guides, clock, token_for
):
    guide, other = await token_for("sh.guide"), await token_for("sh.guide2")
    went_offline = clock.now()
    assert await removed(api, guide, went_offline) == []
    clock.advance(seconds=30)
    moved = {"id": task_id, "guideId": two_guides.gid("StaffUser", "sh.guide2")}
    assert (await api.data(REASSIGN, {"i": moved}, await token_for("sh.manager")))["taskReassign"]["errors"] == []
    assert await scalar(db, "SELECT assignee_id FROM task") == two_guides.ids["sh.guide2"]
    assert await removed(api, guide, went_offline) == [task_id]
    assert await removed(api, other, went_offline) == []  # hers now: myTaskList(updatedAfter:) has it
    assert await removed(api, guide, clock.now()) == []  # nothing changed after the reassignment


async def test_a_task_escalated_away_and_then_queued_is_named_to_each_guide_who_lost_it(
    api, db, task_id, two_guides, clock, token_for
):
    went_offline = clock.now()
    clock.advance(minutes=ACK_SLA_MINUTES + 1)
    assert (await run_jobs(api))["escalate_overdue_tasks"] == 1
    assert await removed(api, await token_for("sh.guide"), went_offline) == [task_id]
    clock.advance(minutes=ACK_SLA_MINUTES + 1)
    assert (await run_jobs(api))["escalate_overdue_tasks"] == 1
    assert await scalar(db, "SELECT assignee_id FROM task") is None  # the store queue holds it
    assert await removed(api, await token_for("sh.guide2"), went_offline) == [task_id]
    assert await removed(api, await token_for("sh.guide"), went_offline) == [task_id]


async def test_her_own_tasks_and_tasks_she_never_held_are_not_named(api, task_id, two_guides, clock, token_for):
    manager = await token_for("sh.manager")
    assert await removed(api, manager, clock.now() - timedelta(days=1)) == []
    assert await removed(api, await token_for("sh.guide"), clock.now() - timedelta(days=1)) == []


async def test_only_guides_and_managers_ask(api, task_id, clock, token_for):
    token, _ = await customer(api, "13912345678")
    await assert_forbidden(api, REMOVED, {"after": iso(clock.now())}, token)
    await assert_forbidden(api, REMOVED, {"after": iso(clock.now())}, await token_for("admin"))
