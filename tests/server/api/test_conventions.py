"""API conventions: connections, nodes, auth errors, masking, limits, introspection, health."""

from __future__ import annotations

import gc
import json
import logging
import weakref

import graphql
import pytest
from websockets.asyncio.client import connect

from server.api.cost import _WEIGHTS as cost_weights
from server.api.schema import build_schema
from server.domains.common.ratelimits import Limiter
from server.domains.stores.graphql import queries as store_queries
from tests.conftest import answered_nothing, count_rows, make_settings
from tests.live_server import LiveServer, close_of
from tests.world import gid

GQL = "application/graphql-response+json"

STORES = """
query Stores($first: Int, $after: String) {
  stores(first: $first, after: $after) {
    totalCount
    edges { cursor node { code } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}"""

NODE = """
query Node($id: ID!) {
  node(id: $id) { __typename id ... on Store { code } ... on StaffUser { username } }
}"""

STORE_CREATE = """
mutation Create($input: StoreCreateInput!) {
  storeCreate(input: $input) { store { code } errors { code field message } }
}"""

NEW_STORE = {
    "code": "S003",
    "name": "广州店",
    "city": "广州",
    "address": "天河路 1 号",
    "location": {"latitude": 23.13, "longitude": 113.26},
    "openingHours": [{"weekday": "MONDAY", "opens": "10:00:00", "closes": "22:00:00"}],
}


def error_code(body: dict) -> str:
    return body["errors"][0]["extensions"]["code"]


async def request_error(api, query: str, variables: dict | None = None, token: str | None = None) -> dict:
    """A request error under graphql-response+json: 400, no data."""
    headers = {"accept": GQL}
    if token:
        headers["authorization"] = f"Bearer {token}"
    response = await api.client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
    assert response.status_code == 400, response.text
    body = response.json()
    assert "data" not in body
    return body


# --- connections --------------------------------------------------------------------------------


