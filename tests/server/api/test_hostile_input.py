"""Hostile input ends in a clear code and writes nothing: ids, strings, dates, JSON, tokens, nodes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import sqlalchemy as sa

from server.models import metadata
from tests.conftest import TEST_SECRET
from tests.server.bookings.helpers import customer
from tests.server.identity.test_api_ingest import INGEST, create_source, ev
from tests.world import gid

HUGE = gid("Store", 99999999999999999999)  # Store:99999999999999999999, a row id past 2^63 - 1
GQL = "application/graphql-response+json"


async def table_counts(db) -> dict[str, int]:
    async with db.engine.connect() as connection:
        return {
            t.name: (await connection.execute(sa.text(f'SELECT count(*) FROM "{t.name}"'))).scalar_one()
            for t in metadata.sorted_tables
        }


async def post_json(api, text: str, token: str | None = None, **headers):
    """A request body as raw JSON text (to send escapes such as \\ud800 exactly as written)."""
    headers = {"content-type": "application/json", **headers}
    if token:
        headers["authorization"] = f"Bearer {token}"
    return await api.client.post("/graphql", content=text.encode(), headers=headers)


def codes(body: dict) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


# --- global ids out of range ---------------------------------------------------------------------


def _the(type_name: str, row: int = 1) -> str:
    return gid(type_name, row)


# (operation, variables, role): each names HUGE (or another out-of-range id) in one id argument.
ID_CASES = [
    ("query($id: ID!) { store(id: $id) { code } }", {"id": HUGE}, "admin"),
    ("query($id: ID!) { node(id: $id) { id } }", {"id": HUGE}, "admin"),
    ("query($id: ID!) { customer(id: $id) { id } }", {"id": gid("Customer", 2**63)}, "admin"),
    ("query($id: ID!) { staff(storeId: $id) { totalCount } }", {"id": HUGE}, "admin"),
    ("query($id: ID!) { products(categoryId: $id) { totalCount } }", {"id": gid("ProductCategory", 10**20)}, "admin"),
    ("query($id: ID!) { livestreams(teamId: $id) { totalCount } }", {"id": gid("Team", 10**20)}, "admin"),
    (
        "query($id: ID!) { guideSchedule(staffId: $id) { shifts { weekday } } }",
        {"id": gid("StaffUser", 10**20)},
        "admin",
    ),
    ("query($id: ID!) { slotSettings(storeId: $id) { slotMinutes } }", {"id": HUGE}, "admin"),
    (
        'query($id: ID!) { availableSlots(storeId: $id, from: "2026-12-01", to: "2026-12-02") { start } }',
        {"id": HUGE},
        "customer",
    ),
    (
        'query($id: ID!) { storeBookings(storeId: $id, from: "2026-12-01T00:00:00Z", to: "2026-12-02T00:00:00Z")'
        " { totalCount } }",
        {"id": HUGE},
        "admin",
    ),
    ("query($id: ID!) { storeTasks(storeId: $id) { totalCount } }", {"id": HUGE}, "admin"),
    (
        "query($id: ID!) { nearbyStores(location: {latitude: 31.2, longitude: 121.4}, serviceId: $id)"
        " { distanceMeters } }",
        {"id": gid("Service", 10**20)},
        "customer",
    ),
    ('mutation($id: ID!) { storeUpdate(input: {id: $id, name: "x"}) { errors { code } } }', {"id": HUGE}, "admin"),
    (
        'mutation($id: ID!) { staffUpdate(input: {id: $id, displayName: "x"}) { errors { code } } }',
        {"id": gid("StaffUser", 10**20)},
        "admin",
    ),
    ("mutation($id: ID!) { staffDeactivate(id: $id) { errors { code } } }", {"id": gid("StaffUser", 0)}, "admin"),
    (
        'mutation($id: ID!) { staffCreate(input: {username: "new.one", password: "long enough pw", displayName: "N",'
        " role: GUIDE, storeId: $id}) { errors { code } } }",
        {"id": HUGE},
        "admin",
    ),
    (
        'mutation($id: ID!) { productUpdate(input: {id: $id, name: "x"}) { errors { code } } }',
        {"id": gid("Product", 10**20)},
        "admin",
    ),
    (
        'mutation($id: ID!) { livestreamUpdate(input: {id: $id, title: "x"}) { errors { code } } }',
        {"id": gid("Livestream", 10**20)},
        "admin",
    ),
    (
        "mutation($id: ID!) { sourceRotateKey(id: $id) { errors { code } } }",
        {"id": gid("TouchpointSource", 10**20)},
        "admin",
    ),
    ("mutation($id: ID!) { sourceDisable(id: $id) { errors { code } } }", {"id": gid("TouchpointSource", -5)}, "admin"),
    (
        "mutation($id: ID!) { personSplit(mergeId: $id) { errors { code } } }",
        {"id": gid("PersonMerge", 10**20)},
        "admin",
    ),
    (
        "mutation($id: ID!) { personErase(customerId: $id) { errors { code } } }",
        {"id": gid("Customer", 10**20)},
        "admin",
    ),
    (
        'mutation($id: ID!) { customerTraitsUpdate(input: {customerId: $id, city: "上海"}) { errors { code } } }',
        {"id": gid("Customer", 10**20)},
        "admin",
    ),
    (
        "mutation($id: ID!) { customerRelationshipGuideSet(customerId: $id) { errors { code } } }",
        {"id": gid("Customer", 10**20)},
        "admin",
    ),
    (
        "mutation($id: ID!) { shiftsSet(staffId: $id, shifts: []) { errors { code } } }",
        {"id": gid("StaffUser", 10**20)},
        "admin",
    ),
    (
        'mutation($id: ID!) { shiftExceptionAdd(input: {staffId: $id, day: "2026-12-24", kind: LEAVE}) '
        "{ errors { code } } }",
        {"id": gid("StaffUser", 10**20)},
        "admin",
    ),
    (
        "mutation($id: ID!) { shiftExceptionRemove(id: $id) { errors { code } } }",
        {"id": gid("ShiftException", 10**20)},
        "admin",
    ),
    (
        "mutation($id: ID!) { slotSettingsUpdate(input: {storeId: $id, slotMinutes: 30}) { errors { code } } }",
        {"id": HUGE},
        "admin",
    ),
    (
        'mutation($id: ID!) { slotCapacityOverrideSet(input: {storeId: $id, day: "2026-12-24", capacity: 3}) '
        "{ errors { code } } }",
        {"id": HUGE},
        "admin",
    ),
    (
        'mutation($id: ID!) { bookingCreate(input: {storeId: $id, slotStart: "2026-12-24T02:00:00Z"}) '
        "{ errors { code } } }",
        {"id": HUGE},
        "customer",
    ),
    (
        "mutation($id: ID!) { bookingCancel(input: {id: $id}) { errors { code } } }",
        {"id": gid("Booking", 10**20)},
        "customer",
    ),
    (
        'mutation($id: ID!) { bookingReschedule(input: {id: $id, slotStart: "2026-12-24T02:00:00Z"}) '
        "{ errors { code } } }",
        {"id": gid("Booking", 10**20)},
        "customer",
    ),
    (
        "mutation($id: ID!) { bookingCheckIn(input: {bookingId: $id}) { errors { code } } }",
        {"id": gid("Booking", 10**20)},
        "admin",
    ),
    ("mutation($id: ID!) { taskAcknowledge(id: $id) { errors { code } } }", {"id": gid("Task", 10**20)}, "sh.guide"),
    (
        "mutation($id: ID!) { taskStepComplete(taskId: $id, position: 1) { errors { code } } }",
        {"id": gid("Task", 10**20)},
        "sh.guide",
    ),
    (
        "mutation($id: ID!) { taskReassign(id: $id, guideId: $id) { errors { code } } }",
        {"id": gid("Task", 10**20)},
        "admin",
    ),
]


@pytest.fixture
async def tokens(api, world, token_for):
    return {
        "admin": await token_for("admin"),
        "sh.guide": await token_for("sh.guide"),
        "customer": (await customer(api))[0],
    }


@pytest.mark.parametrize(
    ("operation", "variables", "role"), ID_CASES, ids=[case[0].split("{")[1].split("(")[0].strip() for case in ID_CASES]
)
async def test_out_of_range_global_id_is_bad_user_input_and_writes_nothing(api, db, tokens, operation, variables, role):
    before = await table_counts(db)
    body = await api(operation, variables, tokens[role])
    assert "Internal error" not in json.dumps(body)
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert "is not a valid global id" in body["errors"][0]["message"]
    assert await table_counts(db) == before


@pytest.mark.parametrize(
    "malformed",
    [HUGE, gid("Store", 0), gid("Store", -1), gid("Store", "abc"), gid("Store", " 1"), "!!!", "", "U3RvcmU6"],
)
async def test_every_kind_of_malformed_id_is_bad_user_input(api, tokens, malformed):
    body = await api("query($id: ID!) { store(id: $id) { code } }", {"id": malformed}, tokens["admin"])
    assert body["data"] == {"store": None}
    assert codes(body) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("malformed", [HUGE, "!!!"])
async def test_a_malformed_id_from_an_anonymous_caller_is_unauthenticated_not_a_hint(api, world, db, malformed):
    before = await table_counts(db)
    query = await api("query($id: ID!) { store(id: $id) { code } }", {"id": malformed})
    mutation = await api(
        "mutation($id: ID!) { bookingCreate(input: {storeId: $id, "
        'slotStart: "2026-12-24T02:00:00Z"}) { errors { code } } }',
        {"id": malformed},
    )
    assert codes(query) == codes(mutation) == ["UNAUTHENTICATED"]
    assert await table_counts(db) == before


async def test_an_id_of_another_type_is_still_not_found(api, tokens, world):
    body = await api(
        'mutation($id: ID!) { storeUpdate(input: {id: $id, name: "x"}) { errors { code } } }',
        {"id": world.gid("Product", "serum")},
        tokens["admin"],
    )
    assert body["data"]["storeUpdate"]["errors"] == [{"code": "NOT_FOUND"}]


async def test_events_ingest_rejects_only_the_event_with_a_malformed_id(api, db, tokens, world):
    key = (await create_source(api, tokens["admin"]))["apiKey"]
    good = ev("good", "phone:13812345678", storeId=world.gid("Store", "shanghai"))
    bad = ev("bad", "phone:13912345678", storeId=HUGE)
    worse = ev("worse", "phone:13712345678", productId="!!!")
    body = await api(INGEST, {"events": [good, bad, worse]}, **{"x-source-key": key})
    ingested = body["data"]["eventsIngest"]
    assert [(r["eventId"], r["status"], r["code"]) for r in ingested["results"]] == [
        ("good", "ACCEPTED", None),
        ("bad", "REJECTED", "INVALID_VALUE"),
        ("worse", "REJECTED", "INVALID_VALUE"),
    ]
    assert "storeId" in ingested["results"][1]["message"]
    async with db.engine.connect() as connection:
        stored = set((await connection.execute(sa.text("SELECT event_key FROM customer_event"))).scalars())
    assert "good" in stored and not stored & {"bad", "worse"}


# --- nodes ---------------------------------------------------------------------------------------

NODE = "query($id: ID!) { node(id: $id) { __typename id } }"


async def test_node_resolves_a_touchpoint_source_for_an_admin_only(api, tokens):
    source = (await create_source(api, tokens["admin"]))["source"]["id"]
    assert (await api.data(NODE, {"id": source}, tokens["admin"]))["node"] == {
        "__typename": "TouchpointSource",
        "id": source,
    }
    assert (await api.data(NODE, {"id": source}, tokens["sh.guide"]))["node"] is None


@pytest.mark.parametrize(
    "type_name",
    [
        "TouchpointSource",
        "PersonMerge",
        "IdentityConflict",
        "ShiftException",
        "Booking",
        "Task",
        "Customer",
        "Livestream",
        "Team",
    ],
)
async def test_node_of_every_node_type_answers_without_error(api, tokens, type_name):
    for role in ("admin", "sh.guide", "customer"):
        body = await api(NODE, {"id": gid(type_name, 424242)}, tokens[role])
        assert body == {"data": {"node": None}}, (role, body)


async def test_node_resolves_a_person_merge_for_an_admin(api, db, tokens):
    from server.domains.identity.models import Person, PersonMerge

    async with db.writer() as session:
        survivor, merged = Person(), Person()
        session.add_all([survivor, merged])
        await session.flush()
        merge = PersonMerge(survivor_id=survivor.id, merged_id=merged.id, actor="test", via_home_ids=[])
        session.add(merge)
        await session.commit()
        merge_id = gid("PersonMerge", merge.id)
    assert (await api.data(NODE, {"id": merge_id}, tokens["admin"]))["node"] == {
        "__typename": "PersonMerge",
        "id": merge_id,
    }
    assert (await api.data(NODE, {"id": merge_id}, tokens["sh.guide"]))["node"] is None


# --- lone surrogates and NUL, wherever strings enter -----------------------------------------------

SURROGATE_CASES = {
    "staffLogin": ("mutation($s: String!) { staffLogin(username: $s, password: $s) { errors { code } } }", None),
    "tokenRefresh": ("mutation($s: String!) { tokenRefresh(refreshToken: $s) { errors { code } } }", None),
    "bookingCheckIn": (
        "mutation($s: String!) { bookingCheckIn(input: {qrToken: $s}) { errors { code } } }",
        "sh.guide",
    ),
    "stores": ("query($s: String!) { stores(city: $s) { totalCount } }", "admin"),
    "teamCreate": ("mutation($s: String!) { teamCreate(input: {name: $s}) { errors { code } } }", "admin"),
    "sourceCreate": (
        "mutation($s: String!) { sourceCreate(input: {name: $s, kind: APP}) { errors { code } } }",
        "admin",
    ),
    "livestreamCreate": (
        'mutation($s: String!, $team: ID!) { livestreamCreate(input: {title: $s, hostName: "H", '
        'teamId: $team, channel: DOUYIN, scheduledStart: "2026-12-24T12:00:00Z", '
        'scheduledEnd: "2026-12-24T14:00:00Z"}) { errors { code } } }',
        "admin",
    ),
    "sopTemplateSet": (
        'mutation($s: String!) { sopTemplateSet(input: {customerType: WALK_IN, name: "SOP", '
        "steps: [{title: $s}]}) { errors { code } } }",
        "admin",
    ),
    "shiftExceptionAdd": (
        "mutation($s: String!, $staff: ID!) { shiftExceptionAdd(input: {staffId: $staff, "
        'day: "2026-12-24", kind: LEAVE, note: $s}) { errors { code } } }',
        "admin",
    ),
}


def _variables_text(world, value_escape: str) -> str:
    return (
        '{"s": "a'
        + value_escape
        + 'b", "team": "'
        + world.gid("Team", "team")
        + '", "staff": "'
        + world.gid("StaffUser", "sh.guide")
        + '"}'
    )


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "\\u0000"])
@pytest.mark.parametrize("name", sorted(SURROGATE_CASES))
async def test_lone_surrogate_or_nul_in_a_variable_is_refused_with_a_request_id(api, db, world, tokens, name, escape):
    operation, role = SURROGATE_CASES[name]
    before = await table_counts(db)
    text = '{"query": ' + json.dumps(operation) + ', "variables": ' + _variables_text(world, escape) + "}"
    response = await post_json(api, text, tokens.get(role) if role else None)
    assert response.status_code == 400, response.text
    assert response.headers["x-request-id"]
    body = response.json()
    assert codes(body) == ["BAD_USER_INPUT"] and "variables.s" in body["errors"][0]["message"]
    assert await table_counts(db) == before


@pytest.mark.parametrize("literal", ['"a\\ud800b"', '"a\\u0000b"', '"\\u{0}"'])
async def test_lone_surrogate_or_nul_in_an_inline_literal_is_refused(api, db, tokens, literal):
    """\\ud800 as a JSON escape inside the query text, and \\u0000 as a GraphQL escape in a literal."""
    before = await table_counts(db)
    query = "mutation { teamCreate(input: {name: " + literal + "}) { errors { code } } }"
    raw = json.dumps({"query": query}, ensure_ascii=True)
    if "ud800" in literal:  # the surrogate itself in the document, as a JSON escape
        raw = raw.replace("\\\\ud800", "\\ud800")
    response = await post_json(api, raw, tokens["admin"], accept=GQL)
    assert response.status_code == 400, response.text
    assert codes(response.json()) == ["BAD_USER_INPUT"], response.text
    assert await table_counts(db) == before


async def test_a_json_body_nested_5000_levels_is_a_400_with_a_request_id(api):
    deep = "[" * 5000 + "]" * 5000
    response = await post_json(api, '{"query": "{ __typename }", "variables": {"x": ' + deep + "}}")
    assert response.status_code == 400
    assert response.headers["x-request-id"]
    assert "nested deeper" in response.json()["errors"][0]["message"]


async def test_json_nested_past_the_limit_is_refused_even_when_python_could_read_it(api):
    deep = "[" * 100 + "]" * 100
    response = await post_json(api, '{"query": "{ __typename }", "variables": {"x": ' + deep + "}}")
    assert response.status_code == 400
    assert codes(response.json()) == ["BAD_USER_INPUT"]


async def test_get_variables_are_held_to_the_same_limits(api):
    response = await api.client.get("/graphql", params={"query": "{ __typename }", "variables": '{"x": "\\ud800"}'})
    assert response.status_code == 400
    assert codes(response.json()) == ["BAD_USER_INPUT"]


async def test_an_error_escaping_the_app_still_answers_500_with_a_request_id_and_a_logged_traceback(
    api, monkeypatch, caplog
):
    from server.api import http

    def boom(*args, **kwargs):
        raise RuntimeError("boom secret")

    monkeypatch.setattr(http, "negotiate", boom)
    response = await api.client.post("/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    assert response.json()["errors"][0]["message"] == f"Internal error (request id {request_id})"
    assert "boom secret" not in response.text
    assert any(r.exc_info and request_id in r.getMessage() for r in caplog.records if r.name == "irs.api")


# --- far dates and long strings -------------------------------------------------------------------


@pytest.mark.parametrize(
    "slot_start",
    [
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:00:00+14:00",
        "1899-12-31T23:00:00Z",
        "3000-01-01T00:00:00Z",
    ],
)
async def test_a_far_slot_start_is_bad_user_input_and_books_nothing(api, db, world, tokens, slot_start):
    before = await table_counts(db)
    for variables in (True, False):
        if variables:
            body = await api(
                "mutation($at: DateTime!, $store: ID!) { bookingCreate(input: {storeId: $store, "
                "slotStart: $at}) { errors { code } } }",
                {"at": slot_start, "store": world.gid("Store", "shanghai")},
                tokens["customer"],
            )
        else:
            body = await api(
                'mutation { bookingCreate(input: {storeId: "'
                + world.gid("Store", "shanghai")
                + '", slotStart: "'
                + slot_start
                + '"}) { errors { code } } }',
                None,
                tokens["customer"],
            )
        assert "Internal error" not in json.dumps(body)
        assert "data" not in body or body["data"] is None
        assert "BAD_USER_INPUT" in codes(body), body
    assert await table_counts(db) == before


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "3000-01-01"])
async def test_far_dates_are_bad_user_input(api, world, tokens, day):
    body = await api(
        "query($store: ID!, $day: Date!) { availableSlots(storeId: $store, from: $day, to: $day) { start } }",
        {"store": world.gid("Store", "shanghai"), "day": day},
        tokens["customer"],
    )
    assert codes(body) == ["BAD_USER_INPUT"], body


async def test_the_last_date_in_range_is_answered(api, world, tokens):
    body = await api(
        'query($store: ID!) { availableSlots(storeId: $store, from: "2999-12-30", to: "2999-12-31") { start } }',
        {"store": world.gid("Store", "shanghai")},
        tokens["customer"],
    )
    assert "errors" not in body, body


async def test_store_create_with_a_10_kb_timezone_is_invalid_timezone(api, db, tokens):
    before = await table_counts(db)
    body = await api(
        "mutation($input: StoreCreateInput!) { storeCreate(input: $input) { errors { code field } } }",
        {
            "input": {
                "code": "S009",
                "name": "广州店",
                "city": "广州",
                "address": "天河路 1 号",
                "location": {"latitude": 23.1, "longitude": 113.3},
                "timezone": "A" * 10_000,
                "openingHours": [],
            }
        },
        tokens["admin"],
    )
    assert body["data"]["storeCreate"]["errors"] == [{"code": "INVALID_TIMEZONE", "field": ["input", "timezone"]}]
    assert await table_counts(db) == before


# --- access tokens the secret signed but that make no sense ----------------------------------------


def _signed(**claims) -> str:
    now = datetime.now(UTC)
    base = {
        "sub": "staff:1",
        "iss": "irs",
        "iat": now.timestamp(),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
        "typ": "access",
        "role": "HQ_ADMIN",
        "store": None,
    }
    return jwt.encode({**base, **claims}, TEST_SECRET, algorithm="HS256")


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": 10**20},
        {"exp": -(10**20)},
        {"sub": "staff:12345678901234567890123"},
        {"sub": "staff:0"},
        {"sub": "customer:-1"},
        {"store": 10**20},
        {"store": "x"},
        {"exp": 1e308},
    ],
)
async def test_signed_tokens_with_absurd_claims_are_unauthenticated(api, world, claims):
    body = await api("{ me { __typename } }", token=_signed(**claims))
    assert codes(body) == ["UNAUTHENTICATED"], body
    assert body["errors"][0]["message"] == "invalid access token"


# --- ids are decoded inside resolvers -------------------------------------------------------------


def _unwrapped(type_):
    while hasattr(type_, "of_type"):
        type_ = type_.of_type
    return type_


def test_no_argument_or_input_field_is_decoded_before_authentication():
    """strawberry decodes a relay.GlobalID argument before permission checks run (a malformed one then
    answers an anonymous caller with a hint); ids are plain ID, decoded by server.api.nodes.local_id."""
    from strawberry import relay
    from strawberry.types.base import StrawberryObjectDefinition

    from server.api.schema import build_schema

    schema = build_schema()
    offenders = []
    for name in schema.schema_converter.type_map:
        definition = schema.get_type_by_name(name)
        if not isinstance(definition, StrawberryObjectDefinition):
            continue
        for field in definition.fields:
            if definition.is_input and _unwrapped(field.type) is relay.GlobalID:
                offenders.append(f"{name}.{field.name}")
            offenders += [
                f"{name}.{field.name}({argument.python_name})"
                for argument in field.arguments
                if _unwrapped(argument.type) is relay.GlobalID
            ]
    assert offenders == []
