"""Livestreams over GraphQL: livestreamCreate, livestreamUpdate (status moves), livestreams."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from server.domains.livestreams.models import Livestream, LivestreamProduct
from tests.conftest import count_rows
from tests.server.assertions import assert_forbidden, assert_user_error, count_tables, fetch
from tests.world import gid

ERRORS = "errors { code field message }"
LIVESTREAM = """id title hostName channel status scheduledStart scheduledEnd actualStart actualEnd
                talkingPoints team { name } products { sku }"""
CREATE = f"""mutation($input: LivestreamCreateInput!) {{
  livestreamCreate(input: $input) {{ livestream {{ {LIVESTREAM} }} {ERRORS} }} }}"""
UPDATE = f"""mutation($input: LivestreamUpdateInput!) {{
  livestreamUpdate(input: $input) {{ livestream {{ {LIVESTREAM} }} {ERRORS} }} }}"""
LIVESTREAMS = """query($status: LivestreamStatus, $teamId: ID) {
  livestreams(status: $status, teamId: $teamId) { totalCount edges { node { title status } } } }"""
TABLES = ("livestream", "livestream_product", "idempotency_record")
START = datetime(2030, 5, 20, 12, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def livestream_input(world, **overrides) -> dict:
    value = {
        "title": "新品沉浸式体验",
        "hostName": "小雅",
        "teamId": world.gid("Team", "team"),
        "channel": "WECHAT_CHANNELS",
        "scheduledStart": iso(START),
        "scheduledEnd": iso(START + timedelta(hours=2)),
        "talkingPoints": ["先讲精华", "再讲唇膏"],
        "productIds": [world.gid("Product", "lipstick"), world.gid("Product", "serum")],
    }
    value.update(overrides)
    return value


async def counts(db) -> dict[str, int]:
    return await count_tables(db, TABLES)


async def livestream_row(db, row_id: int) -> dict:
    (row,) = await fetch(db, Livestream, id=row_id)
    return row.model_dump()


assert_user_error = partial(assert_user_error, obj="livestream")


async def new_livestream(api, world, token, **overrides) -> dict:
    payload = (await api.data(CREATE, {"input": livestream_input(world, **overrides)}, token))["livestreamCreate"]
    assert payload["errors"] == [], payload
    return payload["livestream"]


async def move(api, token, livestream_id: str, status: str) -> dict:
    return (await api.data(UPDATE, {"input": {"id": livestream_id, "status": status}}, token))["livestreamUpdate"]


def row_id(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().split(":")[1])


# livestreamCreate ----------------------------------------------------------------------------


async def test_livestream_create_by_ops_returns_livestream_and_writes_rows(api, world, token_for, db):
    token = await token_for("ops")
    payload = (await api.data(CREATE, {"input": livestream_input(world)}, token))["livestreamCreate"]
    assert payload["errors"] == []
    livestream = payload["livestream"]
    assert {k: v for k, v in livestream.items() if k != "id"} == {
        "title": "新品沉浸式体验",
        "hostName": "小雅",
        "channel": "WECHAT_CHANNELS",
        "status": "SCHEDULED",
        "scheduledStart": "2030-05-20T12:00:00Z",
        "scheduledEnd": "2030-05-20T14:00:00Z",
        "actualStart": None,
        "actualEnd": None,
        "talkingPoints": ["先讲精华", "再讲唇膏"],
        "team": {"name": "Live Team"},
        "products": [{"sku": "LIP-01"}, {"sku": "SERUM-01"}],
    }
    row = await livestream_row(db, row_id(livestream["id"]))
    assert (row["title"], row["host_name"], row["team_id"], row["channel"], row["status"]) == (
        "新品沉浸式体验",
        "小雅",
        world.ids["team"],
        "WECHAT_CHANNELS",
        "SCHEDULED",
    )
    assert (row["scheduled_start"], row["scheduled_end"]) == (START, START + timedelta(hours=2))
    assert row["talking_points"] == ["先讲精华", "再讲唇膏"]
    links = sorted(await fetch(db, LivestreamProduct, livestream_id=row["id"]), key=lambda r: r.position)
    assert [(r.product_id, r.position) for r in links] == [(world.ids["lipstick"], 0), (world.ids["serum"], 1)]


async def test_livestream_create_converts_offsets_to_utc(api, world, token_for, db):
    token = await token_for("admin")
    variables = {
        "input": livestream_input(
            world,
            scheduledStart="2030-05-20T20:00:00+08:00",
            scheduledEnd="2030-05-20T22:00:00+08:00",
            productIds=[],
            talkingPoints=[],
        )
    }
    livestream = (await api.data(CREATE, variables, token))["livestreamCreate"]["livestream"]
    assert (livestream["scheduledStart"], livestream["scheduledEnd"]) == (
        "2030-05-20T12:00:00Z",
        "2030-05-20T14:00:00Z",
    )
    assert livestream["products"] == [] and livestream["talkingPoints"] == []
    row = await livestream_row(db, row_id(livestream["id"]))
    assert row["scheduled_start"] == START
    assert await count_rows(db, "livestream_product") == 0


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        pytest.param(
            {"scheduledEnd": iso(START - timedelta(minutes=30))},
            "INVALID_SCHEDULE",
            ["input", "scheduledEnd"],
            id="end-before-start",
        ),
        pytest.param(
            {"scheduledEnd": iso(START)}, "INVALID_SCHEDULE", ["input", "scheduledEnd"], id="end-equals-start"
        ),
        pytest.param(
            {"scheduledEnd": iso(START + timedelta(hours=24, minutes=1))},
            "INVALID_SCHEDULE",
            ["input", "scheduledEnd"],
            id="longer-than-24h",
        ),
        pytest.param({"teamId": gid("Team", 999999)}, "NOT_FOUND", ["input", "teamId"], id="team-unknown"),
        pytest.param({"teamId": gid("Store", 1)}, "NOT_FOUND", ["input", "teamId"], id="team-other-type"),
        pytest.param(
            {"productIds": [gid("Product", 999999)]}, "NOT_FOUND", ["input", "productIds"], id="product-unknown"
        ),
        pytest.param({"productIds": "twice"}, "INVALID_VALUE", ["input", "productIds"], id="product-twice"),
        pytest.param(
            {"talkingPoints": ["p" * 301]}, "TOO_LONG", ["input", "talkingPoints", "0"], id="talking-point-too-long"
        ),
        pytest.param(
            {"talkingPoints": ["好", "  "]}, "REQUIRED", ["input", "talkingPoints", "1"], id="talking-point-blank"
        ),
        pytest.param(
            {"talkingPoints": ["p"] * 51}, "TOO_MANY", ["input", "talkingPoints"], id="too-many-talking-points"
        ),
        pytest.param({"title": " "}, "REQUIRED", ["input", "title"], id="title-blank"),
        pytest.param({"title": "t" * 101}, "TOO_LONG", ["input", "title"], id="title-too-long"),
        pytest.param({"hostName": ""}, "REQUIRED", ["input", "hostName"], id="host-empty"),
        pytest.param({"hostName": "h" * 65}, "TOO_LONG", ["input", "hostName"], id="host-too-long"),
    ],
)
async def test_livestream_create_rejects_bad_input_and_writes_nothing(
    api, world, token_for, db, overrides, code, field
):
    if overrides.get("productIds") == "twice":
        overrides = {"productIds": [world.gid("Product", "serum")] * 2}
    token = await token_for("ops")
    before = await counts(db)
    data = await api.data(CREATE, {"input": livestream_input(world, **overrides)}, token)
    assert_user_error(data["livestreamCreate"], code, field)
    assert await counts(db) == before


async def test_livestream_create_rejects_datetime_without_time_zone(api, world, token_for, db):
    token = await token_for("ops")
    body = await api(CREATE, {"input": livestream_input(world, scheduledStart="2030-05-20T12:00:00")}, token)
    assert body.get("data") is None and body["errors"]
    assert "time zone" in body["errors"][0]["message"]
    assert await count_rows(db, "livestream") == 0


@pytest.mark.parametrize("username", ["sh.guide", "sh.manager", "analyst"])
async def test_livestream_create_wrong_role_is_forbidden(api, world, token_for, db, username):
    before = await counts(db)
    await assert_forbidden(api, CREATE, {"input": livestream_input(world)}, await token_for(username))
    assert await counts(db) == before


async def test_livestream_create_same_idempotency_key_returns_same_livestream(api, world, token_for, db):
    token = await token_for("ops")
    variables = {"input": livestream_input(world, idempotencyKey="live-1")}
    first = (await api.data(CREATE, variables, token))["livestreamCreate"]
    second = (await api.data(CREATE, variables, token))["livestreamCreate"]
    assert first["errors"] == [] and second == first
    assert await count_rows(db, "livestream") == 1
    assert await count_rows(db, "livestream_product") == 2


async def test_livestream_create_idempotency_key_reused_with_other_input(api, world, token_for, db):
    token = await token_for("ops")
    await api.data(CREATE, {"input": livestream_input(world, idempotencyKey="live-1")}, token)
    before = await counts(db)
    variables = {"input": livestream_input(world, title="另一场", idempotencyKey="live-1")}
    assert_user_error(
        (await api.data(CREATE, variables, token))["livestreamCreate"],
        "IDEMPOTENCY_KEY_REUSED",
        ["input", "idempotencyKey"],
    )
    assert await counts(db) == before


# livestreamUpdate ----------------------------------------------------------------------------


async def test_livestream_update_changes_given_fields_only(api, world, token_for, db):
    token = await token_for("ops")
    livestream = await new_livestream(api, world, token)
    variables = {
        "input": {
            "id": livestream["id"],
            "title": " 双十一预热 ",
            "channel": "DOUYIN",
            "talkingPoints": ["只讲唇膏"],
            "productIds": [world.gid("Product", "serum")],
            "scheduledEnd": iso(START + timedelta(hours=3)),
        }
    }
    payload = (await api.data(UPDATE, variables, token))["livestreamUpdate"]
    assert payload["errors"] == []
    updated = payload["livestream"]
    assert (updated["title"], updated["hostName"], updated["channel"], updated["status"]) == (
        "双十一预热",
        "小雅",
        "DOUYIN",
        "SCHEDULED",
    )
    assert updated["talkingPoints"] == ["只讲唇膏"] and updated["products"] == [{"sku": "SERUM-01"}]
    assert (updated["scheduledStart"], updated["scheduledEnd"]) == ("2030-05-20T12:00:00Z", "2030-05-20T15:00:00Z")
    row = await livestream_row(db, row_id(livestream["id"]))
    assert (row["title"], row["channel"], row["talking_points"], row["scheduled_end"]) == (
        "双十一预热",
        "DOUYIN",
        ["只讲唇膏"],
        START + timedelta(hours=3),
    )
    links = await fetch(db, LivestreamProduct, livestream_id=row["id"])
    assert [(r.product_id, r.position) for r in links] == [(world.ids["serum"], 0)]


async def test_livestream_update_scheduled_to_live_stamps_actual_start(api, world, token_for, db, clock):
    token = await token_for("ops")
    livestream = await new_livestream(api, world, token)
    low = clock.now() - timedelta(seconds=5)
    payload = await move(api, token, livestream["id"], "LIVE")
    high = datetime.now(UTC) + timedelta(seconds=5)
    assert payload["errors"] == []
    assert payload["livestream"]["status"] == "LIVE" and payload["livestream"]["actualEnd"] is None
    assert low <= parse(payload["livestream"]["actualStart"]) <= high
    row = await livestream_row(db, row_id(livestream["id"]))
    assert row["status"] == "LIVE" and low <= row["actual_start"] <= high and row["actual_end"] is None


async def test_livestream_update_live_to_ended_stamps_actual_end(api, world, token_for, db):
    token = await token_for("ops")
    livestream = await new_livestream(api, world, token)
    started = (await move(api, token, livestream["id"], "LIVE"))["livestream"]["actualStart"]
    payload = await move(api, token, livestream["id"], "ENDED")
    assert payload["errors"] == []
    ended = payload["livestream"]
    assert ended["status"] == "ENDED" and ended["actualStart"] == started
    assert parse(ended["actualEnd"]) >= parse(started)
    row = await livestream_row(db, row_id(livestream["id"]))
    assert row["status"] == "ENDED" and row["actual_end"] is not None


async def test_livestream_update_scheduled_to_cancelled(api, world, token_for, db):
    token = await token_for("ops")
    livestream = await new_livestream(api, world, token)
    payload = await move(api, token, livestream["id"], "CANCELLED")
    assert payload["livestream"]["status"] == "CANCELLED"
    assert payload["livestream"]["actualStart"] is None and payload["livestream"]["actualEnd"] is None
    assert (await livestream_row(db, row_id(livestream["id"])))["status"] == "CANCELLED"


async def test_livestream_update_live_stamps_actual_start_from_server_clock(api, world, token_for, db, clock):
    token = await token_for("ops")
    livestream = await new_livestream(api, world, token)
    clock.advance(minutes=7)
    payload = await move(api, token, livestream["id"], "LIVE")
    assert payload["livestream"]["actualStart"] == iso(clock.now())


@pytest.mark.parametrize(
    ("path", "target"),
    [
        (["LIVE", "ENDED"], "LIVE"),
        (["LIVE", "ENDED"], "SCHEDULED"),
        (["CANCELLED"], "LIVE"),
        (["LIVE"], "SCHEDULED"),
        (["LIVE"], "CANCELLED"),
        ([], "ENDED"),
    ],
    ids=[
        "ended-to-live",
        "ended-to-scheduled",
        "cancelled-to-live",
        "live-to-scheduled",
        "live-to-cancelled",
        "scheduled-to-ended",
    ],
)
async def test_livestream_update_rejects_invalid_status_transition(api, world, token_for, db, path, target):
    token = await token_for("ops")
    livestream = await new_livestream(api, world, token)
    for status in path:
        assert (await move(api, token, livestream["id"], status))["errors"] == []
    before, row_before = await counts(db), await livestream_row(db, row_id(livestream["id"]))
    assert_user_error(
        await move(api, token, livestream["id"], target), "INVALID_STATUS_TRANSITION", ["input", "status"]
    )
    assert await counts(db) == before
    assert await livestream_row(db, row_id(livestream["id"])) == row_before


async def test_livestream_update_same_status_is_a_no_op(api, world, token_for, db):
    token = await token_for("ops")
    livestream = await new_livestream(api, world, token)
    payload = await move(api, token, livestream["id"], "SCHEDULED")
    assert payload["errors"] == [] and payload["livestream"]["status"] == "SCHEDULED"


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        pytest.param(
            {"scheduledStart": iso(START + timedelta(hours=3))},
            "INVALID_SCHEDULE",
            ["input", "scheduledEnd"],
            id="start-moved-after-end",
        ),
        pytest.param(
            {"scheduledEnd": iso(START - timedelta(hours=1))},
            "INVALID_SCHEDULE",
            ["input", "scheduledEnd"],
            id="end-moved-before-start",
        ),
        pytest.param(
            {"scheduledEnd": iso(START + timedelta(hours=25))},
            "INVALID_SCHEDULE",
            ["input", "scheduledEnd"],
            id="longer-than-24h",
        ),
        pytest.param({"teamId": gid("Team", 999999)}, "NOT_FOUND", ["input", "teamId"], id="team-unknown"),
        pytest.param(
            {"productIds": [gid("Product", 999999)]}, "NOT_FOUND", ["input", "productIds"], id="product-unknown"
        ),
        pytest.param(
            {"talkingPoints": ["p" * 301]}, "TOO_LONG", ["input", "talkingPoints", "0"], id="talking-point-too-long"
        ),
        pytest.param({"title": ""}, "REQUIRED", ["input", "title"], id="title-empty"),
        pytest.param({"hostName": "h" * 65}, "TOO_LONG", ["input", "hostName"], id="host-too-long"),
    ],
)
async def test_livestream_update_rejects_bad_input_and_writes_nothing(api, world, token_for, db, changes, code, field):
    token = await token_for("ops")
    livestream = await new_livestream(api, world, token)
    before, row_before = await counts(db), await livestream_row(db, row_id(livestream["id"]))
    data = await api.data(UPDATE, {"input": {"id": livestream["id"], **changes}}, token)
    assert_user_error(data["livestreamUpdate"], code, field)
    assert await counts(db) == before
    assert await livestream_row(db, row_id(livestream["id"])) == row_before


async def test_livestream_update_bad_input_with_valid_status_move_does_not_go_live(api, world, token_for, db):
    token = await token_for("ops")
    livestream = await new_livestream(api, world, token)
    variables = {"input": {"id": livestream["id"], "status": "LIVE", "title": ""}}
    assert_user_error((await api.data(UPDATE, variables, token))["livestreamUpdate"], "REQUIRED", ["input", "title"])
    row = await livestream_row(db, row_id(livestream["id"]))
    assert (row["status"], row["actual_start"]) == ("SCHEDULED", None)


@pytest.mark.parametrize("livestream_id", [gid("Livestream", 999999), gid("Team", 1)], ids=["missing", "other-type"])
async def test_livestream_update_unknown_id_is_not_found(api, world, token_for, db, livestream_id):
    token = await token_for("ops")
    before = await counts(db)
    data = await api.data(UPDATE, {"input": {"id": livestream_id, "title": "不存在"}}, token)
    assert_user_error(data["livestreamUpdate"], "NOT_FOUND", ["input", "id"])
    assert await counts(db) == before


@pytest.mark.parametrize("username", ["sh.guide", "sh.manager", "analyst"])
async def test_livestream_update_wrong_role_is_forbidden(api, world, token_for, db, username):
    livestream = await new_livestream(api, world, await token_for("admin"))
    row_before = await livestream_row(db, row_id(livestream["id"]))
    await assert_forbidden(
        api, UPDATE, {"input": {"id": livestream["id"], "status": "LIVE"}}, await token_for(username)
    )
    assert await livestream_row(db, row_id(livestream["id"])) == row_before


# queries -------------------------------------------------------------------------------------


async def test_livestreams_filter_by_status_and_team(api, world, token_for):
    token = await token_for("ops")
    first = await new_livestream(api, world, token, title="第一场")
    await new_livestream(api, world, token, title="第二场")
    third = await new_livestream(api, world, token, title="第三场")
    await move(api, token, first["id"], "LIVE")
    await move(api, token, third["id"], "CANCELLED")
    reader = await token_for("sh.guide")

    async def titles(**filters):
        data = (await api.data(LIVESTREAMS, filters, reader))["livestreams"]
        assert data["totalCount"] == len(data["edges"])
        return [edge["node"]["title"] for edge in data["edges"]]

    assert await titles() == ["第一场", "第二场", "第三场"]
    assert await titles(status="LIVE") == ["第一场"]
    assert await titles(status="SCHEDULED") == ["第二场"]
    assert await titles(status="CANCELLED") == ["第三场"]
    assert await titles(status="ENDED") == []
    assert await titles(teamId=world.gid("Team", "team"), status="LIVE") == ["第一场"]
    assert await titles(teamId=gid("Team", 999999)) == []
