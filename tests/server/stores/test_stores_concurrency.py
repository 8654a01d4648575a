"""Rules that must hold when requests race (each request has its own transaction)."""

from __future__ import annotations

import asyncio

from tests.conftest import count_rows
from tests.world import LOGIN, PASSWORD

REFRESH = """mutation($t: String!) { tokenRefresh(refreshToken: $t) { session { refreshToken } errors { code } } }"""
STORE_CREATE = """
mutation($input: StoreCreateInput!) { storeCreate(input: $input) { store { id } errors { code field } } }"""
STAFF_CREATE = """
mutation($input: StaffCreateInput!) { staffCreate(input: $input) { staff { id } errors { code field } } }"""
RACERS = 12


def store_input(code: str, key: str | None) -> dict:
    return {
        "code": code,
        "name": "Race Store",
        "city": "上海",
        "address": "1 Race Road",
        "location": {"latitude": 31.2, "longitude": 121.4},
        "timezone": "Asia/Shanghai",
        "openingHours": [{"weekday": "MONDAY", "opens": "10:00", "closes": "22:00"}],
        "idempotencyKey": key,
    }


async def test_a_refresh_token_is_spent_exactly_once(api, world):
    session = (await api.data(LOGIN, {"u": "sh.guide", "p": PASSWORD}))["staffLogin"]["session"]
    results = await asyncio.gather(*(api.data(REFRESH, {"t": session["refreshToken"]}) for _ in range(RACERS)))
    winners = [r for r in results if r["tokenRefresh"]["errors"] == []]
    assert len(winners) == 1
    assert all(r["tokenRefresh"]["errors"][0]["code"] == "INVALID_REFRESH_TOKEN" for r in results if r not in winners)


async def test_same_idempotency_key_creates_one_store(api, world, token_for, db):
    token = await token_for("admin")
    results = await asyncio.gather(
        *(api.data(STORE_CREATE, {"input": store_input("S900", "race-key")}, token=token) for _ in range(RACERS))
    )
    ids = {r["storeCreate"]["store"]["id"] for r in results}
    assert len(ids) == 1 and all(r["storeCreate"]["errors"] == [] for r in results)
    assert await count_rows(db, "store") == 3  # the world's two plus one


async def test_racing_creates_of_one_store_code_make_one_store(api, world, token_for, db):
    token = await token_for("admin")
    results = await asyncio.gather(
        *(api.data(STORE_CREATE, {"input": store_input("S901", None)}, token=token) for _ in range(RACERS))
    )
    created = [r for r in results if r["storeCreate"]["store"]]
    assert len(created) == 1
    assert {r["storeCreate"]["errors"][0]["code"] for r in results if r not in created} == {"DUPLICATE_CODE"}
    assert await count_rows(db, "store") == 3


async def test_racing_creates_of_one_username_make_one_account(api, world, token_for, db):
    token = await token_for("admin")
    staff = {
        "username": "race.guide",
        "password": "long enough pw",
        "displayName": "Racer",
        "role": "GUIDE",
        "storeId": world.gid("Store", "shanghai"),
    }
    before = await count_rows(db, "staff_user")
    results = await asyncio.gather(*(api.data(STAFF_CREATE, {"input": staff}, token=token) for _ in range(6)))
    assert sum(1 for r in results if r["staffCreate"]["staff"]) == 1
    assert await count_rows(db, "staff_user") == before + 1


async def test_parallel_password_guesses_cannot_pass_the_lock(api, world):
    results = await asyncio.gather(*(api.data(LOGIN, {"u": "sh.guide", "p": f"wrong guess {i}"}) for i in range(20)))
    codes = [r["staffLogin"]["errors"][0]["code"] for r in results]
    assert codes.count("INVALID_CREDENTIALS") <= 5
    assert codes.count("LOGIN_LOCKED") >= 15
    locked = await api.data(LOGIN, {"u": "sh.guide", "p": PASSWORD})
    assert locked["staffLogin"]["errors"][0]["code"] == "LOGIN_LOCKED"


LIVESTREAM_CREATE = """mutation($input: LivestreamCreateInput!) {
  livestreamCreate(input: $input) { livestream { id } errors { code } } }"""
LIVESTREAM_STATUS = """mutation($id: ID!, $status: LivestreamStatus!) {
  livestreamUpdate(input: {id: $id, status: $status}) { livestream { status } errors { code } } }"""


async def test_racing_status_moves_apply_one_transition(api, world, token_for):
    token = await token_for("ops")
    created = await api.data(
        LIVESTREAM_CREATE,
        {
            "input": {
                "title": "Race",
                "hostName": "Host",
                "teamId": world.gid("Team", "team"),
                "channel": "DOUYIN",
                "scheduledStart": "2026-12-01T12:00:00Z",
                "scheduledEnd": "2026-12-01T14:00:00Z",
            }
        },
        token=token,
    )
    livestream_id = created["livestreamCreate"]["livestream"]["id"]
    moves = ["LIVE", "CANCELLED"] * 4
    results = await asyncio.gather(
        *(api.data(LIVESTREAM_STATUS, {"id": livestream_id, "status": s}, token=token) for s in moves)
    )
    applied = {s for s, r in zip(moves, results, strict=False) if r["livestreamUpdate"]["errors"] == []}
    assert len(applied) == 1
