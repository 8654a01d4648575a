"""Stores over GraphQL: storeCreate, storeUpdate, stores and store, asserting on the database."""

from __future__ import annotations

from functools import partial

import pytest

from server.domains.stores.models import Store, StoreService
from tests.conftest import count_rows
from tests.server.assertions import assert_forbidden, assert_user_error, count_tables, fetch
from tests.world import gid

ERRORS = "errors { code field message }"
STORE = """id code name city address location { latitude longitude } timezone
           openingHours { weekday opens closes } active services { code }"""
CREATE = f"""mutation($input: StoreCreateInput!) {{
  storeCreate(input: $input) {{ store {{ {STORE} }} {ERRORS} }} }}"""
UPDATE = f"""mutation($input: StoreUpdateInput!) {{
  storeUpdate(input: $input) {{ store {{ {STORE} }} {ERRORS} }} }}"""
STORES = """query($city: String, $active: Boolean) {
  stores(city: $city, active: $active) { totalCount edges { node { code } } } }"""
TABLES = ("store", "store_service", "idempotency_record")


def store_input(**overrides) -> dict:
    value = {
        "code": "S100",
        "name": "杭州店",
        "city": "杭州",
        "address": "湖滨路 1 号",
        "location": {"latitude": 30.25, "longitude": 120.16},
        "timezone": "Asia/Shanghai",
        "openingHours": [
            {"weekday": "MONDAY", "opens": "10:00", "closes": "22:00"},
            {"weekday": "SATURDAY", "opens": "09:30", "closes": "21:00"},
        ],
    }
    value.update(overrides)
    return value


async def counts(db) -> dict[str, int]:
    return await count_tables(db, TABLES)


async def store_row(db, code: str) -> dict:
    (row,) = await fetch(db, Store, code=code)
    return row.model_dump()


assert_user_error = partial(assert_user_error, obj="store")


# storeCreate ---------------------------------------------------------------------------------


async def test_store_create_returns_store_and_writes_rows(api, world, token_for, db):
    token = await token_for("admin")
    data = await api.data(CREATE, {"input": store_input(serviceIds=[world.gid("Service", "trial")])}, token)
    payload = data["storeCreate"]
    assert payload["errors"] == []
    store = payload["store"]
    assert store["code"] == "S100" and store["name"] == "杭州店" and store["city"] == "杭州"
    assert store["location"] == {"latitude": 30.25, "longitude": 120.16}
    assert store["timezone"] == "Asia/Shanghai" and store["active"] is True
    assert store["openingHours"] == [
        {"weekday": "MONDAY", "opens": "10:00:00", "closes": "22:00:00"},
        {"weekday": "SATURDAY", "opens": "09:30:00", "closes": "21:00:00"},
    ]
    assert store["services"] == [{"code": "MAKEUP_TRIAL"}]
    (row,) = await fetch(db, Store, code="S100")
    assert store["id"] == gid("Store", row.id)
    assert (row.name, row.city, row.address, row.latitude, row.longitude, row.timezone, row.active) == (
        "杭州店",
        "杭州",
        "湖滨路 1 号",
        30.25,
        120.16,
        "Asia/Shanghai",
        True,
    )
    assert row.opening_hours == [
        {"weekday": 0, "opens": "10:00", "closes": "22:00"},
        {"weekday": 5, "opens": "09:30", "closes": "21:00"},
    ]
    links = await fetch(db, StoreService, store_id=row.id)
    assert [link.service_id for link in links] == [world.ids["trial"]]


