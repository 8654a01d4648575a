"""Rules that must hold when requests race (each request has its own transaction): one store per
idempotency key, one per code."""

from __future__ import annotations

import asyncio

from tests.conftest import count_rows

STORE_CREATE = """
mutation($input: StoreCreateInput!) { storeCreate(input: $input) { store { id } errors { code field } } }"""
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
