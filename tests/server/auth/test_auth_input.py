"""Sign-in, refresh and sign-out through `input` (the guide app's form from now on); their plain
arguments are deprecated and tested in test_auth_api."""

from __future__ import annotations

from tests.server.assertions import scalar
from tests.world import PASSWORD

LOGIN = """mutation($i: StaffLoginInput!) { staffLogin(input: $i) {
  session { accessToken refreshToken } errors { code field } } }"""
REFRESH = """mutation($i: TokenRefreshInput!) { tokenRefresh(input: $i) {
  session { accessToken refreshToken } errors { code field } } }"""
LOGOUT = """mutation($i: LogoutInput!) { logout(input: $i) { revoked errors { code field } } }"""
ME = "{ me { ... on StaffUser { username } } }"


async def login(api, username: str = "sh.guide") -> dict:
    payload = (await api.data(LOGIN, {"i": {"username": username, "password": PASSWORD}}))["staffLogin"]
    assert payload["errors"] == [], payload
    return payload["session"]


async def test_a_guide_signs_in_refreshes_and_signs_out_through_input(api, world, db):
    first = await login(api)
    assert (await api.data(ME, token=first["accessToken"]))["me"] == {"username": "sh.guide"}
    refreshed = (await api.data(REFRESH, {"i": {"refreshToken": first["refreshToken"]}}))["tokenRefresh"]
    assert refreshed["errors"] == []
    assert await scalar(db, "SELECT count(*) FROM refresh_token WHERE used_at IS NOT NULL") == 1
    out = (await api.data(LOGOUT, {"i": {"refreshToken": refreshed["session"]["refreshToken"]}}))["logout"]
    assert out == {"revoked": True, "errors": []}
    assert await scalar(db, "SELECT count(*) FROM refresh_token WHERE revoked_at IS NULL AND used_at IS NULL") == 0
    body = await api(ME, token=refreshed["session"]["accessToken"])
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_sign_out_everywhere_through_input_ends_every_session(api, world, db):
    phone, tablet = await login(api), await login(api)
    everywhere = {"refreshToken": phone["refreshToken"], "everywhere": True}
    assert (await api.data(LOGOUT, {"i": everywhere}))["logout"]["revoked"] is True
    assert await scalar(db, "SELECT count(*) FROM refresh_token WHERE revoked_at IS NULL") == 0
    body = await api(ME, token=tablet["accessToken"])
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_wrong_password_through_input_writes_no_session(api, world, db):
    wrong = (await api.data(LOGIN, {"i": {"username": "sh.guide", "password": "nope"}}))["staffLogin"]
    assert [e["code"] for e in wrong["errors"]] == ["INVALID_CREDENTIALS"] and wrong["session"] is None
    assert await scalar(db, "SELECT count(*) FROM refresh_token") == 0