async def test_store_create_trims_text(api, world, token_for, db):
    token = await token_for("admin")
    data = await api.data(CREATE, {"input": store_input(code=" S101 ", name="  杭州二店 ")}, token)
    assert data["storeCreate"]["store"]["code"] == "S101"
    assert (await store_row(db, "S101"))["name"] == "杭州二店"


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        pytest.param({"code": "s100"}, "INVALID_FORMAT", ["input", "code"], id="code-lower-case"),
        pytest.param({"code": "S"}, "INVALID_FORMAT", ["input", "code"], id="code-one-character"),
        pytest.param({"code": "S 100"}, "INVALID_FORMAT", ["input", "code"], id="code-with-space"),
        pytest.param({"code": "S" * 17}, "TOO_LONG", ["input", "code"], id="code-too-long"),
        pytest.param({"code": "  "}, "REQUIRED", ["input", "code"], id="code-blank"),
        pytest.param({"code": "S001"}, "DUPLICATE_CODE", ["input", "code"], id="code-duplicate"),
        pytest.param({"name": ""}, "REQUIRED", ["input", "name"], id="name-empty"),
        pytest.param({"name": "x" * 101}, "TOO_LONG", ["input", "name"], id="name-too-long"),
        pytest.param({"city": "   "}, "REQUIRED", ["input", "city"], id="city-blank"),
        pytest.param({"city": "x" * 51}, "TOO_LONG", ["input", "city"], id="city-too-long"),
        pytest.param({"address": ""}, "REQUIRED", ["input", "address"], id="address-empty"),
        pytest.param({"address": "x" * 201}, "TOO_LONG", ["input", "address"], id="address-too-long"),
        pytest.param(
            {"timezone": "Mars/Olympus_Mons"}, "INVALID_TIMEZONE", ["input", "timezone"], id="timezone-unknown"
        ),
        pytest.param({"timezone": "+08:00"}, "INVALID_TIMEZONE", ["input", "timezone"], id="timezone-offset"),
        pytest.param({"timezone": ""}, "INVALID_TIMEZONE", ["input", "timezone"], id="timezone-empty"),
        pytest.param(
            {"openingHours": [{"weekday": "MONDAY", "opens": "22:00", "closes": "10:00"}]},
            "INVALID_OPENING_HOURS",
            ["input", "openingHours", "0"],
            id="hours-open-after-close",
        ),
        pytest.param(
            {"openingHours": [{"weekday": "MONDAY", "opens": "10:00", "closes": "10:00"}]},
            "INVALID_OPENING_HOURS",
            ["input", "openingHours", "0"],
            id="hours-open-equals-close",
        ),
        pytest.param(
            {"openingHours": [{"weekday": "MONDAY", "opens": "10:15", "closes": "22:00"}]},
            "INVALID_OPENING_HOURS",
            ["input", "openingHours", "0"],
            id="hours-off-grid-open",
        ),
        pytest.param(
            {"openingHours": [{"weekday": "MONDAY", "opens": "10:00", "closes": "21:45"}]},
            "INVALID_OPENING_HOURS",
            ["input", "openingHours", "0"],
            id="hours-off-grid-close",
        ),
        pytest.param(
            {"openingHours": [{"weekday": "MONDAY", "opens": "10:00:30", "closes": "22:00"}]},
            "INVALID_OPENING_HOURS",
            ["input", "openingHours", "0"],
            id="hours-seconds",
        ),
        pytest.param(
            {
                "openingHours": [
                    {"weekday": "MONDAY", "opens": "10:00", "closes": "22:00"},
                    {"weekday": "MONDAY", "opens": "12:00", "closes": "20:00"},
                ]
            },
            "INVALID_OPENING_HOURS",
            ["input", "openingHours", "1"],
            id="hours-weekday-twice",
        ),
        pytest.param(
            {"openingHours": [{"weekday": "MONDAY", "opens": "10:00+08:00", "closes": "22:00"}]},
            "INVALID_OPENING_HOURS",
            ["input", "openingHours", "0"],
            id="hours-with-offset",
        ),
        pytest.param(
            {"openingHours": [{"weekday": "MONDAY", "opens": "10:00+08:00", "closes": "22:00+08:00"}]},
            "INVALID_OPENING_HOURS",
            ["input", "openingHours", "0"],
            id="hours-both-with-offset",
        ),
        pytest.param(
            {"serviceIds": [gid("Service", 999999)]}, "NOT_FOUND", ["input", "serviceIds"], id="service-unknown"
        ),
        pytest.param(
            {"serviceIds": [gid("Product", 1)]}, "NOT_FOUND", ["input", "serviceIds"], id="service-id-of-another-type"
        ),
    ],
)
async def test_store_create_rejects_bad_input_and_writes_nothing(api, world, token_for, db, overrides, code, field):
    token = await token_for("admin")
    before = await counts(db)
    data = await api.data(CREATE, {"input": store_input(**overrides)}, token)
    assert_user_error(data["storeCreate"], code, field)
    assert await counts(db) == before


