"""Rules that must hold when requests race (each request has its own transaction): a refresh token is spent once, and
parallel password guesses cannot pass the lock."""

from __future__ import annotations

import asyncio

from tests.world import LOGIN, PASSWORD

REFRESH = """mutation($t: String!) { tokenRefresh(refreshToken: $t) { session { refreshToken } errors { code } } }"""
RACERS = 12


async def test_a_refresh_token_is_spent_exactly_once(api, world):
    session = (await api.data(LOGIN, {"u": "sh.guide", "p": PASSWORD}))["staffLogin"]["session"]
    results = await asyncio.gather(*(api.data(REFRESH, {"t": session["refreshToken"]}) for _ in range(RACERS)))
    winners = [r for r in results if r["tokenRefresh"]["errors"] == []]
    assert len(winners) == 1
    assert all(r["tokenRefresh"]["errors"][0]["code"] == "INVALID_REFRESH_TOKEN" for r in results if r not in winners)


async def test_parallel_password_guesses_cannot_pass_the_lock(api, world):
    results = await asyncio.gather(*(api.data(LOGIN, {"u": "sh.guide", "p": f"wrong guess {i}"}) for i in range(20)))
    codes = [r["staffLogin"]["errors"][0]["code"] for r in results]
    assert codes.count("INVALID_CREDENTIALS") <= 5
    assert codes.count("LOGIN_LOCKED") >= 15
    locked = await api.data(LOGIN, {"u": "sh.guide", "p": PASSWORD})
    assert locked["staffLogin"]["errors"][0]["code"] == "LOGIN_LOCKED"