async def test_connection_pages_forward_with_after_end_cursor(api, world, token_for):
    token = await token_for("admin")
    first = (await api.data(STORES, {"first": 1}, token))["stores"]
    assert first["totalCount"] == 2
    assert [e["node"]["code"] for e in first["edges"]] == ["S001"]
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["pageInfo"]["hasPreviousPage"] is False
    assert first["pageInfo"]["endCursor"] == first["edges"][0]["cursor"]

    second = (await api.data(STORES, {"first": 1, "after": first["pageInfo"]["endCursor"]}, token))["stores"]
    assert second["totalCount"] == 2
    assert [e["node"]["code"] for e in second["edges"]] == ["S002"]
    assert second["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize("first", [101, -1])
async def test_connection_page_size_out_of_range_is_bad_user_input(api, world, token_for, first):
    body = await api(STORES, {"first": first}, await token_for("admin"))
    assert answered_nothing(body)
    assert error_code(body) == "BAD_USER_INPUT"
    assert body["errors"][0]["path"] == ["stores"]


async def test_connection_first_100_is_allowed(api, world, token_for):
    data = await api.data(STORES, {"first": 100}, await token_for("admin"))
    assert len(data["stores"]["edges"]) == 2


@pytest.mark.parametrize("after", ["garbage", gid("Store", 1), "!!!"])
async def test_connection_garbage_cursor_is_bad_user_input(api, world, token_for, after):
    body = await api(STORES, {"first": 1, "after": after}, await token_for("admin"))
    assert answered_nothing(body)
    assert error_code(body) == "BAD_USER_INPUT"


# --- node(id:) ----------------------------------------------------------------------------------


async def test_node_returns_a_store_by_global_id(api, world, token_for):
    data = await api.data(NODE, {"id": world.gid("Store", "shanghai")}, await token_for("admin"))
    assert data["node"] == {"__typename": "Store", "id": world.gid("Store", "shanghai"), "code": "S001"}


async def test_node_is_null_for_an_unknown_id(api, world, token_for):
    data = await api.data(NODE, {"id": gid("Store", 999_999)}, await token_for("admin"))
    assert data["node"] is None


@pytest.mark.parametrize("type_name", ["GeoPoint", "Query", "NoSuchType"])
async def test_node_is_null_for_a_type_that_is_not_a_node(api, world, token_for, type_name):
    data = await api.data(NODE, {"id": gid(type_name, world.ids["shanghai"])}, await token_for("admin"))
    assert data["node"] is None


async def test_node_hides_staff_a_guide_may_not_see(api, world, token_for):
    manager = world.gid("StaffUser", "bj.manager")
    assert (await api.data(NODE, {"id": manager}, await token_for("sh.guide")))["node"] is None
    seen = (await api.data(NODE, {"id": manager}, await token_for("admin")))["node"]
    assert seen == {"__typename": "StaffUser", "id": manager, "username": "bj.manager"}


# --- authentication and authorization -----------------------------------------------------------


async def test_missing_token_is_unauthenticated(api, world):
    body = await api(STORES, {"first": 1})
    assert answered_nothing(body)
    assert error_code(body) == "UNAUTHENTICATED"


@pytest.mark.parametrize("authorization", ["Bearer garbage", "Bearer a.b.c", "Basic YWRtaW46eA==", "Bearer "])
async def test_garbage_token_is_unauthenticated(api, world, authorization):
    body = await api(STORES, {"first": 1}, authorization=authorization)
    assert answered_nothing(body)
    assert error_code(body) == "UNAUTHENTICATED"


async def test_expired_token_is_unauthenticated(api, world, token_for, clock):
    token = await token_for("admin")
    assert (await api.data(STORES, {"first": 1}, token))["stores"]["totalCount"] == 2
    clock.advance(minutes=16)
    body = await api(STORES, {"first": 1}, token)
    assert answered_nothing(body)
    assert error_code(body) == "UNAUTHENTICATED"
    assert "expired" in body["errors"][0]["message"]


async def test_guide_creating_a_store_is_forbidden_and_writes_nothing(api, world, token_for, db):
    before = await count_rows(db, "store")
    body = await api(STORE_CREATE, {"input": NEW_STORE}, await token_for("sh.guide"))
    assert answered_nothing(body)
    assert error_code(body) == "FORBIDDEN"
    assert await count_rows(db, "store") == before == 2


async def test_admin_creating_a_store_is_allowed(api, world, token_for, db):
    data = await api.data(STORE_CREATE, {"input": NEW_STORE}, await token_for("admin"))
    assert data["storeCreate"] == {"store": {"code": "S003"}, "errors": []}
    assert await count_rows(db, "store") == 3


# --- masking of unexpected errors ---------------------------------------------------------------


async def test_unexpected_exception_is_masked_with_request_id_and_logged(api, world, token_for, monkeypatch, caplog):
    token = await token_for("admin")

    def boom(**kwargs):
        raise RuntimeError("boom secret")

    monkeypatch.setattr(store_queries.services, "store_listing", boom)
    with caplog.at_level(logging.ERROR, logger="irs.api"):
        response = await api.post(STORES, {"first": 1}, token)
    assert response.status_code == 200
    request_id = response.headers["x-request-id"]
    body = response.json()
    assert answered_nothing(body)
    error = body["errors"][0]
    assert error["message"] == f"Internal error (request id {request_id})"
    assert error["extensions"] == {"code": "INTERNAL", "requestId": request_id}
    assert "boom secret" not in response.text
    logged = [r for r in caplog.records if r.name == "irs.api" and r.exc_info]
    assert len(logged) == 1
    assert request_id in logged[0].getMessage()
    assert isinstance(logged[0].exc_info[1], RuntimeError)
    assert "boom secret" in caplog.text


def _unreachable_url(db) -> str:
    """The test database's URL on a port where nothing listens: PostgreSQL out of reach."""
    return db.engine.url.set(port=1).render_as_string(hide_password=False)


def _unavailable(response) -> dict:
    """The one error of an answer refused because a backend was out of reach, checked for what it shows."""
    request_id = response.headers["x-request-id"]
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "UNAVAILABLE", "requestId": request_id}
    assert error["message"].startswith("Service unavailable") and request_id in error["message"]
    for leak in ("refused", "Errno", "asyncpg", "redis", "127.0.0.1"):  # no driver or library message
        assert leak not in response.text
    return error


async def test_a_database_out_of_reach_answers_unavailable_not_internal(db, app_with_url, token_for):
    """PostgreSQL down or restarting: the client is told to try again shortly, with the request id."""
    if db.is_sqlite:
        pytest.skip("SQLite is a file: there is no server to be out of reach")
    token = await token_for("admin")  # signed with the test secret, as the other app's are
    cut_off = await app_with_url(_unreachable_url(db))
    response = await cut_off.post(STORES, {"first": 1}, token)
    assert response.status_code == 200
    _unavailable(response)


