"""SLA escalation on the test clock: each unacknowledged guide passes the task on, then the store queue takes it."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from server.domains.tasks.topics import store_queue_topic
from tests.world import gid

from .helpers import add_shanghai_guide, book, customer, next_local

MONDAY = 0
ACK_SLA_MINUTES = 10
QUEUE = """query($s: ID!) { storeTasks(storeId: $s, unassignedOnly: true) { edges { node {
  id assignee { id } escalated assignmentReason history { action assignee { id } } } } } }"""


@pytest.fixture
async def three_guides(db, two_guides):
    """Shanghai's guide, sh.guide2 and sh.guide3, all on shift all day."""
    await add_shanghai_guide(db, two_guides, "sh.guide3", "Guide Three")
    return two_guides


async def rows(db, sql: str, **params) -> list:
    async with db.engine.connect() as connection:
        return [tuple(r) for r in (await connection.execute(sa.text(sql), params)).all()]


async def holder(db) -> int | None:
    [(assignee,)] = await rows(db, "SELECT assignee_id FROM task")
    return assignee


async def overdue_pass(api, clock) -> None:
    """The SLA runs out for whoever holds the task; the scheduler runs once."""
    clock.advance(minutes=ACK_SLA_MINUTES + 1)
    assert (await api.app.state.scheduler.run_once())["escalate_overdue_tasks"] == 1


async def test_an_unacknowledged_task_passes_down_three_guides_then_waits_in_the_store_queue(
    api, db, three_guides, clock, token_for
):
    world = three_guides
    token, _ = await customer(api)
    assert (await book(api, token, world, next_local(clock, MONDAY, 15)))["errors"] == []
    holders = [await holder(db)]
    for _ in range(2):
        await overdue_pass(api, clock)
        holders.append(await holder(db))
    assert sorted(holders) == sorted(world.ids[g] for g in ("sh.guide", "sh.guide2", "sh.guide3"))
    await overdue_pass(api, clock)
    assert await holder(db) is None

    first, second, third = holders
    [edge] = (await api.data(QUEUE, {"s": world.gid("Store", "shanghai")}, await token_for("sh.manager")))[
        "storeTasks"
    ]["edges"]
    task = edge["node"]
    assert task["assignee"] is None and task["escalated"] is True
    assert task["assignmentReason"].startswith("escalated: no guide on shift")
    staff = {None: None, **{g: gid("StaffUser", g) for g in holders}}
    assert [(h["action"], h["assignee"] and h["assignee"]["id"]) for h in task["history"]] == [
        ("CREATED", None),
        ("ASSIGNED", staff[first]),
        ("ESCALATED", staff[first]),
        ("ESCALATED", staff[second]),
        ("ESCALATED", staff[second]),
        ("ESCALATED", staff[third]),
        ("ESCALATED", staff[third]),
        ("QUEUED", None),
    ]

    told = await rows(
        db,
        "SELECT payload FROM outbox WHERE topic = :t AND event = 'ESCALATED' ORDER BY id",
        t=store_queue_topic(world.ids["shanghai"]),
    )
    assert len(told) == 3  # the store's managers hear of every escalation
    assert [_assignee_of(payload) for (payload,) in told] == [second, third, None]
    guides_told = await rows(db, "SELECT topic, event FROM outbox WHERE topic LIKE 'tasks.staff:%' ORDER BY id")
    assert guides_told == [
        (f"tasks.staff:{first}", "CREATED"),
        (f"tasks.staff:{second}", "ESCALATED"),
        (f"tasks.staff:{first}", "REMOVED"),
        (f"tasks.staff:{third}", "ESCALATED"),
        (f"tasks.staff:{second}", "REMOVED"),
        (f"tasks.staff:{third}", "REMOVED"),
    ]


def _assignee_of(payload) -> int | None:
    return (json.loads(payload) if isinstance(payload, str) else payload)["assigneeId"]