async def test_store_create_rejects_more_than_50_services(api, world, token_for, db):
    token = await token_for("admin")
    before = await counts(db)
    data = await api.data(CREATE, {"input": store_input(serviceIds=[world.gid("Service", "trial")] * 51)}, token)
    assert_user_error(data["storeCreate"], "TOO_MANY", ["input", "serviceIds"])
    assert await counts(db) == before


@pytest.mark.parametrize(
    "location",
    [
        {"latitude": 90.5, "longitude": 120.0},
        {"latitude": -91.0, "longitude": 120.0},
        {"latitude": 30.0, "longitude": 180.5},
        {"latitude": 30.0, "longitude": -181.0},
    ],
    ids=["lat-high", "lat-low", "lng-high", "lng-low"],
)
async def test_store_create_rejects_coordinates_out_of_range(api, world, token_for, db, location):
    token = await token_for("admin")
    before = await counts(db)
    data = await api.data(CREATE, {"input": store_input(location=location)}, token)
    payload = data["storeCreate"]
    assert [e["code"] for e in payload["errors"]] == ["OUT_OF_RANGE"]
    assert payload["store"] is None
    assert await counts(db) == before


@pytest.mark.parametrize(
    ("location", "field"),
    [
        ({"latitude": 90.5, "longitude": 120.0}, ["input", "location", "latitude"]),
        ({"latitude": 30.0, "longitude": 180.5}, ["input", "location", "longitude"]),
    ],
    ids=["latitude", "longitude"],
)
async def test_store_create_coordinate_error_field_path_is_the_input_field(api, world, token_for, location, field):
    token = await token_for("admin")
    data = await api.data(CREATE, {"input": store_input(location=location)}, token)
    assert_user_error(data["storeCreate"], "OUT_OF_RANGE", field)


async def test_store_create_reports_every_problem_at_once(api, world, token_for, db):
    token = await token_for("admin")
    data = await api.data(CREATE, {"input": store_input(code="bad code", name="", timezone="Nowhere/Land")}, token)
    fields = sorted(tuple(e["field"]) for e in data["storeCreate"]["errors"])
    assert fields == [("input", "code"), ("input", "name"), ("input", "timezone")]


async def test_store_create_needs_hq_admin(api, world, token_for, db):
    for username in ("sh.guide", "sh.manager", "ops", "analyst"):
        await assert_forbidden(api, CREATE, {"input": store_input()}, await token_for(username))
    assert await count_rows(db, "store") == 2


async def test_store_create_without_token_is_unauthenticated(api, world, db):
    body = await api(CREATE, {"input": store_input()})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    assert await count_rows(db, "store") == 2


async def test_store_create_same_idempotency_key_returns_same_store(api, world, token_for, db):
    token = await token_for("admin")
    variables = {"input": store_input(idempotencyKey="open-hangzhou")}
    first = (await api.data(CREATE, variables, token))["storeCreate"]
    second = (await api.data(CREATE, variables, token))["storeCreate"]
    assert first["errors"] == [] and second["errors"] == []
    assert second["store"] == first["store"]
    assert len(await fetch(db, Store, code="S100")) == 1
    assert await count_rows(db, "store") == 3