async def test_redis_out_of_reach_answers_unavailable_not_internal(api, world, monkeypatch):
    """The abuse limits count in Redis: with Redis gone, a sign-in is refused as UNAVAILABLE, not INTERNAL."""
    cut_off = Limiter.connect("redis://127.0.0.1:1/0", "irs-test:")
    monkeypatch.setattr(api.app.state.runtime.limits.limiter, "_strategy", cut_off._strategy)
    try:
        response = await api.post(
            'mutation { staffLogin(username: "ops", password: "wrong-password") { session { accessToken } } }'
        )
    finally:
        await cut_off.close()
    assert response.status_code == 200
    assert response.json()["errors"][0]["path"] == ["staffLogin"]
    _unavailable(response)


async def test_expected_errors_are_not_logged_as_unexpected(api, world, caplog):
    with caplog.at_level(logging.ERROR, logger="irs.api"):
        body = await api(STORES, {"first": 1})
    assert error_code(body) == "UNAUTHENTICATED"
    assert not [r for r in caplog.records if r.name == "irs.api"]


# --- query limits -------------------------------------------------------------------------------


def nested_query(depth: int) -> str:
    """A document whose deepest field sits ``depth`` levels below the root fields.

    No path in the schema nests that deep (it has no cycles, and strawberry's depth
    limiter skips introspection fields), so the inner fields are made up: the depth
    rule looks at the document alone and reports alongside the unknown-field errors.
    """
    return "{ " + "f { " * depth + "id" + " }" * (depth + 1)


def depth_errors(body: dict) -> list[str]:
    return [e["message"] for e in body["errors"] if "maximum operation depth" in e["message"]]


async def test_query_depth_over_12_is_rejected(api):
    body = await request_error(api, nested_query(13))
    assert depth_errors(body) == ["'anonymous' exceeds maximum operation depth of 12"]


async def test_query_depth_of_12_passes_the_depth_rule(api):
    body = await request_error(api, nested_query(12))  # still invalid: the fields do not exist
    assert depth_errors(body) == []


async def test_deepest_real_query_is_accepted(api, world, token_for):
    query = "{ livestreams { edges { node { team { members { store { services { id } } } } } } } }"
    assert await api.data(query, token=await token_for("admin")) == {"livestreams": {"edges": []}}


def aliased_query(count: int) -> str:
    return "{ " + " ".join(f"a{i}: __typename" for i in range(count)) + " }"


async def test_more_than_30_aliases_are_rejected(api):
    body = await request_error(api, aliased_query(31))
    assert "alias" in body["errors"][0]["message"].lower()


async def test_30_aliases_are_accepted(api):
    assert len(await api.data(aliased_query(30))) == 30


async def test_query_over_2000_tokens_is_rejected(api):
    query = "{ " + "__typename " * 2000 + "}"
    body = await request_error(api, query)
    assert "2000 tokens" in body["errors"][0]["message"]


async def test_query_within_2000_tokens_is_accepted(api):
    # 8 tokens a field, 1922 in all. (Not ~1990 bare `__typename`s: graphql-core's
    # OverlappingFieldsCanBeMerged hits the recursion limit past ~700 same-named fields.)
    query = "{ " + "__typename @include(if: true) " * 240 + "}"
    assert await api.data(query) == {"__typename": "Query"}


async def test_repeated_query_hits_the_validation_cache(api):
    validations = api.app.state.schema.validations
    query = "query CacheProbe { __typename }"
    await api.data(query)
    hits = validations.hits
    await api.data(query)
    await api.data(query)
    assert validations.hits == hits + 2


async def test_an_operation_s_caches_key_on_its_text_not_its_parsed_document(api, monkeypatch):
    """graphql-core's AST nodes are frozen dataclasses: hashing a document hashes every node of it, a Python
    call each. The validation and cost caches key on the text the document was parsed from instead."""

    def refuse(_document):
        raise AssertionError("a document was hashed")

    query = "query TextKeyed { __typename }"
    monkeypatch.setattr(graphql.DocumentNode, "__hash__", refuse)
    validations = api.app.state.schema.validations
    await api.data(query)
    hits = validations.hits
    assert await api.data(" ".join(query.split(" "))) == {"__typename": "Query"}  # equal text, another string
    assert validations.hits == hits + 1
    refused = (await api.post(query.replace("__typename", "__typenames"))).json()  # other text: its own answer
    assert "Cannot query field '__typenames'" in refused["errors"][0]["message"], refused


