"""Bad input and failure: each shows a clear Chinese message, keeps what the guide typed, loses no task."""

from __future__ import annotations

from guide_app.api.tokens import JsonTokenStore
from server.domains.tasks.topics import staff_topic
from tests.live_server import free_port

from .conftest import customer_books, eventually, livestream, signed_in_guide

LOGOUT_EVERYWHERE = """mutation($t: String!) { logout(refreshToken: $t, everywhere: true) { revoked } }"""
SESSION_ENDED = "您已被退出登录：登录已在其他设备上结束，或账号已被管理员更改。请重新登录。"
STAFF_LOGIN = """mutation($u: String!, $p: String!) { staffLogin(username: $u, password: $p) {
  session { refreshToken } } }"""


async def test_a_wrong_password_says_so_and_keeps_what_she_typed(server, make_session):
    session = await make_session(server.base_url)
    session.signin.edit(username="sh.guide", password="not her password")
    assert not await session.signin.sign_in()
    assert session.signin.message == "用户名或密码错误。"
    assert (session.signin.username, session.signin.password) == ("sh.guide", "not her password")
    assert session.screen == "signin" and not session.api.signed_in


async def test_a_locked_account_says_it_is_locked(server, make_session):
    from tests.world import PASSWORD

    session = await make_session(server.base_url)
    for attempt in range(5):
        session.signin.edit(username="sh.guide", password=f"wrong {attempt}")
        assert not await session.signin.sign_in()
    session.signin.edit(password=PASSWORD)  # even the right password, while locked
    assert not await session.signin.sign_in()
    assert session.signin.message == "登录失败次数过多，账号已锁定 15 分钟，请稍后再试。"
    assert session.signin.username == "sh.guide" and session.signin.password == PASSWORD


async def test_empty_fields_are_caught_before_asking_the_server(make_session):
    session = await make_session(f"http://127.0.0.1:{free_port()}")
    session.signin.edit(username="  ", password="")
    assert not await session.signin.sign_in()
    assert session.signin.message == "请输入用户名和密码。"


async def test_an_unreachable_server_keeps_her_input(make_session):
    session = await make_session(f"http://127.0.0.1:{free_port()}")  # nothing listens there
    session.signin.edit(username="sh.guide", password="typed")
    assert not await session.signin.sign_in()
    assert session.signin.message == "无法连接服务器，请检查网络后重试。"
    assert (session.signin.username, session.signin.password) == ("sh.guide", "typed")


async def test_the_access_token_is_refreshed_before_it_expires(server, world, clock, make_session):
    session = await make_session(server.base_url)
    await signed_in_guide(session, server, world)
    first = session.api.tokens
    clock.advance(minutes=14)  # within the 2-minute margin of its 15 minutes
    await session.inbox.refresh()
    assert session.inbox.message == ""
    second = session.api.tokens
    assert second.access_token != first.access_token and second.refresh_token != first.refresh_token
    clock.advance(minutes=20)  # long past the old one: still signed in
    await session.inbox.refresh()
    assert session.inbox.message == "" and session.screen == "inbox"


async def test_an_expired_refresh_token_leads_back_to_sign_in(server, world, clock, make_session, tmp_path):
    store = JsonTokenStore(tmp_path / "session.json")
    session = await make_session(server.base_url, store)
    await signed_in_guide(session, server, world)
    assert store.load() is not None
    clock.advance(days=31)
    await session.run(session.inbox.refresh())
    assert session.screen == "signin"
    assert session.signin.message == "登录已过期，请重新登录。"
    assert session.signin.username == "sh.guide" and store.load() is None


async def test_a_session_ended_on_another_device_leads_back_to_sign_in(server, world, clock, make_session):
    from tests.world import PASSWORD

    session = await make_session(server.base_url)
    await signed_in_guide(session, server, world)
    clock.advance(seconds=1)  # the revocation is after her token was issued
    other = (await server.graphql(STAFF_LOGIN, {"u": "sh.guide", "p": PASSWORD}))["staffLogin"]["session"]
    await server.graphql(LOGOUT_EVERYWHERE, {"t": other["refreshToken"]})
    await session.run(session.inbox.refresh())
    assert session.screen == "signin" and session.signin.message == SESSION_ENDED


async def test_a_session_ended_elsewhere_closes_the_live_inbox_and_leads_back_to_sign_in(server, world, make_session):
    """No request of hers needed: the server closes her socket (4403) and the app finds the session gone."""
    from tests.world import PASSWORD

    session = await make_session(server.base_url)
    await signed_in_guide(session, server, world)
    other = (await server.graphql(STAFF_LOGIN, {"u": "sh.guide", "p": PASSWORD}))["staffLogin"]["session"]
    await server.graphql(LOGOUT_EVERYWHERE, {"t": other["refreshToken"]})
    await eventually(lambda: session.screen == "signin", what="the way back to sign-in")
    assert session.signin.message == SESSION_ENDED and not session.api.signed_in