async def test_store_create_idempotency_key_reused_with_other_input(api, world, token_for, db):
    token = await token_for("admin")
    await api.data(CREATE, {"input": store_input(idempotencyKey="k1")}, token)
    before = await counts(db)
    data = await api.data(CREATE, {"input": store_input(code="S101", idempotencyKey="k1")}, token)
    assert_user_error(data["storeCreate"], "IDEMPOTENCY_KEY_REUSED", ["input", "idempotencyKey"])
    assert await counts(db) == before


async def test_store_create_blank_idempotency_key_is_invalid(api, world, token_for, db):
    token = await token_for("admin")
    before = await counts(db)
    data = await api.data(CREATE, {"input": store_input(idempotencyKey="  ")}, token)
    assert_user_error(data["storeCreate"], "INVALID_VALUE", ["input", "idempotencyKey"])
    assert await counts(db) == before


# storeUpdate ---------------------------------------------------------------------------------


async def test_store_update_changes_given_fields_only(api, world, token_for, db):
    token = await token_for("admin")
    variables = {
        "input": {
            "id": world.gid("Store", "beijing"),
            "name": "北京旗舰店",
            "location": {"latitude": 39.91, "longitude": 116.41},
            "openingHours": [{"weekday": "SUNDAY", "opens": "11:00", "closes": "19:30"}],
            "serviceIds": [world.gid("Service", "trial")],
            "active": False,
        }
    }
    payload = (await api.data(UPDATE, variables, token))["storeUpdate"]
    assert payload["errors"] == []
    store = payload["store"]
    assert store["name"] == "北京旗舰店" and store["active"] is False
    assert store["city"] == "北京" and store["address"] == "王府井 1 号"
    assert store["openingHours"] == [{"weekday": "SUNDAY", "opens": "11:00:00", "closes": "19:30:00"}]
    assert store["services"] == [{"code": "MAKEUP_TRIAL"}]
    row = await store_row(db, "S002")
    assert (row["name"], row["city"], row["latitude"], row["longitude"], row["active"]) == (
        "北京旗舰店",
        "北京",
        39.91,
        116.41,
        False,
    )
    assert row["opening_hours"] == [{"weekday": 6, "opens": "11:00", "closes": "19:30"}]
    assert [s.service_id for s in await fetch(db, StoreService, store_id=world.ids["beijing"])] == [world.ids["trial"]]


async def test_store_update_empty_service_list_removes_services(api, world, token_for, db):
    token = await token_for("admin")
    variables = {"input": {"id": world.gid("Store", "shanghai"), "serviceIds": []}}
    payload = (await api.data(UPDATE, variables, token))["storeUpdate"]
    assert payload["store"]["services"] == []
    assert await fetch(db, StoreService, store_id=world.ids["shanghai"]) == []


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        pytest.param({"name": ""}, "REQUIRED", ["input", "name"], id="name-empty"),
        pytest.param({"name": "x" * 101}, "TOO_LONG", ["input", "name"], id="name-too-long"),
        pytest.param({"city": "x" * 51}, "TOO_LONG", ["input", "city"], id="city-too-long"),
        pytest.param({"address": "x" * 201}, "TOO_LONG", ["input", "address"], id="address-too-long"),
        pytest.param({"timezone": "Asia/Atlantis"}, "INVALID_TIMEZONE", ["input", "timezone"], id="timezone"),
        pytest.param(
            {"openingHours": [{"weekday": "MONDAY", "opens": "20:00", "closes": "09:00"}]},
            "INVALID_OPENING_HOURS",
            ["input", "openingHours", "0"],
            id="hours-open-after-close",
        ),
        pytest.param(
            {"openingHours": [{"weekday": "MONDAY", "opens": "09:10", "closes": "20:00"}]},
            "INVALID_OPENING_HOURS",
            ["input", "openingHours", "0"],
            id="hours-off-grid",
        ),
        pytest.param(
            {
                "openingHours": [
                    {"weekday": "FRIDAY", "opens": "09:00", "closes": "20:00"},
                    {"weekday": "FRIDAY", "opens": "10:00", "closes": "20:00"},
                ]
            },
            "INVALID_OPENING_HOURS",
            ["input", "openingHours", "1"],
            id="hours-weekday-twice",
        ),
        pytest.param(
            {"serviceIds": [gid("Service", 999999)]}, "NOT_FOUND", ["input", "serviceIds"], id="service-unknown"
        ),
    ],
)
async def test_store_update_rejects_bad_input_and_writes_nothing(api, world, token_for, db, changes, code, field):
    token = await token_for("admin")
    before, row_before = await counts(db), await store_row(db, "S001")
    data = await api.data(UPDATE, {"input": {"id": world.gid("Store", "shanghai"), **changes}}, token)
    assert_user_error(data["storeUpdate"], code, field)
    assert await counts(db) == before
    assert await store_row(db, "S001") == row_before


