"""Which SOP a reception follows: chosen from the booking's source and her history, steps from HQ's template."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.server.bookings.helpers import arrive, book, customer, give_shifts, iso, next_local
from tests.server.identity.test_api_ingest import create_source, ev, ingest

MONDAY, TUESDAY = 0, 1
PHONE = "13812345678"
TASKS = """query { myTaskList { edges { node { priority customerType booking { id livestream { title talkingPoints } }
  steps { title guidance required } } } } }"""
TEMPLATES = "query { sopTemplates { customerType customized steps { title guidance required } } }"
SOP_SET = """mutation($input: SopTemplateSetInput!) { sopTemplateSet(input: $input) { errors { code } } }"""
LIVESTREAM_CREATE = """mutation($input: LivestreamCreateInput!) { livestreamCreate(input: $input) {
  livestream { id } errors { code } } }"""
CHECK_IN = """mutation($id: ID!) { bookingCheckIn(input: {bookingId: $id}) { errors { code } } }"""


@pytest.fixture
async def on_shift(db, world):
    await give_shifts(db, world)
    return world


async def task_of(api, token_for, booking_id: str) -> dict:
    edges = (await api.data(TASKS, token=await token_for("sh.guide")))["myTaskList"]["edges"]
    [task] = [e["node"] for e in edges if e["node"]["booking"]["id"] == booking_id]
    return task


async def hq_template(api, token_for, customer_type: str) -> dict:
    templates = (await api.data(TEMPLATES, token=await token_for("sh.guide")))["sopTemplates"]
    [template] = [t for t in templates if t["customerType"] == customer_type]
    return template


async def booked(api, token: str, world, slot, **extra) -> str:
    payload = await book(api, token, world, slot, **extra)
    assert payload["errors"] == [], payload
    return payload["booking"]["id"]


async def her_history(api, token_for, event_type: str, **fields) -> None:
    """A touchpoint tells of her (by phone) an event of this type, an hour ago."""
    key = (await create_source(api, await token_for("admin"), name=f"src-{event_type.lower()}"))["apiKey"]
    result = await ingest(api, key, ev(f"{event_type}-1", f"phone:{PHONE}", type=event_type, **fields))
    assert result["accepted"] == 1, result


async def test_a_livestream_booking_is_a_high_priority_livestream_referral(api, on_shift, clock, token_for):
    ops = await token_for("ops")
    start = clock.now() + timedelta(hours=1)
    created = (
        await api.data(
            LIVESTREAM_CREATE,
            {
                "input": {
                    "title": "双十一直播",
                    "hostName": "Lily",
                    "teamId": on_shift.gid("Team", "team"),
                    "channel": "DOUYIN",
                    "scheduledStart": iso(start),
                    "scheduledEnd": iso(start + timedelta(hours=2)),
                    "talkingPoints": ["精华买一送一"],
                }
            },
            ops,
        )
    )["livestreamCreate"]
    token, _ = await customer(api)
    booking_id = await booked(
        api, token, on_shift, next_local(clock, MONDAY, 15), livestreamId=created["livestream"]["id"]
    )
    task = await task_of(api, token_for, booking_id)
    assert (task["priority"], task["customerType"]) == ("HIGH", "LIVESTREAM_REFERRAL")
    assert task["booking"]["livestream"] == {"title": "双十一直播", "talkingPoints": ["精华买一送一"]}
    assert task["steps"] == (await hq_template(api, token_for, "LIVESTREAM_REFERRAL"))["steps"]


async def test_a_direct_booking_of_a_new_customer_is_a_normal_priority_walk_in(api, on_shift, clock, token_for):
    token, _ = await customer(api)
    task = await task_of(api, token_for, await booked(api, token, on_shift, next_local(clock, MONDAY, 15)))
    assert (task["priority"], task["customerType"]) == ("NORMAL", "WALK_IN")
    assert task["steps"] == (await hq_template(api, token_for, "WALK_IN"))["steps"]


async def test_a_customer_who_visited_before_is_returning(api, on_shift, clock, token_for):
    token, _ = await customer(api)
    first = await booked(api, token, on_shift, next_local(clock, MONDAY, 15))
    assert (await task_of(api, token_for, first))["customerType"] == "WALK_IN"
    arrive(clock, next_local(clock, MONDAY, 15))
    checked = (await api.data(CHECK_IN, {"id": first}, await token_for("sh.guide")))["bookingCheckIn"]
    assert checked["errors"] == []
    token, _ = await customer(api)  # her earlier token expired while she came
    task = await task_of(api, token_for, await booked(api, token, on_shift, next_local(clock, TUESDAY, 15)))
    assert (task["priority"], task["customerType"]) == ("NORMAL", "RETURNING_CUSTOMER")
    assert task["steps"] == (await hq_template(api, token_for, "RETURNING_CUSTOMER"))["steps"]


async def test_a_customer_who_bought_before_is_returning(api, on_shift, clock, token_for):
    token, _ = await customer(api, PHONE)
    await her_history(
        api, token_for, "POS_PURCHASE", storeId=on_shift.gid("Store", "beijing"), properties={"amount": 32000}
    )
    task = await task_of(api, token_for, await booked(api, token, on_shift, next_local(clock, MONDAY, 15)))
    assert task["customerType"] == "RETURNING_CUSTOMER"
    assert task["steps"] == (await hq_template(api, token_for, "RETURNING_CUSTOMER"))["steps"]


async def test_a_community_member_follows_the_community_sop_hq_saved(api, on_shift, clock, token_for):
    steps = [
        {"title": "感谢参加社群活动", "guidance": "提到她参加的活动", "required": True},
        {"title": "邀请下次活动", "guidance": "", "required": False},
    ]
    saved = (
        await api.data(
            SOP_SET,
            {"input": {"customerType": "COMMUNITY_EVENT", "name": "社群到店", "steps": steps}},
            await token_for("admin"),
        )
    )["sopTemplateSet"]
    assert saved["errors"] == []
    token, _ = await customer(api, PHONE)
    await her_history(api, token_for, "COMMUNITY_JOIN")
    task = await task_of(api, token_for, await booked(api, token, on_shift, next_local(clock, MONDAY, 15)))
    assert (task["priority"], task["customerType"]) == ("NORMAL", "COMMUNITY_EVENT")
    template = await hq_template(api, token_for, "COMMUNITY_EVENT")
    assert template["customized"] and task["steps"] == template["steps"] == steps