async def test_a_kept_session_resumes_after_a_restart_of_the_app(server, world, make_session, tmp_path):
    store = JsonTokenStore(tmp_path / "session.json")
    first = await make_session(server.base_url, store)
    await signed_in_guide(first, server, world)
    await first.inbox.stop()
    again = await make_session(server.base_url, JsonTokenStore(tmp_path / "session.json"))
    await again.start()
    assert again.screen == "inbox" and again.viewer_name == "Sh.Guide"


async def test_sign_out_revokes_the_session(server, world, make_session):
    session = await make_session(server.base_url)
    await signed_in_guide(session, server, world)
    refresh_token = session.api.tokens.refresh_token
    await session.sign_out()
    assert session.screen == "signin" and not session.api.signed_in and session.signin.password == ""
    refused = await server.graphql(
        """mutation($t: String!) { tokenRefresh(refreshToken: $t) {
      errors { code } } }""",
        {"t": refresh_token},
    )
    assert refused["tokenRefresh"]["errors"] == [{"code": "INVALID_REFRESH_TOKEN"}]


async def test_user_errors_show_in_chinese_and_keep_the_typed_code(server, world, clock, make_session):
    session = await make_session(server.base_url)
    await signed_in_guide(session, server, world)
    await customer_books(server, world, clock)
    await eventually(lambda: len(session.inbox.rows()) == 1, what="the task")
    [row] = session.inbox.rows()
    assert await session.inbox.acknowledge(row.id)
    assert await session.inbox.acknowledge(row.id)  # the second time: INVALID_STATE, but it is acknowledged
    assert session.inbox.message == "任务状态已变化，已为你刷新。"
    assert session.inbox.rows()[0].status == "已确认"

    reception = await session.open_reception(row.id)
    reception.edit_code("not-a-qr-code")
    assert not await reception.check_in()
    assert reception.message == "二维码无效或已过期。" and reception.qr_code == "not-a-qr-code"
    assert not await reception.complete()
    assert reception.message.startswith("请先完成必做步骤：到店问候")
    assert len(session.inbox.tasks) == 1


async def test_a_check_in_before_the_window_says_so_in_chinese_and_keeps_the_code(server, world, clock, make_session):
    session = await make_session(server.base_url)
    await signed_in_guide(session, server, world)
    booked = await customer_books(server, world, clock, hour=17)  # check-in opens at 16:00; it is 14:20
    await eventually(lambda: len(session.inbox.rows()) == 1, what="the task")
    reception = await session.open_reception(session.inbox.rows()[0].id)
    code = await booked.qr_token(server)
    reception.edit_code(code)
    assert not await reception.check_in()
    assert reception.message == "签到尚未开放，请在临近预约时间时再签到。" and reception.qr_code == code
    assert not reception.checked_in


async def test_a_server_refusing_the_rules_is_shown_not_crashed(server, world, clock, make_session):
    """taskComplete before check-in: the local check passes (steps ticked, which acknowledged the task) and
    the server says INVALID_STATE."""
    session = await make_session(server.base_url)
    await signed_in_guide(session, server, world)
    await customer_books(server, world, clock)
    await eventually(lambda: len(session.inbox.rows()) == 1, what="the task")
    reception = await session.open_reception(session.inbox.rows()[0].id)
    for step in reception.steps:
        assert await reception.tick(step.position)
    assert not await reception.complete()
    assert reception.message == "任务状态已变化，已为你刷新。" and reception.status == "已确认"


async def test_the_socket_dropped_mid_shift_loses_no_task(start_server, world, clock, make_session):
    server = await start_server()
    session = await make_session(server.base_url)
    await signed_in_guide(session, server, world)
    inbox = session.inbox
    show = await livestream(server, world, clock)
    await customer_books(server, world, clock, livestream_id=show, hour=15)
    await eventually(lambda: len(inbox.tasks) == 1, what="the first task, live")

    await server.stop()  # the guide's server (or her network) goes away
    await eventually(lambda: inbox.offline, what="the offline banner")
    await inbox.refresh()  # a manual refresh while offline: a message, and nothing lost
    assert inbox.message == "无法连接服务器，请检查网络后重试。" and len(inbox.tasks) == 1

    elsewhere = await start_server()  # another replica still takes bookings meanwhile
    await customer_books(elsewhere, world, clock, phone="13912345678", hour=16, livestream_id=show)
    await elsewhere.stop()

    await server.start()  # back: the socket reconnects and the catch-up finds what was missed
    await eventually(lambda: not inbox.offline and len(inbox.tasks) == 2, what="the catch-up after reconnect")
    assert inbox.message == "" and inbox.banner.startswith("新的直播顾客")  # caught up, and announced
    await eventually(lambda: server.listening(staff_topic(world.ids["sh.guide"])), what="the new subscription")
    await customer_books(server, world, clock, phone="13712345678", hour=17)
    await eventually(lambda: len(inbox.tasks) == 3, what="a task live again on the new socket")
    assert [row.slot[-5:] for row in inbox.rows()] == ["15:00", "16:00", "17:00"]
