"""The query cost limit (refused before running, QUERY_TOO_COSTLY) and the per-operation time budget (TIMEOUT)."""

from __future__ import annotations

import asyncio

import pytest
from gql import gql

from guide_app.api.documents import document, operation_names
from server.api.cost import document_cost
from server.api.schema import build_schema
from server.domains.stores.models import Store
from server.domains.tasks.topics import store_queue_topic
from tests.conftest import count_rows, make_settings
from tests.live_server import LiveServer, graphql_socket, next_payload, subscribe
from tests.server.assertions import fetch
from tests.server.bookings.helpers import give_shifts, next_local
from tests.server.live import book_on, socket_for, subscribed_then
from tests.world import gid, login

LOCATION = "location: {latitude: 31.23, longitude: 121.47}"
REPORTED = (
    "{ "
    + " ".join(f"a{i}: nearbyStores({LOCATION}, first: 50) {{ nextFreeSlot {{ start }} }}" for i in range(30))
    + " }"
)
CHEAP = "{ __typename }"


def ten_store_lists(first: str) -> str:
    """Ten aliased store lists of ``first`` items each, with their next free slot: 5,500 at ``first: 50``."""
    return " ".join(f"a{i}: nearbyStores({LOCATION}, first: {first}) {{ nextFreeSlot {{ start }} }}" for i in range(10))


def codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


# --- the cost limit -------------------------------------------------------------------------------


async def test_the_reported_document_is_refused_before_it_runs(api, world, token_for, db):
    body = await api(REPORTED, {}, await token_for("admin"))
    assert body.get("data") is None
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "QUERY_TOO_COSTLY", "cost": 16_500, "limit": 5_000}
    assert "16500" in error["message"] and "5000" in error["message"]


async def test_nine_such_aliases_fit_and_run(api, world, token_for):
    document_text = (
        "{ "
        + " ".join(f"a{i}: nearbyStores({LOCATION}, first: 50) {{ nextFreeSlot {{ start }} }}" for i in range(9))
        + " }"
    )
    body = await api(document_text, {}, await token_for("admin"))
    assert "errors" not in body, body["errors"]
    assert len(body["data"]) == 9


async def test_the_size_can_come_from_a_variable(api, world, token_for):
    query = f"query($n: Int!) {{ {ten_store_lists('$n')} }}"
    token = await token_for("admin")
    assert codes(await api(query, {"n": 50}, token)) == ["QUERY_TOO_COSTLY"]
    assert "errors" not in await api(query, {"n": 5}, token)


async def test_a_size_from_a_variable_is_counted_at_each_request_s_value(api, world, token_for):
    """The cheap values first: a cost kept from them would let the costly ones through."""
    query = f"query($n: Int!) {{ {ten_store_lists('$n')} }}"
    token = await token_for("admin")
    for n, expected in ((5, []), (50, ["QUERY_TOO_COSTLY"]), (5, []), (50, ["QUERY_TOO_COSTLY"])):
        assert codes(await api(query, {"n": n}, token)) == expected, n


async def test_variables_that_size_nothing_do_not_change_the_cost(api, world, token_for):
    """A document whose variables only place the lists (a booking's ``$input``) costs the same for any value:
    refused for each, and its cheap twin answered for each."""
    costly = "query($lat: Float!) { " + ten_store_lists("50").replace("31.23", "$lat") + " }"
    cheap = "query($lat: Float!) { " + ten_store_lists("5").replace("31.23", "$lat") + " }"
    token = await token_for("admin")
    for latitude in (31.23, 31.5, 30.0):
        assert codes(await api(costly, {"lat": latitude}, token)) == ["QUERY_TOO_COSTLY"]
        assert codes(await api(cheap, {"lat": latitude}, token)) == []


async def test_a_document_without_variables_is_priced_by_the_operation_it_runs_each_time(api, world, token_for):
    """Its cost is kept by document and operation: the costly operation is refused every time it is sent,
    and the cheap one of the same document runs every time."""
    query = f"query Costly {{ {ten_store_lists('50')} }} query Cheap {{ __typename }}"
    headers = {"authorization": f"Bearer {await token_for('admin')}"}

    async def run(operation: str) -> dict:
        body = {"query": query, "operationName": operation}
        return (await api.client.post("/graphql", json=body, headers=headers)).json()

    for _ in range(2):
        assert codes(await run("Costly")) == ["QUERY_TOO_COSTLY"]
        assert await run("Cheap") == {"data": {"__typename": "Query"}}


