"""The dashboards' bookings query: every store's bookings in change order, the catch-up after a dropped socket,
who may read it, each booking's task and guide at a constant cost, and bad input refused clearly."""

from __future__ import annotations

import pytest

from tests.server.assertions import assert_forbidden
from tests.server.stores.test_nearby_stores import StatementCounter
from tests.world import gid

from .changes_helpers import CANCEL, RESCHEDULE, create_livestream, ok
from .helpers import book, customer, give_shifts, iso, next_local

MONDAY = 0
BOOKINGS = """query($after: DateTime, $livestream: ID, $store: ID, $city: String, $status: BookingStatus,
                     $first: Int, $cursor: String) {
  bookings(updatedAfter: $after, livestreamId: $livestream, storeId: $store, city: $city, status: $status,
           first: $first, after: $cursor) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id status updatedAt } } } }"""
WITH_TASKS = """query($first: Int) { bookings(first: $first) { edges { node { id store { city } livestream { title }
  guide { displayName }
  task { createdAt assignedAt acknowledgedAt startedAt completedAt ackDueAt escalated escalationCount
         assignee { displayName } } } } } }"""
ACK = "mutation($id: ID!) { taskAcknowledge(id: $id) { errors { code } } }"


def ids(page: dict) -> list[str]:
    return [edge["node"]["id"] for edge in page["edges"]]


async def bookings(api, token: str, **variables) -> dict:
    return (await api.data(BOOKINGS, variables, token))["bookings"]


@pytest.fixture
async def three_booked(api, db, world, clock, token_for):
    """Three customers booked Monday in Shanghai, the first from a livestream: (livestream, booking ids, tokens)."""
    await give_shifts(db, world)
    livestream = await create_livestream(api.data, world, await token_for("ops"), clock)
    tokens, booked = [], []
    for n, phone in enumerate(["13812345678", "13912345678", "13712345678"]):
        token, _ = await customer(api, phone)
        extra = {"livestreamId": livestream} if n == 0 else {}
        payload = await book(api, token, world, next_local(clock, MONDAY, 15 + n), **extra)
        tokens.append(token)
        booked.append(payload["booking"]["id"])
        clock.advance(minutes=1)
    return livestream, booked, tokens


async def test_catch_up_returns_exactly_what_changed_after_an_instant_in_change_order(
    api, world, clock, three_booked, token_for
):
    _, booked, tokens = three_booked
    analyst = await token_for("analyst")
    everything = await bookings(api, analyst)
    assert ids(everything) == booked and everything["totalCount"] == 3
    dropped_at = clock.now()
    clock.advance(minutes=1)
    await ok(api.data, RESCHEDULE, {"id": booked[2], "slot": iso(next_local(clock, MONDAY, 19))}, tokens[2])
    clock.advance(minutes=1)
    await ok(api.data, CANCEL, {"id": booked[0]}, tokens[0])
    since = await bookings(api, analyst, after=iso(dropped_at), first=1)
    assert ids(since) == [booked[2]] and since["totalCount"] == 2 and since["pageInfo"]["hasNextPage"]
    rest = await bookings(api, analyst, after=iso(dropped_at), first=1, cursor=since["pageInfo"]["endCursor"])
    assert ids(rest) == [booked[0]] and not rest["pageInfo"]["hasNextPage"]
    assert rest["edges"][0]["node"]["status"] == "CANCELLED"
    assert ids(await bookings(api, analyst, after=rest["edges"][0]["node"]["updatedAt"])) == []


async def test_the_filters_all_apply(api, world, three_booked, token_for):
    livestream, booked, tokens = three_booked
    await ok(api.data, CANCEL, {"id": booked[1]}, tokens[1])
    ops = await token_for("ops")
    assert ids(await bookings(api, ops, livestream=livestream)) == [booked[0]]
    assert ids(await bookings(api, ops, store=world.gid("Store", "shanghai"))) == [booked[0], booked[2], booked[1]]
    assert ids(await bookings(api, ops, store=world.gid("Store", "beijing"))) == []
    assert ids(await bookings(api, ops, city="上海", status="CANCELLED")) == [booked[1]]
    assert ids(await bookings(api, ops, city="北京")) == []


async def test_only_hq_admins_livestream_ops_and_analysts_read_every_stores_bookings(api, three_booked, token_for):
    for username in ("admin", "ops", "analyst"):
        assert len(ids(await bookings(api, await token_for(username)))) == 3
    for username in ("sh.manager", "sh.guide"):
        await assert_forbidden(api, BOOKINGS, {}, await token_for(username))
    await assert_forbidden(api, BOOKINGS, {}, three_booked[2][0])
    body = await api(BOOKINGS, {})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]