async def test_store_update_rejects_coordinates_out_of_range(api, world, token_for, db):
    token = await token_for("admin")
    row_before = await store_row(db, "S001")
    variables = {"input": {"id": world.gid("Store", "shanghai"), "location": {"latitude": 95, "longitude": 0}}}
    payload = (await api.data(UPDATE, variables, token))["storeUpdate"]
    assert [e["code"] for e in payload["errors"]] == ["OUT_OF_RANGE"] and payload["store"] is None
    assert await store_row(db, "S001") == row_before


@pytest.mark.parametrize("store_id", [gid("Store", 999999), gid("Product", 1)], ids=["missing", "other-type"])
async def test_store_update_unknown_id_is_not_found(api, world, token_for, db, store_id):
    token = await token_for("admin")
    before = await counts(db)
    data = await api.data(UPDATE, {"input": {"id": store_id, "name": "新名字"}}, token)
    assert_user_error(data["storeUpdate"], "NOT_FOUND", ["input", "id"])
    assert await counts(db) == before


async def test_store_update_needs_hq_admin(api, world, token_for, db):
    row_before = await store_row(db, "S001")
    variables = {"input": {"id": world.gid("Store", "shanghai"), "name": "我的店"}}
    for username in ("sh.manager", "sh.guide", "ops"):
        await assert_forbidden(api, UPDATE, variables, await token_for(username))
    assert await store_row(db, "S001") == row_before


# queries -------------------------------------------------------------------------------------


async def test_stores_filter_by_city_and_active(api, world, token_for, db):
    token = await token_for("admin")
    await api.data(CREATE, {"input": store_input(code="S003", city="上海", active=False)}, token)

    async def codes(**filters):
        data = (await api.data(STORES, filters, token))["stores"]
        assert data["totalCount"] == len(data["edges"])
        return [edge["node"]["code"] for edge in data["edges"]]

    assert await codes() == ["S001", "S002", "S003"]
    assert await codes(city="上海") == ["S001", "S003"]
    assert await codes(city="北京") == ["S002"]
    assert await codes(active=False) == ["S003"]
    assert await codes(city="上海", active=True) == ["S001"]
    assert await codes(city="广州") == []


async def test_stores_readable_by_any_staff(api, world, token_for):
    data = await api.data(STORES, {}, await token_for("sh.guide"))
    assert data["stores"]["totalCount"] == 2


async def test_store_by_id(api, world, token_for):
    token = await token_for("sh.guide")
    query = "query($id: ID!) { store(id: $id) { code services { code } } }"
    data = await api.data(query, {"id": world.gid("Store", "shanghai")}, token)
    assert data["store"] == {"code": "S001", "services": [{"code": "MAKEUP_TRIAL"}]}
    assert (await api.data(query, {"id": gid("Store", 999999)}, token))["store"] is None