async def test_a_size_left_to_its_variable_s_default_is_counted_at_that_default(api, world, token_for):
    """``query($n: Int = 50)`` sent without ``n`` runs 50 items a list: it costs as much as ``first: 50``."""
    query = f"query($n: Int = 50) {{ {ten_store_lists('$n')} }}"
    token = await token_for("admin")
    for _ in range(2):
        assert codes(await api(query, {}, token)) == ["QUERY_TOO_COSTLY"]
    assert "errors" not in await api(query, {"n": 5}, token)


async def test_fragments_are_counted_where_they_are_spread(api, world, token_for):
    query = (
        "fragment Slot on NearbyStore { nextFreeSlot { start } } "
        "{ " + " ".join(f"a{i}: nearbyStores({LOCATION}, first: 50) {{ ...Slot }}" for i in range(10)) + " }"
    )
    body = await api(query, {}, await token_for("admin"))
    assert body["errors"][0]["extensions"]["cost"] == 5_500


async def test_fragments_spreading_fragments_are_counted_quickly_and_refused(api, world, token_for):
    # 40 fragments, each spreading the next twice: 2^40 store lists, counted in 40 steps.
    fragments = [f"fragment F{n} on Query {{ ...F{n + 1} ...F{n + 1} }}" for n in range(39)]
    fragments.append(f"fragment F39 on Query {{ nearbyStores({LOCATION}) {{ store {{ id }} }} }}")
    body = await asyncio.wait_for(api("{ ...F0 } " + " ".join(fragments), {}, await token_for("admin")), 30)
    assert codes(body) == ["QUERY_TOO_COSTLY"]
    assert body["errors"][0]["extensions"]["cost"] >= 2**40


def doubling_fragments(count: int, leaf: str) -> str:
    """``count`` fragments, each spreading the next twice: ``leaf`` is reached 2^(count-1) ways."""
    fragments = [f"fragment F{n} on Query {{ ...F{n + 1} ...F{n + 1} }}" for n in range(count - 1)]
    fragments.append(f"fragment F{count - 1} on Query {{ {leaf} }}")
    return "{ ...F0 } " + " ".join(fragments)


async def test_aliases_reached_through_fragments_are_counted_quickly(api):
    body = await asyncio.wait_for(api(doubling_fragments(40, "a: __typename"), {}), 30)
    assert body["errors"][0]["message"] == f"{2**39} aliases found. Allowed: 30"


async def test_depth_reached_through_fragments_is_checked(api):
    deep = "f { " * 13 + "id" + " }" * 13
    body = await api(doubling_fragments(40, deep), {})
    assert "'anonymous' exceeds maximum operation depth of 12" in [e["message"] for e in body["errors"]]


async def test_a_connection_page_sizes_its_edges(app_factory, world, token_for):
    api = await app_factory(max_query_cost=30)
    token = await token_for("admin")
    # 1 for the connection, then per edge: the edge, its node, and 10 services (a list's assumed size).
    small = await api("{ stores(first: 2) { edges { node { services { code } } } } }", {}, token)
    assert "errors" not in small, small["errors"]
    big = await api("{ stores(first: 3) { edges { node { services { code } } } } }", {}, token)
    assert big["errors"][0]["extensions"] == {"code": "QUERY_TOO_COSTLY", "cost": 1 + 3 * 12, "limit": 30}
    unpaged = await api("{ stores { edges { node { id } } } }", {}, token)
    assert unpaged["errors"][0]["extensions"]["cost"] == 1 + 20 * 2
    capped = await api("{ stores(first: 100000) { edges { node { id } } } }", {}, token)
    assert capped["errors"][0]["extensions"]["cost"] == 1 + 100 * 2


async def test_mutations_are_counted_too(app_factory, world, token_for, db):
    api = await app_factory(max_query_cost=5)
    before = await count_rows(db, "store")
    mutation = """mutation {{ storeUpdate(input: {{id: "{}", name: "x"}}) {{
      store {{ services {{ code }} }} errors {{ code }} }} }}""".format(gid("Store", world.ids["shanghai"]))
    assert codes(await api(mutation, {}, await token_for("admin"))) == ["QUERY_TOO_COSTLY"]
    assert await count_rows(db, "store") == before


async def test_introspection_and_typename_are_free(app_factory, world, token_for):
    api = await app_factory(max_query_cost=1)
    body = await api("{ __typename __schema { types { name fields { name type { name } } } } }", {})
    assert "errors" not in body, body["errors"]