@pytest.mark.parametrize(
    ("variables", "reason", "field"),
    [
        ({"store": gid("Store", 999_999)}, "NOT_FOUND", ["storeId"]),
        ({"livestream": gid("Livestream", 999_999)}, "NOT_FOUND", ["livestreamId"]),
        ({"livestream": gid("Store", 1)}, "NOT_FOUND", ["livestreamId"]),  # an id of another type
        ({"store": gid("Store", 2**40)}, None, None),
        ({"store": "not an id"}, None, None),
        ({"first": 101}, None, None),
        ({"first": -1}, None, None),
        ({"cursor": "bm9wZQ=="}, None, None),
        ({"city": ""}, "REQUIRED", ["city"]),
        ({"city": "城" * 51}, "TOO_LONG", ["city"]),
        ({"after": "2030-01-07T12:00:00"}, None, None),  # no time zone
        ({"status": "LOST"}, None, None),
    ],
)
async def test_bad_input_is_a_clear_bad_user_input_error(api, world, token_for, variables, reason, field):
    body = await api(BOOKINGS, variables, await token_for("analyst"))
    [error] = body["errors"]
    assert (body.get("data") or {}).get("bookings") is None and "Internal error" not in error["message"], error
    if "status" in variables:  # refused before execution, as every enum variable is: the message names it
        assert "'LOST' does not exist in 'BookingStatus'" in error["message"], error
        return
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    if reason is not None:
        assert (error["extensions"]["reason"], error["extensions"]["field"]) == (reason, field), error


async def test_analysts_see_task_timings_and_guides_but_customers_see_neither(
    api, db, world, clock, three_booked, token_for
):
    _, booked, tokens = three_booked
    guide = await token_for("sh.guide")
    task_of_first = """query($id: ID!) { node(id: $id) { ... on Booking { task { id } } } }"""
    task_id = (await api.data(task_of_first, {"id": booked[0]}, guide))["node"]["task"]["id"]
    clock.advance(minutes=2)
    await ok(api.data, ACK, {"id": task_id}, guide)
    [first, *_] = (await api.data(WITH_TASKS, {"first": 3}, await token_for("analyst")))["bookings"]["edges"]
    task = first["node"]["task"]
    assert first["node"]["guide"] == {"displayName": "Sh.Guide"} == task["assignee"]
    assert task["acknowledgedAt"] == iso(clock.now()) and task["ackDueAt"] is None
    assert task["createdAt"] < task["assignedAt"] or task["createdAt"] == task["assignedAt"]
    assert (task["startedAt"], task["completedAt"], task["escalated"], task["escalationCount"]) == (
        None,
        None,
        False,
        0,
    )
    masked = """query($id: ID!) { node(id: $id) { ... on Booking { customer { masked phone } } } }"""
    seen = (await api.data(masked, {"id": booked[0]}, await token_for("analyst")))["node"]["customer"]
    assert seen["masked"] is True and "13812345678" not in (seen["phone"] or "")
    own = """query { myBookings { edges { node { task { id } guide { displayName } } } } }"""
    assert [e["node"] for e in (await api.data(own, token=tokens[0]))["myBookings"]["edges"]] == [
        {"task": None, "guide": None}
    ]


async def test_a_page_of_bookings_with_tasks_and_guides_costs_the_same_statements_whatever_its_size(
    api, db, world, clock, token_for
):
    await give_shifts(db, world)
    livestream = await create_livestream(api.data, world, await token_for("ops"), clock)
    for n in range(6):  # six customers, two slots each: twelve bookings, every one with a task and its guide
        token, _ = await customer(api, f"1381234560{n}")
        for hour in (10 + n, 16 + n):
            payload = await book(api, token, world, next_local(clock, MONDAY, hour), livestreamId=livestream)
            assert payload["errors"] == []
    analyst = await token_for("analyst")
    await api.data(WITH_TASKS, {"first": 1}, analyst)  # her account is confirmed once, then kept: not counted
    costs = {}
    for first in (2, 6, 12):
        with StatementCounter(api) as statements:
            edges = (await api.data(WITH_TASKS, {"first": first}, analyst))["bookings"]["edges"]
        costs[first] = statements.count
        assert len(edges) == first and all(e["node"]["guide"] and e["node"]["task"]["assignee"] for e in edges)
    assert len(set(costs.values())) == 1, costs
