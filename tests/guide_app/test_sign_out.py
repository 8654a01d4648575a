"""Sign-out on a shared store phone, and a session ended elsewhere: against the real server."""

from __future__ import annotations

import logging

from server.domains.auth.tokens import hash_refresh_secret
from tests.server.assertions import scalar
from tests.world import PASSWORD

from .conftest import eventually, signed_in_guide

REVOKED_MESSAGE = "您已被退出登录：登录已在其他设备上结束，或账号已被管理员更改。请重新登录。"
TOKEN_REFRESH = "mutation($t: String!) { tokenRefresh(refreshToken: $t) { errors { code } } }"
STAFF_LOGIN = """mutation($u: String!, $p: String!) { staffLogin(username: $u, password: $p) {
  session { accessToken refreshToken } } }"""
LOGOUT_EVERYWHERE = "mutation($t: String!) { logout(refreshToken: $t, everywhere: true) { revoked } }"
DEACTIVATE = "mutation($id: ID!) { staffDeactivate(input: {id: $id}) { errors { code } } }"


async def test_sign_out_asks_first_and_cancelling_keeps_her_signed_in(server, world, make_session):
    session = await make_session(server.base_url)
    await signed_in_guide(session, server, world)
    await session.confirm_sign_out()  # a confirmation nobody was asked for does nothing
    assert session.api.signed_in and session.screen == "inbox"
    session.ask_sign_out()
    assert session.confirming_sign_out and session.api.signed_in and session.screen == "inbox"
    session.cancel_sign_out()
    assert not session.confirming_sign_out and session.api.signed_in and session.screen == "inbox"
    assert (await session.api.query("MyTaskList", {"first": 1}))["myTaskList"] is not None  # still her session


async def test_confirmed_sign_out_ends_the_session_on_the_server_and_clears_the_password(
    server, world, make_session, guide_database
):
    session = await make_session(server.base_url)
    redraws: list[str] = []
    session.signin.subscribe(lambda signin: redraws.append(signin.password))
    await signed_in_guide(session, server, world)
    assert session.signin.password == "" and redraws[-1] == ""  # the screen was told: the field is empty
    tokens = session.api.tokens
    session.ask_sign_out()
    session.signin.edit(password="typed meanwhile")
    await session.confirm_sign_out()
    assert session.screen == "signin" and not session.api.signed_in and not session.confirming_sign_out
    assert (session.signin.username, session.signin.password, session.signin.message) == ("sh.guide", "", "")
    assert redraws[-1] == ""
    refused = await server.graphql(TOKEN_REFRESH, {"t": tokens.refresh_token})
    assert refused["tokenRefresh"]["errors"] == [{"code": "INVALID_REFRESH_TOKEN"}]
    revoked_at = await scalar(
        guide_database,
        "SELECT revoked_at FROM refresh_token WHERE token_hash = :h",
        h=hash_refresh_secret(tokens.refresh_token),
    )
    assert revoked_at is not None


async def test_a_session_ended_from_another_device_says_so_in_chinese(server, world, make_session, caplog):
    session = await make_session(server.base_url)
    await signed_in_guide(session, server, world)
    other = (await server.graphql(STAFF_LOGIN, {"u": "sh.guide", "p": PASSWORD}))["staffLogin"]["session"]
    await server.graphql(LOGOUT_EVERYWHERE, {"t": other["refreshToken"]})
    await eventually(lambda: session.screen == "signin", what="the way back to sign-in")
    assert session.signin.message == REVOKED_MESSAGE and session.signin.username == "sh.guide"
    assert not session.api.signed_in and session.signin.password == ""
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_an_account_deactivated_by_the_admin_says_so_in_chinese(server, world, make_session, caplog):
    session = await make_session(server.base_url)
    await signed_in_guide(session, server, world)
    admin = (await server.graphql(STAFF_LOGIN, {"u": "admin", "p": PASSWORD}))["staffLogin"]["session"]
    answer = await server.graphql(DEACTIVATE, {"id": world.gid("StaffUser", "sh.guide")}, admin["accessToken"])
    assert answer["staffDeactivate"]["errors"] == []
    await session.run(session.inbox.refresh())  # whichever comes first, her next request or the socket's close
    await eventually(lambda: session.screen == "signin", what="the way back to sign-in")
    assert session.signin.message == REVOKED_MESSAGE and not session.api.signed_in
    assert session.message == ""  # no "something went wrong" on the frame
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_a_refresh_token_past_its_own_expiry_still_says_expired(server, world, clock, make_session):
    session = await make_session(server.base_url)
    await signed_in_guide(session, server, world)
    clock.advance(days=31)
    await session.run(session.inbox.refresh())
    assert session.screen == "signin" and session.signin.message == "登录已过期，请重新登录。"