def test_every_guide_app_document_fits_at_full_pages(tmp_path):
    settings = make_settings("sqlite+aiosqlite://", tmp_path)
    schema, limit = build_schema(settings)._schema, settings.max_query_cost
    costs = {name: document_cost(schema, document(name), name, {"first": 100}) for name in operation_names()}
    assert max(costs.values()) <= limit, costs
    assert costs["MyTaskList"] == 2_702  # README quotes it


# --- the time budget ------------------------------------------------------------------------------


class TickingTimer:
    """Each reading is ``step`` seconds after the last: an operation's every step costs that long."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


async def test_a_query_past_its_budget_answers_timeout(app_with_url, db, world, token_for):
    url = db.engine.url.render_as_string(hide_password=False)
    timer = TickingTimer(0.0)
    api = await app_with_url(url, timer=timer, request_timeout_seconds=10)
    token = await token_for("admin")
    assert "errors" not in await api("{ stores(first: 5) { totalCount } }", {}, token)
    timer.step = 11.0
    body = await api("{ stores(first: 5) { totalCount } }", {}, token)
    assert body["data"] == {"stores": None}
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "TIMEOUT", "budgetSeconds": 10, "committed": False}
    assert "nothing was written" in error["message"]


class SwitchTimer:
    """Reads 0 for the first ``after`` readings, then far past any budget."""

    def __init__(self, after: int) -> None:
        self.readings, self.after = 0, after

    def __call__(self) -> float:
        self.readings += 1
        return 0.0 if self.readings <= self.after else 1_000.0


STORE_RENAME = """mutation($id: ID!, $name: String!) { storeUpdate(input: {id: $id, name: $name}) {
  store { name services { code } } errors { code } } }"""


async def test_a_mutation_out_of_time_says_whether_it_was_committed(app_with_url, db, world, token_for):
    """Run out of time at each step in turn: TIMEOUT's ``committed`` always agrees with the database."""
    url = db.engine.url.render_as_string(hide_password=False)
    token = await token_for("admin")
    store_id = gid("Store", world.ids["shanghai"])
    seen = set()
    for after in range(1, 30):
        api = await app_with_url(url, timer=SwitchTimer(after))
        name = f"上海旗舰店 {after}"
        body = await api(STORE_RENAME, {"id": store_id, "name": name}, token)
        (row,) = await fetch(db, Store, id=world.ids["shanghai"])
        if "errors" not in body:
            assert body["data"]["storeUpdate"]["store"]["name"] == name and row.name == name
            break
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "TIMEOUT"
        assert error["extensions"]["committed"] is (row.name == name), (after, body)
        seen.add(error["extensions"]["committed"])
    else:
        pytest.fail("the mutation never finished within its budget")
    assert seen == {False, True}  # both cases were met: before and after the commit


async def test_an_operation_over_websocket_has_the_same_budget(db, world, tmp_root, clock, api):
    timer = SwitchTimer(after=1_000_000)
    server = LiveServer(
        db.engine.url.render_as_string(hide_password=False), tmp_root, clock, timer=timer, request_timeout_seconds=10
    )
    await server.start()
    try:
        token = await login(api, "admin")
        async with graphql_socket(server.address, token) as socket_:
            timer.after = timer.readings + 1  # the operation's start reads 0, its first step 1,000
            await subscribe(socket_, "{ stores(first: 5) { totalCount } }")
            payload = await next_payload(socket_)
        assert payload["data"] == {"stores": None}
        assert [e["extensions"]["code"] for e in payload["errors"]] == ["TIMEOUT"]
    finally:
        await server.stop()


class ManualTimer:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


STORE_QUEUE = gql("""subscription($s: ID!) { storeQueue(storeId: $s) {
  kind task { status assignee { username } } } }""")


async def test_a_subscription_outlives_the_budget(db, world, tmp_root, clock, api):
    """A subscription lasts as long as the socket: its events are read however long ago it began."""
    await give_shifts(db, world)
    timer = ManualTimer()
    server = LiveServer(
        db.engine.url.render_as_string(hide_password=False), tmp_root, clock, timer=timer, request_timeout_seconds=10
    )
    await server.start()
    try:
        manager = await login(api, "sh.manager")

        async def an_hour_later_a_booking():
            timer.now += 3_600
            return await book_on(server, world, "13812345678", next_local(clock, 0, 15))

        _, event = await subscribed_then(
            socket_for(server.address, manager),
            STORE_QUEUE,
            server,
            store_queue_topic(world.ids["shanghai"]),
            an_hour_later_a_booking,
            {"s": world.gid("Store", "shanghai")},
        )
        assert event["storeQueue"] == {
            "kind": "CREATED",
            "task": {"status": "OPEN", "assignee": {"username": "sh.guide"}},
        }
    finally:
        await server.stop()
