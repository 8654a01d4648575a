"""Rules that must hold when requests race (each request has its own transaction): one account per username."""

from __future__ import annotations

import asyncio

from tests.conftest import count_rows

STAFF_CREATE = """
mutation($input: StaffCreateInput!) { staffCreate(input: $input) { staff { id } errors { code field } } }"""


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