def test_a_schema_given_up_is_freed(tmp_path):
    """Nothing at module level holds a schema: strawberry's ValidationCache (keyed on the schema) and the
    cost limit's memo of field weights (holding the fields) kept every schema built alive, several MB each
    (the test suite, which builds one per app, grew to 7.7 GB)."""
    schema = build_schema(make_settings(f"sqlite+aiosqlite:///{tmp_path}/unused.db", tmp_path))
    document = graphql.parse("query Probe { stores(first: 1) { totalCount } }")
    assert schema.validations.validate(document, ()) == []  # what each operation does
    stores = schema._schema.query_type.fields["stores"]
    cost_weights.of(stores)  # what the cost limit reads of each field
    assert id(stores) in cost_weights
    field_id = id(stores)
    gone = weakref.ref(schema)
    del schema, stores
    gc.collect()
    assert gone() is None
    assert field_id not in cost_weights  # the field's figures went with it


# --- introspection and GraphiQL -----------------------------------------------------------------

INTROSPECT = "{ __schema { queryType { name } } }"


async def test_introspection_works_in_development(api):
    assert await api.data(INTROSPECT) == {"__schema": {"queryType": {"name": "Query"}}}


async def test_introspection_is_refused_in_production(app_factory):
    development = await app_factory()
    assert (await development.data(INTROSPECT))["__schema"]  # the same text validated first elsewhere
    production = await app_factory(env="production", graphiql=False, introspection=None)
    body = await request_error(production, INTROSPECT)
    assert "introspection" in body["errors"][0]["message"].lower()
    assert await production.data("{ __typename }") == {"__typename": "Query"}


async def test_graphiql_is_served_in_development(api):
    response = await api.client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


async def test_graphiql_is_not_served_in_production(app_factory):
    production = await app_factory(env="production", graphiql=False, introspection=None)
    response = await production.client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 406
    assert not response.headers["content-type"].startswith("text/html")
    assert "graphiql" not in response.text.lower()


# --- scalars ------------------------------------------------------------------------------------

LIVESTREAM_CREATE = """
mutation Create($input: LivestreamCreateInput!) {
  livestreamCreate(input: $input) { livestream { scheduledStart } errors { code field message } }
}"""


def livestream_input(world, start: str, end: str) -> dict:
    return {
        "title": "Double 12",
        "hostName": "Lily",
        "teamId": world.gid("Team", "team"),
        "channel": "WECHAT_CHANNELS",
        "scheduledStart": start,
        "scheduledEnd": end,
    }


async def test_datetime_without_time_zone_is_a_request_error(api, world, token_for, db):
    variables = {"input": livestream_input(world, "2026-12-01T10:00:00", "2026-12-01T12:00:00Z")}
    body = await request_error(api, LIVESTREAM_CREATE, variables, await token_for("ops"))
    assert "no time zone" in body["errors"][0]["message"]
    assert await count_rows(db, "livestream") == 0


async def test_datetime_with_offset_is_stored_as_utc(api, world, token_for, db):
    variables = {"input": livestream_input(world, "2026-12-01T10:00:00+08:00", "2026-12-01T12:00:00+08:00")}
    data = await api.data(LIVESTREAM_CREATE, variables, await token_for("ops"))
    assert data["livestreamCreate"]["errors"] == []
    assert data["livestreamCreate"]["livestream"]["scheduledStart"] == "2026-12-01T02:00:00Z"
    assert await count_rows(db, "livestream") == 1


# --- health -------------------------------------------------------------------------------------


async def test_healthz_is_ok(api):
    response = await api.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_ready_at_migrations_head(api):
    response = await api.client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


async def test_node_is_null_for_an_interface_name(api, world, token_for):
    token = await token_for("admin")
    data = await api.data("query($id: ID!) { node(id: $id) { id } }", {"id": gid("Node", 1)}, token=token)
    assert data == {"node": None}


async def test_team_members_are_hidden_from_store_roles(api, world, token_for):
    body = await api("{ teams { edges { node { name members { username } } } } }", token=await token_for("sh.guide"))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    ops = await api.data("{ teams { edges { node { members { username } } } } }", token=await token_for("ops"))
    assert ops["teams"]["edges"][0]["node"]["members"] == [{"username": "ops"}]


async def test_a_socket_opened_while_the_database_is_out_of_reach_is_closed_try_again_later(
    db, tmp_root, clock, token_for
):
    """Not 4403 (the guide app signs out on it): 1013, try again later, and the app reconnects."""
    if db.is_sqlite:
        pytest.skip("SQLite is a file: there is no server to be out of reach")
    token = await token_for("admin")
    server = LiveServer(_unreachable_url(db), tmp_root, clock)
    await server.start()
    try:
        async with connect(f"ws://{server.address}/graphql", subprotocols=["graphql-transport-ws"]) as socket_:
            await socket_.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
            assert await close_of(socket_, within=30) == (1013, "service unavailable; try again shortly")
    finally:
        await server.stop()
