"""Touchpoint sources and eventsIngest over GraphQL: keys, per-event outcomes, bad input, normalisation."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import answered_nothing, count_rows
from tests.world import gid

from .helpers import scalar

SOURCE_CREATE = """
mutation Create($input: SourceCreateInput!) {
  sourceCreate(input: $input) {
    apiKey source { id name kind keyPrefix active } errors { code field message }
  }
}"""
SOURCE_ROTATE = """
mutation Rotate($id: ID!) { sourceRotateKey(id: $id) { apiKey source { keyPrefix } errors { code } } }"""
SOURCE_DISABLE = """
mutation Disable($id: ID!) { sourceDisable(id: $id) { source { active } errors { code } } }"""
SOURCES = "{ touchpointSources { edges { node { name kind active keyPrefix } } } }"
INGEST = """
mutation Ingest($events: [EventInput!]!) {
  eventsIngest(events: $events) {
    accepted duplicates rejected
    results { eventId status code message customerId }
    errors { code field message }
  }
}"""
TYPES = {
    "phone": "PHONE",
    "openid": "WECHAT_OPENID",
    "unionid": "WECHAT_UNIONID",
    "app": "APP_USER_ID",
    "pos": "POS_MEMBER_ID",
    "viewer": "LIVESTREAM_VIEWER_ID",
    "email": "EMAIL",
}
NAMESPACED = {"openid": "wx-app-1", "viewer": "douyin"}
EVENT_TABLES = ("customer_event", "person", "identifier", "person_trait", "person_consent")
# --- shorthand, also used by test_api_lifecycle ------------------------------------------------


def ident(text: str, namespace: str | None = None) -> dict:
    """ "phone:13812345678" -> an IdentifierInput (openid and viewer get a default namespace)."""
    kind, _, value = text.partition(":")
    namespace = namespace or NAMESPACED.get(kind)
    return {"type": TYPES[kind], "value": value, **({"namespace": namespace} if namespace else {})}


def ev(
    event_id: str, *identifiers: str | dict, type: str = "PRODUCT_VIEW", at: datetime | None = None, **fields
) -> dict:
    """An EventInput; ``at`` defaults to an hour ago."""
    return {
        "eventId": event_id,
        "type": type,
        "occurredAt": (at or datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "identifiers": [i if isinstance(i, dict) else ident(i) for i in identifiers],
        **fields,
    }


def person_id(customer_gid: str) -> int:
    type_name, _, row_id = base64.b64decode(customer_gid).decode().partition(":")
    assert type_name == "Customer"
    return int(row_id)


async def create_source(api, token: str, name: str = "mini-program", kind: str = "MINI_PROGRAM") -> dict:
    return (await api.data(SOURCE_CREATE, {"input": {"name": name, "kind": kind}}, token))["sourceCreate"]


async def ingest_raw(api, key: str | None, *events: dict) -> dict:
    headers = {"x-source-key": key} if key else {}
    return await api(INGEST, {"events": list(events)}, **headers)


async def ingest_query(api, key: str, query: str) -> dict:
    body = await api(query, {}, **{"x-source-key": key})
    assert "errors" not in body, body["errors"]
    return body["data"]["eventsIngest"]


async def ingest(api, key: str, *events: dict) -> dict:
    body = await ingest_raw(api, key, *events)
    assert "errors" not in body, body["errors"]
    return body["data"]["eventsIngest"]


async def nothing_written(db) -> bool:
    return all([await count_rows(db, table) == 0 for table in EVENT_TABLES])


def top_level_code(body: dict) -> str:
    return body["errors"][0]["extensions"]["code"]


# --- sources -----------------------------------------------------------------------------------


async def test_source_create_shows_the_key_once_and_stores_it_hashed(api, admin, db):
    created = await create_source(api, admin, "app", "APP")
    key = created["apiKey"]
    assert created["errors"] == [] and key and created["source"]["kind"] == "APP" and created["source"]["active"]
    assert key.startswith(created["source"]["keyPrefix"]) and len(created["source"]["keyPrefix"]) < len(key)
    async with db.engine.connect() as connection:
        rows = (await connection.execute(sa.text("SELECT * FROM touchpoint_source"))).all()
    assert len(rows) == 1 and key not in repr(rows)
    listed = await api.data(SOURCES, token=admin)
    assert "apiKey" not in repr(listed) and key not in repr(listed)


async def test_source_create_refuses_a_duplicate_name(api, admin, db):
    await create_source(api, admin, "pos")
    again = await create_source(api, admin, "pos", "POS")
    assert again["apiKey"] is None and [e["code"] for e in again["errors"]] == ["DUPLICATE_NAME"]
    assert await count_rows(db, "touchpoint_source") == 1


@pytest.mark.parametrize("username", ["analyst", "ops", "sh.manager", "sh.guide"])
async def test_source_create_is_forbidden_to_other_roles(api, token_for, db, username):
    body = await api(SOURCE_CREATE, {"input": {"name": "x", "kind": "OTHER"}}, await token_for(username))
    assert top_level_code(body) == "FORBIDDEN"
    assert await count_rows(db, "touchpoint_source") == 0


async def test_rotated_key_replaces_the_old_one(api, admin, db):
    created = await create_source(api, admin)
    old = created["apiKey"]
    rotated = (await api.data(SOURCE_ROTATE, {"id": created["source"]["id"]}, admin))["sourceRotateKey"]
    new = rotated["apiKey"]
    assert rotated["errors"] == [] and new and new != old
    assert top_level_code(await ingest_raw(api, old, ev("e1", "phone:13812345678"))) == "UNAUTHENTICATED"
    assert (await ingest(api, new, ev("e2", "phone:13812345678")))["accepted"] == 1
    assert await scalar(db, "SELECT event_key FROM customer_event") == "e2"


async def test_disabled_source_key_stops_working(api, admin, db):
    created = await create_source(api, admin)
    disabled = (await api.data(SOURCE_DISABLE, {"id": created["source"]["id"]}, admin))["sourceDisable"]
    assert disabled == {"source": {"active": False}, "errors": []}
    body = await ingest_raw(api, created["apiKey"], ev("e1", "phone:13812345678"))
    assert top_level_code(body) == "UNAUTHENTICATED"
    assert await nothing_written(db)


async def test_touchpoint_sources_lists_every_source(api, admin):
    await create_source(api, admin, "mini-program", "MINI_PROGRAM")
    await create_source(api, admin, "douyin", "LIVESTREAM_PLATFORM")
    await api.data(SOURCE_DISABLE, {"id": (await create_source(api, admin, "old-pos", "POS"))["source"]["id"]}, admin)
    nodes = [e["node"] for e in (await api.data(SOURCES, token=admin))["touchpointSources"]["edges"]]
    assert {(n["name"], n["kind"], n["active"]) for n in nodes} == {
        ("mini-program", "MINI_PROGRAM", True),
        ("douyin", "LIVESTREAM_PLATFORM", True),
        ("old-pos", "POS", False),
    }


# --- authentication of eventsIngest -------------------------------------------------------------


@pytest.mark.parametrize("sent", [None, "", "irs_src_not-a-real-key"], ids=["missing", "empty", "wrong"])
async def test_ingest_without_a_valid_source_key_is_unauthenticated(api, key, db, sent):
    body = await ingest_raw(api, sent, ev("e1", "phone:13812345678"))
    assert top_level_code(body) == "UNAUTHENTICATED" and answered_nothing(body)
    assert await nothing_written(db)


async def test_staff_token_does_not_replace_the_source_key(api, admin, db):
    body = await api(INGEST, {"events": [ev("e1", "phone:13812345678")]}, admin)
    assert top_level_code(body) == "UNAUTHENTICATED"
    assert await nothing_written(db)


# --- per-event outcomes -------------------------------------------------------------------------


async def test_answer_reports_each_outcome_in_order_with_counts(api, key, db):
    answer = await ingest(
        api,
        key,
        ev("a", "phone:13812345678"),
        ev("a", "phone:13812345678"),
        ev("b", "phone:12345"),
        ev("c", "phone:13812345678", "email:ann@example.com"),
    )
    assert (answer["accepted"], answer["duplicates"], answer["rejected"]) == (2, 1, 1)
    assert [(r["eventId"], r["status"], r["code"]) for r in answer["results"]] == [
        ("a", "ACCEPTED", None),
        ("a", "DUPLICATE", None),
        ("b", "REJECTED", "INVALID_PHONE"),
        ("c", "ACCEPTED", None),
    ]
    first, duplicate, rejected, last = answer["results"]
    assert duplicate["customerId"] is None and rejected["customerId"] is None and rejected["message"]
    assert first["customerId"] == last["customerId"]
    pid = person_id(first["customerId"])
    assert await scalar(db, "SELECT count(*) FROM customer_event WHERE person_id = :p", p=pid) == 2
    assert await scalar(db, "SELECT count(*) FROM identifier WHERE person_id = :p", p=pid) == 2


async def test_repeated_event_id_in_a_later_call_is_a_duplicate(api, key, db):
    await ingest(api, key, ev("e1", "phone:13812345678"))
    again = await ingest(api, key, ev("e1", "phone:13912345678"))
    assert (again["accepted"], again["duplicates"]) == (0, 1)
    assert again["results"][0]["status"] == "DUPLICATE"
    assert await count_rows(db, "customer_event") == 1 and await count_rows(db, "identifier") == 1


async def test_repeated_event_id_within_one_batch_is_a_duplicate(api, key, db):
    answer = await ingest(api, key, ev("e1", "phone:13812345678"), ev("e1", "phone:13912345678"))
    assert [r["status"] for r in answer["results"]] == ["ACCEPTED", "DUPLICATE"]
    assert await count_rows(db, "customer_event") == 1 and await count_rows(db, "identifier") == 1


async def test_event_ids_are_unique_per_source(api, admin, key, db):
    other = (await create_source(api, admin, "pos", "POS"))["apiKey"]
    await ingest(api, key, ev("e1", "phone:13812345678"))
    assert (await ingest(api, other, ev("e1", "phone:13812345678")))["accepted"] == 1
    assert await count_rows(db, "customer_event") == 2


async def test_valid_events_are_stored_when_others_in_the_batch_are_rejected(api, key, db):
    answer = await ingest(
        api, key, ev("good-1", "phone:13812345678"), ev("bad", "phone:12345"), ev("good-2", "email:bob@example.com")
    )
    assert [r["status"] for r in answer["results"]] == ["ACCEPTED", "REJECTED", "ACCEPTED"]
    async with db.engine.connect() as connection:
        keys = (await connection.execute(sa.text("SELECT event_key FROM customer_event"))).scalars().all()
    assert sorted(keys) == ["good-1", "good-2"]
    assert await count_rows(db, "identifier") == 2


# --- bad input: one rule each, the event rejected with its code and nothing of it written --------


async def assert_rejected(api, key, db, event: dict, code: str) -> None:
    answer = await ingest(api, key, event)
    assert (answer["accepted"], answer["rejected"]) == (0, 1)
    [result] = answer["results"]
    assert (result["status"], result["code"], result["customerId"]) == ("REJECTED", code, None), result
    assert await nothing_written(db)


async def test_invalid_phone_is_rejected(api, key, db):
    await assert_rejected(api, key, db, ev("e1", "phone:12345", "email:ann@example.com"), "INVALID_PHONE")


async def test_invalid_email_is_rejected(api, key, db):
    await assert_rejected(api, key, db, ev("e1", "phone:13812345678", "email:not-an-email"), "INVALID_EMAIL")


async def test_wechat_openid_without_app_id_is_rejected(api, key, db):
    openid = {"type": "WECHAT_OPENID", "value": "o-123"}
    await assert_rejected(api, key, db, ev("e1", openid, "phone:13812345678"), "INVALID_IDENTIFIER")


async def test_event_without_identifiers_is_rejected(api, key, db):
    await assert_rejected(api, key, db, ev("e1"), "NO_IDENTIFIERS")


async def test_more_than_20_identifiers_are_rejected(api, key, db):
    emails = [f"email:u{n}@example.com" for n in range(21)]
    await assert_rejected(api, key, db, ev("e1", *emails), "TOO_MANY_IDENTIFIERS")
    assert (await ingest(api, key, ev("e2", *emails[:20])))["accepted"] == 1
    assert await count_rows(db, "identifier") == 20


async def test_properties_over_8_kb_are_rejected(api, key, db):
    too_big = {"note": "x" * (8 * 1024)}
    await assert_rejected(api, key, db, ev("e1", "phone:13812345678", properties=too_big), "PROPERTIES_TOO_LARGE")
    assert (await ingest(api, key, ev("e2", "phone:13812345678", properties={"note": "x" * 8000})))["accepted"] == 1


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
async def test_properties_holding_nan_or_an_infinity_are_refused_as_not_json(api, key, db, number):
    """Python's decoder reads them; JSON has no such number, and PostgreSQL refused them in the event's row (an
    internal error once)."""
    event = json.dumps(ev("e1", "phone:13812345678", properties={"x": 1.5})).replace("1.5", number)
    body = '{"query": ' + json.dumps(INGEST) + ', "variables": {"events": [' + event + "]}}"
    headers = {"x-source-key": key, "content-type": "application/json"}
    response = await api.client.post("/graphql", content=body.encode(), headers=headers)
    assert response.status_code == 400, response.text
    errors = response.json()["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"], errors
    assert "not JSON" in errors[0]["message"] and "properties.x" in errors[0]["message"], errors
    assert await count_rows(db, "customer_event") == 0 and await count_rows(db, "person") == 0


@pytest.mark.parametrize("number", ["1e400", "-1e400"])
async def test_properties_written_in_the_document_with_an_infinity_reject_the_event(api, key, db, number):
    """A float literal too large for a float reads as an infinity: the event is refused, the others go in."""
    at = (datetime.now(UTC) - timedelta(hours=1)).isoformat()

    def event(event_id: str, phone: str, x: str) -> str:
        identifiers = f'identifiers: [{{type: PHONE, value: "{phone}"}}]'
        return (
            f'{{eventId: "{event_id}", type: PRODUCT_VIEW, occurredAt: "{at}", {identifiers}, properties: {{x: {x}}}}}'
        )

    events = ", ".join([event("e1", "13812345678", number), event("e2", "13912345678", "1.5")])
    query = f"mutation {{ eventsIngest(events: [{events}]) {{ accepted rejected results {{ status code }} }} }}"
    done = await ingest_query(api, key, query)
    assert (done["accepted"], done["rejected"]) == (1, 1), done
    assert done["results"][0] == {"status": "REJECTED", "code": "INVALID_VALUE"}, done
    assert await count_rows(db, "customer_event") == 1


async def test_event_more_than_24_hours_in_the_future_is_rejected(api, key, db, clock):
    clock.advance(days=30)  # the app's clock, not the wall clock, decides
    future = clock.now() + timedelta(hours=24, seconds=1)
    await assert_rejected(api, key, db, ev("e1", "phone:13812345678", at=future), "FUTURE_EVENT")
    soon = clock.now() + timedelta(hours=23, minutes=59)
    assert (await ingest(api, key, ev("e2", "phone:13812345678", at=soon)))["accepted"] == 1


async def test_two_different_unionids_in_one_event_are_rejected(api, key, db):
    await assert_rejected(
        api, key, db, ev("e1", "unionid:u1", "unionid:u2", "phone:13812345678"), "CONFLICTING_IDENTIFIERS"
    )


@pytest.mark.parametrize(
    "placeholders", [["phone:13800000000"], ["app:anonymous"], ["phone:00000000000", "email:null", "app:guest"]]
)
async def test_only_placeholder_identifiers_are_rejected(api, key, db, placeholders):
    await assert_rejected(api, key, db, ev("e1", *placeholders), "NO_LINKABLE_IDENTIFIER")


@pytest.mark.parametrize(
    "field,type_name", [("storeId", "Store"), ("livestreamId", "Livestream"), ("productId", "Product")]
)
async def test_unknown_reference_is_rejected_as_not_found(api, key, db, world, field, type_name):
    await assert_rejected(api, key, db, ev("e1", "phone:13812345678", **{field: gid(type_name, 999_999)}), "NOT_FOUND")


@pytest.mark.parametrize(
    "field,type_name", [("storeId", "Store"), ("livestreamId", "Livestream"), ("productId", "Product")]
)
async def test_unknown_reference_is_rejected_and_nothing_written(api, key, db, world, field, type_name):
    answer = await ingest(api, key, ev("e1", "phone:13812345678", **{field: gid(type_name, 999_999)}))
    assert answer["results"][0]["status"] == "REJECTED" and answer["results"][0]["code"] == "NOT_FOUND"
    assert await nothing_written(db)


async def test_reference_of_another_type_is_rejected(api, key, db, world):
    product_as_store = world.gid("Product", "serum")
    answer = await ingest(api, key, ev("e1", "phone:13812345678", storeId=product_as_store))
    assert answer["results"][0]["status"] == "REJECTED"
    assert await nothing_written(db)


async def test_known_references_are_stored(api, key, db, world):
    answer = await ingest(
        api,
        key,
        ev(
            "e1",
            "phone:13812345678",
            type="STORE_VISIT",
            storeId=world.gid("Store", "shanghai"),
            productId=world.gid("Product", "serum"),
        ),
    )
    assert answer["accepted"] == 1
    assert await scalar(db, "SELECT store_id FROM customer_event") == world.ids["shanghai"]
    assert await scalar(db, "SELECT product_id FROM customer_event") == world.ids["serum"]


async def test_profile_update_with_malformed_birthday_is_rejected(api, key, db):
    await assert_rejected(
        api,
        key,
        db,
        ev("e1", "phone:13812345678", type="PROFILE_UPDATE", properties={"birthday": "1990-13-45"}),
        "INVALID_VALUE",
    )


# --- bad input: the whole batch ------------------------------------------------------------------


async def test_more_than_500_events_are_refused_and_nothing_written(api, key, db):
    events = [ev(f"e{n}", f"email:u{n}@example.com") for n in range(501)]
    answer = await ingest(api, key, *events)
    assert [e["code"] for e in answer["errors"]] == ["TOO_MANY_EVENTS"]
    assert answer["results"] == [] and answer["accepted"] == 0
    assert await nothing_written(db)


async def test_500_events_are_accepted(api, key, db):
    answer = await ingest(api, key, *[ev(f"e{n}", f"email:u{n}@example.com") for n in range(500)])
    assert answer["accepted"] == 500 and answer["errors"] == []
    assert await count_rows(db, "customer_event") == 500


async def test_unknown_identifier_type_is_a_request_error(api, key, db):
    fax = {"type": "FAX", "value": "010-12345678"}
    body = await ingest_raw(api, key, ev("e1", "phone:13812345678"), ev("e2", fax))
    assert body["errors"] and not body.get("data")
    assert "FAX" in body["errors"][0]["message"]
    assert await nothing_written(db)


# --- normalisation -------------------------------------------------------------------------------


async def test_phone_formats_link_to_the_same_customer(api, key, db):
    answer = await ingest(
        api, key, ev("e1", "phone:+86 138 1234 5678"), ev("e2", "phone:13812345678"), ev("e3", "phone:138-1234-5678")
    )
    assert len({r["customerId"] for r in answer["results"]}) == 1
    async with db.engine.connect() as connection:
        values = (await connection.execute(sa.text("SELECT value FROM identifier"))).scalars().all()
    assert values == ["+8613812345678"]


async def test_email_is_case_insensitive(api, key, db):
    answer = await ingest(api, key, ev("e1", "email:Ann.Lee@Example.COM"), ev("e2", "email:ann.lee@example.com"))
    assert answer["results"][0]["customerId"] == answer["results"][1]["customerId"]
    assert await scalar(db, "SELECT value FROM identifier") == "ann.lee@example.com"


async def test_openids_of_different_apps_are_different_identifiers(api, key, db):
    answer = await ingest(
        api,
        key,
        ev("e1", ident("openid:o-1", "wx-app-a")),
        ev("e2", ident("openid:o-1", "wx-app-b")),
        ev("e3", ident("openid:o-1", "wx-app-a")),
    )
    a, b, a_again = (r["customerId"] for r in answer["results"])
    assert a != b and a == a_again
    assert await count_rows(db, "identifier") == 2 and await count_rows(db, "person") == 2
