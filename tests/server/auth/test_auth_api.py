"""Sign-in, brute-force lock, token rotation and sign-out."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import answered_nothing, calling_from, count_rows
from tests.world import PASSWORD

REFRESH = """
mutation Refresh($t: String!) {
  tokenRefresh(refreshToken: $t) { session { accessToken refreshToken } errors { code field message } }
}"""
LOGOUT = """
mutation Logout($t: String!, $all: Boolean! = false) {
  logout(refreshToken: $t, everywhere: $all) { revoked errors { code } }
}"""
ME = "{ me { displayName ... on StaffUser { username role } } }"
LOGIN = """mutation Login($u: String!, $p: String!) { staffLogin(username: $u, password: $p) {
  session { accessToken refreshToken } errors { code field message retryAfter } } }"""


async def _login(api, username, password=PASSWORD):
    return (await api.data(LOGIN, {"u": username, "p": password}))["staffLogin"]


async def test_login_returns_tokens_that_me_accepts(api, world):
    result = await _login(api, "sh.guide")
    assert result["errors"] == []
    session = result["session"]
    me = await api.data(ME, token=session["accessToken"])
    assert me["me"] == {"displayName": "Sh.Guide", "username": "sh.guide", "role": "GUIDE"}


async def test_username_is_case_insensitive(api, world):
    assert (await _login(api, "  SH.Guide "))["errors"] == []


async def test_wrong_password_and_unknown_user_fail_alike(api, world):
    wrong = await _login(api, "sh.guide", "not the password")
    unknown = await _login(api, "nobody.here", "not the password")
    assert wrong["session"] is None and unknown["session"] is None
    assert (
        wrong["errors"]
        == unknown["errors"]
        == [{"code": "INVALID_CREDENTIALS", "field": None, "message": "wrong username or password", "retryAfter": None}]
    )


@pytest.mark.parametrize("username", ["sh.guide", "nobody.here"])
async def test_five_failures_lock_the_username_at_that_address(api, world, db, username):
    for _ in range(5):
        assert (await _login(api, username, "wrong password!"))["errors"][0]["code"] == "INVALID_CREDENTIALS"
    locked = await _login(api, username, PASSWORD)
    assert locked["session"] is None
    [error] = locked["errors"]
    assert error["code"] == "LOGIN_LOCKED" and 0 < error["retryAfter"] <= 15 * 60
    assert await count_rows(db, "refresh_token") == 0


@pytest.mark.parametrize("username", ["sh.guide", "nobody.here"])
async def test_the_lock_ends_when_its_window_has_passed(app_factory, world, username):
    api = await app_factory(limit_sign_in_per_address="2 per 3 seconds")  # seconds: argon2 takes a while
    for _ in range(2):
        await _login(api, username, "wrong password!")
    locked = await _login(api, username, PASSWORD)
    assert locked["errors"][0]["code"] == "LOGIN_LOCKED" and 0 < locked["errors"][0]["retryAfter"] <= 3
    await asyncio.sleep(locked["errors"][0]["retryAfter"] + 0.05)
    after = await _login(api, username, PASSWORD)
    expected = "INVALID_CREDENTIALS" if username == "nobody.here" else None
    assert (after["errors"][0]["code"] if after["errors"] else None) == expected


async def test_failures_outside_the_window_do_not_add_up(app_factory, world):
    api = await app_factory(limit_sign_in_per_address="3 per 2 seconds")
    for _ in range(2):
        await _login(api, "sh.guide", "wrong password!")
    await asyncio.sleep(2.05)
    await _login(api, "sh.guide", "wrong password!")
    assert (await _login(api, "sh.guide"))["errors"] == []


async def test_success_resets_the_failure_count(api, world):
    for _ in range(4):
        await _login(api, "sh.guide", "wrong password!")
    assert (await _login(api, "sh.guide"))["errors"] == []
    for _ in range(4):
        await _login(api, "sh.guide", "wrong password!")
    assert (await _login(api, "sh.guide"))["errors"] == []


async def test_a_stranger_locks_the_username_only_at_his_own_address(api, world):
    async with calling_from(api, "203.0.113.7") as stranger, calling_from(api, "198.51.100.20") as guide:
        for _ in range(5):
            await _login(stranger, "sh.guide", "wrong password!")
        assert (await _login(stranger, "sh.guide"))["errors"][0]["code"] == "LOGIN_LOCKED"
        signed_in = await _login(guide, "sh.guide")
        assert signed_in["errors"] == [] and signed_in["session"]["accessToken"]
        assert (await _login(stranger, "sh.guide"))["errors"][0]["code"] == "LOGIN_LOCKED"


async def test_the_username_ceiling_counts_every_address(app_factory, world):
    api = await app_factory(limit_sign_in_per_username="4 per 15 minutes")
    for address in ("203.0.113.1", "203.0.113.2"):
        async with calling_from(api, address) as stranger:
            for _ in range(2):
                assert (await _login(stranger, "sh.guide", "wrong!"))["errors"][0]["code"] == "INVALID_CREDENTIALS"
    async with calling_from(api, "198.51.100.20") as guide:
        locked = await _login(guide, "sh.guide")
        assert locked["session"] is None and locked["errors"][0]["code"] == "LOGIN_LOCKED"
        assert locked["errors"][0]["retryAfter"] > 0
    assert (await _login(api, "bj.guide"))["errors"] == []  # other usernames are not held up


async def test_forwarded_addresses_count_apart_only_behind_a_trusted_proxy(app_factory, world):
    async def attempts_from_two_forwarded_addresses(api) -> str:
        for address in ("203.0.113.1", "203.0.113.1", "203.0.113.1", "203.0.113.2", "203.0.113.2"):
            await api(LOGIN, {"u": "sh.guide", "p": "wrong!"}, **{"x-forwarded-for": address})
        body = await api(LOGIN, {"u": "sh.guide", "p": PASSWORD}, **{"x-forwarded-for": "203.0.113.3"})
        return body["data"]["staffLogin"]["errors"][0]["code"] if body["data"]["staffLogin"]["errors"] else "OK"

    direct = await app_factory()  # the header is not believed: all came from one peer
    assert await attempts_from_two_forwarded_addresses(direct) == "LOGIN_LOCKED"
    proxied = await app_factory(trusted_proxies=["127.0.0.0/8"])  # httpx's test peer is 127.0.0.1
    assert await attempts_from_two_forwarded_addresses(proxied) == "OK"


async def test_lock_of_one_username_leaves_others_alone(api, world):
    for _ in range(5):
        await _login(api, "sh.guide", "wrong password!")
    assert (await _login(api, "bj.guide"))["errors"] == []


async def test_refresh_rotates_and_old_token_is_spent(api, world, db):
    first = (await _login(api, "sh.guide"))["session"]
    rotated = (await api.data(REFRESH, {"t": first["refreshToken"]}))["tokenRefresh"]
    assert rotated["errors"] == []
    assert rotated["session"]["refreshToken"] != first["refreshToken"]
    assert (await api.data(ME, token=rotated["session"]["accessToken"]))["me"]["username"] == "sh.guide"
    assert await count_rows(db, "refresh_token") == 2


async def test_reusing_a_spent_refresh_token_revokes_the_family(api, world):
    first = (await _login(api, "sh.guide"))["session"]
    second = (await api.data(REFRESH, {"t": first["refreshToken"]}))["tokenRefresh"]["session"]
    replay = (await api.data(REFRESH, {"t": first["refreshToken"]}))["tokenRefresh"]
    assert replay["errors"][0]["code"] == "INVALID_REFRESH_TOKEN"
    # The thief's replay also ends the legitimate holder's session.
    legit = (await api.data(REFRESH, {"t": second["refreshToken"]}))["tokenRefresh"]
    assert legit["errors"][0]["code"] == "INVALID_REFRESH_TOKEN"


async def test_unknown_and_expired_refresh_tokens_are_refused(api, world, clock):
    unknown = (await api.data(REFRESH, {"t": "made-up"}))["tokenRefresh"]
    assert unknown["errors"] == [
        {
            "code": "INVALID_REFRESH_TOKEN",
            "field": ["refreshToken"],
            "message": "refresh token is invalid or expired; sign in again",
        }
    ]
    session = (await _login(api, "sh.guide"))["session"]
    clock.advance(days=31)
    expired = (await api.data(REFRESH, {"t": session["refreshToken"]}))["tokenRefresh"]
    assert expired["errors"][0]["code"] == "INVALID_REFRESH_TOKEN"


async def test_logout_revokes_the_refresh_token(api, world):
    session = (await _login(api, "sh.guide"))["session"]
    assert (await api.data(LOGOUT, {"t": session["refreshToken"]}))["logout"] == {"revoked": True, "errors": []}
    refused = (await api.data(REFRESH, {"t": session["refreshToken"]}))["tokenRefresh"]
    assert refused["errors"][0]["code"] == "INVALID_REFRESH_TOKEN"


async def test_logout_everywhere_ends_every_session(api, world):
    phone = (await _login(api, "sh.guide"))["session"]
    tablet = (await _login(api, "sh.guide"))["session"]
    await api.data(LOGOUT, {"t": phone["refreshToken"], "all": True})
    refused = (await api.data(REFRESH, {"t": tablet["refreshToken"]}))["tokenRefresh"]
    assert refused["errors"][0]["code"] == "INVALID_REFRESH_TOKEN"


async def test_logout_with_unknown_token_says_so(api, world):
    assert (await api.data(LOGOUT, {"t": "nope"}))["logout"] == {"revoked": False, "errors": []}


async def test_access_token_lasts_15_minutes(api, world, clock):
    token = (await _login(api, "sh.guide"))["session"]["accessToken"]
    clock.advance(minutes=14, seconds=59)
    assert (await api.data(ME, token=token))["me"]["username"] == "sh.guide"
    clock.advance(seconds=2)
    body = await api(ME, token=token)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_me_without_token_is_unauthenticated(api, world):
    body = await api(ME)
    assert answered_nothing(body)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_token_signed_with_another_secret_is_refused(api, app_factory, world):
    other = await app_factory(jwt_secret="another-secret-" + "y" * 40)
    token = (await _login(other, "sh.guide"))["session"]["accessToken"]
    body = await api(ME, token=token)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


DEACTIVATE = "mutation($id: ID!) { staffDeactivate(id: $id) { staff { active } errors { code } } }"
MOVE = """mutation($input: StaffUpdateInput!) { staffUpdate(input: $input) { staff { id } errors { code } } }"""


async def test_deactivation_ends_an_access_token_at_once(api, world, token_for):
    guide = (await _login(api, "sh.guide"))["session"]["accessToken"]
    await api.data(DEACTIVATE, {"id": world.gid("StaffUser", "sh.guide")}, token=await token_for("admin"))
    body = await api(ME, token=guide)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "account deactivated" in body["errors"][0]["message"]


async def test_a_role_change_ends_an_existing_access_token(api, world, token_for):
    """Even one issued in the same instant (the test clock stands still)."""
    manager = (await _login(api, "sh.manager"))["session"]["accessToken"]
    await api.data(
        MOVE, {"input": {"id": world.gid("StaffUser", "sh.manager"), "role": "GUIDE"}}, token=await token_for("admin")
    )
    body = await api("{ staff(first: 5) { totalCount } }", token=manager)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    again = (await _login(api, "sh.manager"))["session"]["accessToken"]
    body = await api("{ staff(first: 5) { totalCount } }", token=again)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # she signs in again, as a guide


async def test_logout_everywhere_also_ends_access_tokens(api, world, clock):
    session = (await _login(api, "sh.guide"))["session"]
    clock.advance(seconds=1)
    await api.data(LOGOUT, {"t": session["refreshToken"], "all": True})
    body = await api(ME, token=session["accessToken"])
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    clock.advance(seconds=1)
    fresh = (await _login(api, "sh.guide"))["session"]["accessToken"]
    assert (await api.data(ME, token=fresh))["me"]["username"] == "sh.guide"


async def test_a_password_reset_ends_existing_access_tokens(api, world, token_for, clock):
    guide = (await _login(api, "sh.guide"))["session"]["accessToken"]
    clock.advance(seconds=1)
    await api.data(
        MOVE,
        {"input": {"id": world.gid("StaffUser", "sh.guide"), "password": "a brand new pw"}},
        token=await token_for("admin"),
    )
    assert (await api(ME, token=guide))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def _unauthenticated(body: dict) -> bool:
    return answered_nothing(body) and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_replaying_a_spent_refresh_token_ends_that_sessions_access_tokens(api, world):
    first = (await _login(api, "sh.guide"))["session"]
    second = (await api.data(REFRESH, {"t": first["refreshToken"]}))["tokenRefresh"]["session"]
    other_device = (await _login(api, "sh.guide"))["session"]
    assert (await api.data(REFRESH, {"t": first["refreshToken"]}))["tokenRefresh"]["session"] is None
    for stolen_or_legit in (first["accessToken"], second["accessToken"]):
        body = await api(ME, token=stolen_or_legit)
        assert _unauthenticated(body) and "session ended" in body["errors"][0]["message"]
    # Only that session ended: the same guide on another device goes on.
    assert (await api.data(ME, token=other_device["accessToken"]))["me"]["username"] == "sh.guide"


async def test_logout_ends_that_sessions_access_token_at_once(api, world):
    phone = (await _login(api, "sh.guide"))["session"]
    tablet = (await _login(api, "sh.guide"))["session"]
    await api.data(LOGOUT, {"t": phone["refreshToken"]})
    assert _unauthenticated(await api(ME, token=phone["accessToken"]))
    assert (await api.data(ME, token=tablet["accessToken"]))["me"]["username"] == "sh.guide"


async def test_a_customer_s_logout_ends_that_sessions_access_token_at_once(api, world):
    """A customer is confirmed at every operation (never kept): her session's end is read with her row."""
    login = """mutation { customerLogin(input: {phone: "13812345678", smsCode: "000000"}) {
      session { accessToken refreshToken } } }"""
    phone = (await api.data(login))["customerLogin"]["session"]
    tablet = (await api.data(login))["customerLogin"]["session"]
    assert (await api.data(ME, token=phone["accessToken"]))["me"]["displayName"] is not None
    assert (await api.data(LOGOUT, {"t": phone["refreshToken"]}))["logout"]["revoked"]
    assert _unauthenticated(await api(ME, token=phone["accessToken"]))
    assert (await api.data(ME, token=tablet["accessToken"]))["me"] is not None


