"""Task API details: catch-up after a reconnect, reassignment, SOP templates."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.server.assertions import assert_forbidden, assert_user_error
from tests.server.bookings.helpers import SHANGHAI, arrive, book, customer, give_shifts, iso, next_local

MONDAY = 0
LIST = """query($after: DateTime) { myTaskList(updatedAfter: $after) { edges { node { id updatedAt
  steps { title } } } } }"""
REASSIGN = """mutation($id: ID!, $guide: ID!) { taskReassign(id: $id, guideId: $guide) {
  task { assignee { username } assignmentReason } errors { code field } } }"""
SOP_SET = """mutation($input: SopTemplateSetInput!) { sopTemplateSet(input: $input) {
  template { customerType name customized steps { title required } } errors { code field } } }"""


@pytest.fixture
async def booked(api, db, world, clock):
    await give_shifts(db, world)
    token, _ = await customer(api)
    assert (await book(api, token, world, next_local(clock, MONDAY, 15)))["errors"] == []
    return world


async def test_a_reconnecting_guide_catches_up_with_updated_after(api, booked, clock, token_for):
    guide = await token_for("sh.guide")
    before = iso(clock.now() - timedelta(seconds=1))
    [edge] = (await api.data(LIST, {"after": before}, guide))["myTaskList"]["edges"]
    later = edge["node"]["updatedAt"]
    assert (await api.data(LIST, {"after": later}, guide))["myTaskList"]["edges"] == []


async def test_a_manager_reassigns_within_the_store_only(api, db, booked, token_for, world):
    guide = await token_for("sh.guide")
    [edge] = (await api.data(LIST, {"after": None}, guide))["myTaskList"]["edges"]
    manager = await token_for("sh.manager")
    wrong = (
        await api.data(REASSIGN, {"id": edge["node"]["id"], "guide": world.gid("StaffUser", "bj.guide")}, manager)
    )["taskReassign"]
    assert_user_error(wrong, "NOT_A_CANDIDATE", ["guideId"], "task")
    await assert_forbidden(
        api, REASSIGN, {"id": edge["node"]["id"], "guide": world.gid("StaffUser", "sh.guide")}, guide
    )
    await assert_forbidden(
        api,
        REASSIGN,
        {"id": edge["node"]["id"], "guide": world.gid("StaffUser", "bj.guide")},
        await token_for("bj.manager"),
    )


async def test_hq_sets_the_sop_new_tasks_follow(api, db, world, clock, token_for):
    admin = await token_for("admin")
    steps = [{"title": "迎宾", "guidance": "微笑", "required": True}, {"title": "送券", "required": False}]
    saved = (
        await api.data(SOP_SET, {"input": {"customerType": "WALK_IN", "name": "门店接待", "steps": steps}}, admin)
    )["sopTemplateSet"]
    assert saved["errors"] == [] and saved["template"]["customized"] is True
    await give_shifts(db, world)
    token, _ = await customer(api)
    await book(api, token, world, next_local(clock, MONDAY, 15))
    [edge] = (await api.data(LIST, {"after": None}, await token_for("sh.guide")))["myTaskList"]["edges"]
    assert [s["title"] for s in edge["node"]["steps"]] == ["迎宾", "送券"]


async def test_a_bad_sop_is_refused_and_only_hq_may_set_one(api, token_for):
    admin = await token_for("admin")
    empty = (await api.data(SOP_SET, {"input": {"customerType": "WALK_IN", "name": "x", "steps": []}}, admin))[
        "sopTemplateSet"
    ]
    assert_user_error(empty, "REQUIRED", ["input", "steps"], "template")
    long = (
        await api.data(
            SOP_SET, {"input": {"customerType": "WALK_IN", "name": "x", "steps": [{"title": "很" * 101}]}}, admin
        )
    )["sopTemplateSet"]
    assert_user_error(long, "TOO_LONG", ["input", "steps", "0", "title"], "template")
    await assert_forbidden(
        api,
        SOP_SET,
        {"input": {"customerType": "WALK_IN", "name": "x", "steps": [{"title": "a"}]}},
        await token_for("sh.manager"),
    )


async def test_a_guide_checking_in_a_queued_customer_takes_her_task(api, db, booked, clock, token_for, world):
    manager = await token_for("sh.manager")
    slot = next_local(clock, MONDAY, 15)
    override = """mutation($input: SlotCapacityOverrideInput!) { slotCapacityOverrideSet(input: $input) { ok } }"""
    await api.data(
        override,
        {
            "input": {
                "storeId": world.gid("Store", "shanghai"),
                "day": slot.astimezone(SHANGHAI).date().isoformat(),
                "capacity": 2,
            }
        },
        manager,
    )
    token, _ = await customer(api, "13912345678")
    queued = (await book(api, token, world, slot))["booking"]["id"]
    check_in = """mutation($id: ID!) { bookingCheckIn(input: {bookingId: $id}) { errors { code } } }"""
    arrive(clock, slot)
    guide = await token_for("sh.guide")
    assert (await api.data(check_in, {"id": queued}, guide))["bookingCheckIn"]["errors"] == []
    tasks = """query { myTaskList { edges { node { status assignmentReason booking { id } } } } }"""
    mine = {e["node"]["booking"]["id"]: e["node"] for e in (await api.data(tasks, token=guide))["myTaskList"]["edges"]}
    assert mine[queued] == {
        "status": "IN_PROGRESS",
        "assignmentReason": "checked her in from the store queue",
        "booking": {"id": queued},
    }