async def test_logout_everywhere_ends_a_token_issued_in_the_same_instant(api, world, clock):
    """The test clock stands still: the token and the revocation share one timestamp."""
    session = (await _login(api, "sh.guide"))["session"]
    await api.data(LOGOUT, {"t": session["refreshToken"], "all": True})
    assert _unauthenticated(await api(ME, token=session["accessToken"]))
    fresh = (await _login(api, "sh.guide"))["session"]["accessToken"]
    assert (await api.data(ME, token=fresh))["me"]["username"] == "sh.guide"


async def test_a_store_change_ends_an_existing_access_token(api, world, token_for):
    manager = (await _login(api, "sh.manager"))["session"]["accessToken"]
    await api.data(
        MOVE,
        {"input": {"id": world.gid("StaffUser", "sh.manager"), "storeId": world.gid("Store", "beijing")}},
        token=await token_for("admin"),
    )
    assert _unauthenticated(await api(ME, token=manager))


CUSTOMER_LOGIN = """mutation { customerLogin(input: {phone: "13812345678", smsCode: "000000"}) {
  session { accessToken refreshToken } errors { code } } }"""
CUSTOMER_ME = "{ me { ... on Customer { phone } } }"


async def test_a_customers_replayed_refresh_token_ends_her_access_tokens(api, world):
    first = (await api.data(CUSTOMER_LOGIN))["customerLogin"]["session"]
    second = (await api.data(REFRESH, {"t": first["refreshToken"]}))["tokenRefresh"]["session"]
    assert (await api.data(CUSTOMER_ME, token=second["accessToken"]))["me"]["phone"] == "+8613812345678"
    await api.data(REFRESH, {"t": first["refreshToken"]})
    assert _unauthenticated(await api(CUSTOMER_ME, token=second["accessToken"]))


async def test_an_access_token_without_a_session_is_refused(api, world, clock):
    """Signed with the right secret, but naming no session (as tokens issued before sessions were checked)."""
    import jwt

    from tests.conftest import TEST_SECRET

    now = clock.now().timestamp()
    claims = {
        "sub": f"staff:{world.ids['sh.guide']}",
        "iss": "irs",
        "iat": now,
        "exp": int(now) + 600,
        "typ": "access",
        "role": "GUIDE",
        "store": world.ids["shanghai"],
    }
    body = await api(ME, token=jwt.encode(claims, TEST_SECRET, algorithm="HS256"))
    assert _unauthenticated(body)
