"""GraphQL over WebSocket (graphql-transport-ws), authenticated by the connection_init payload."""

from __future__ import annotations

import json
import logging

import pytest
import sqlalchemy as sa
from gql import Client, gql
from gql.transport.exceptions import TransportConnectionFailed, TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from server.domains.auth.models import RefreshToken
from server.domains.stores.graphql import queries as store_queries
from server.domains.tasks.graphql import subscriptions as task_subscriptions
from tests.live_server import LiveServer, call_graphql, close_of, graphql_socket, next_payload, still_open, subscribe
from tests.world import LOGIN, PASSWORD, login

ME = gql("{ me { displayName ... on StaffUser { username } } }")


def _transport(address: str, payload: dict | None) -> WebsocketsTransport:
    return WebsocketsTransport(
        url=f"ws://{address}/graphql",
        init_payload=payload or {},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )


async def test_connection_init_authorization_authenticates(api, world, live_server):
    token = await login(api, "sh.guide")
    async with Client(transport=_transport(live_server, {"authorization": f"Bearer {token}"})) as session:
        result = await session.execute(ME)
    assert result == {"me": {"displayName": "Sh.Guide", "username": "sh.guide"}}


async def test_anonymous_socket_gets_unauthenticated_for_private_fields(world, live_server):
    async with Client(transport=_transport(live_server, None)) as session:
        with pytest.raises(TransportQueryError) as raised:
            await session.execute(ME)
    assert raised.value.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_bad_token_in_connection_init_is_refused_with_4403(world, live_server):
    with pytest.raises(TransportConnectionFailed) as raised:
        async with Client(transport=_transport(live_server, {"authorization": "Bearer forged"})) as session:
            await session.execute(ME)
    assert "4403" in str(raised.value.__cause__ or raised.value)


async def test_socket_refuses_operations_once_the_token_expired(api, world, live_server, clock):
    token = await login(api, "sh.guide")
    async with Client(transport=_transport(live_server, {"authorization": f"Bearer {token}"})) as session:
        assert (await session.execute(ME))["me"]["username"] == "sh.guide"
        clock.advance(minutes=16)
        with pytest.raises(TransportQueryError) as raised:
            await session.execute(ME)
    assert raised.value.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"


MY_TASKS = "subscription { myTasks { kind } }"
REFRESH = """mutation($t: String!) { tokenRefresh(refreshToken: $t) {
  session { accessToken refreshToken } errors { code } } }"""
LOGOUT = """mutation($t: String!, $all: Boolean! = false) { logout(refreshToken: $t, everywhere: $all) { revoked } }"""
SESSION_ENDED = (4403, "session ended; sign in again")


async def _sign_in(address: str, username: str) -> dict:
    return (await call_graphql(address, LOGIN, {"u": username, "p": PASSWORD}))["staffLogin"]["session"]


async def test_logout_closes_that_sessions_socket_with_4403(world, live_server):
    phone, tablet = await _sign_in(live_server, "sh.guide"), await _sign_in(live_server, "sh.guide")
    async with (
        graphql_socket(live_server, phone["accessToken"]) as on_phone,
        graphql_socket(live_server, tablet["accessToken"]) as on_tablet,
    ):
        await subscribe(on_phone, MY_TASKS)
        await subscribe(on_tablet, MY_TASKS)
        assert (await call_graphql(live_server, LOGOUT, {"t": phone["refreshToken"]}))["logout"]["revoked"]
        assert await close_of(on_phone, within=5) == SESSION_ENDED
        assert await still_open(on_tablet)  # her other session goes on


async def test_replaying_a_spent_refresh_token_closes_that_sessions_socket(world, live_server):
    first = await _sign_in(live_server, "sh.guide")
    second = (await call_graphql(live_server, REFRESH, {"t": first["refreshToken"]}))["tokenRefresh"]["session"]
    other_device = await _sign_in(live_server, "sh.guide")
    async with (
        graphql_socket(live_server, second["accessToken"]) as socket_,
        graphql_socket(live_server, other_device["accessToken"]) as other_socket,
    ):
        await subscribe(socket_, MY_TASKS)
        replay = (await call_graphql(live_server, REFRESH, {"t": first["refreshToken"]}))["tokenRefresh"]
        assert replay["errors"] == [{"code": "INVALID_REFRESH_TOKEN"}]
        assert await close_of(socket_, within=5) == SESSION_ENDED
        assert await still_open(other_socket)


async def test_logout_everywhere_closes_a_socket_without_subscriptions_too(world, live_server):
    session = await _sign_in(live_server, "sh.guide")
    async with graphql_socket(live_server, session["accessToken"]) as socket_:
        await call_graphql(live_server, LOGOUT, {"t": session["refreshToken"], "all": True})
        assert await close_of(socket_, within=5) == SESSION_ENDED


async def test_a_socket_opened_with_an_ended_sessions_token_is_refused(world, live_server):
    session = await _sign_in(live_server, "sh.guide")
    await call_graphql(live_server, LOGOUT, {"t": session["refreshToken"]})
    with pytest.raises(TransportConnectionFailed) as raised:
        async with Client(transport=_transport(live_server, {"authorization": f"Bearer {session['accessToken']}"})):
            pass
    assert "4403" in str(raised.value.__cause__ or raised.value)


async def test_a_lost_revocation_message_is_made_up_for_by_the_periodic_check(db, world, tmp_root, clock):
    """The session ends in the database without a word on the bus (as when Redis drops a message)."""
    url = db.engine.url.render_as_string(hide_password=False)
    server = LiveServer(url, tmp_root, clock, socket_session_check_seconds=0.5)
    await server.start()
    try:
        session = await _sign_in(server.address, "sh.guide")
        async with graphql_socket(server.address, session["accessToken"]) as socket_:
            await subscribe(socket_, MY_TASKS)
            assert await still_open(socket_)
            async with db.writer() as writer:
                await writer.exec(sa.update(RefreshToken).values(revoked_at=clock.now()))
                await writer.commit()
            assert await close_of(socket_, within=5) == SESSION_ENDED
    finally:
        await server.stop()


@pytest.mark.parametrize(
    "variables", ['{"s": "a\\ud800"}', '{"s": "a\\u0000"}', '{"s": ' + "[" * 100 + "]" * 100 + "}"]
)
async def test_a_message_breaking_the_json_limits_closes_the_socket_with_4400(world, live_server, variables):
    import websockets

    async with websockets.connect(f"ws://{live_server}/graphql", subprotocols=["graphql-transport-ws"]) as socket:
        await socket.send('{"type": "connection_init", "payload": {}}')
        assert '"connection_ack"' in await socket.recv()
        await socket.send(
            '{"id": "1", "type": "subscribe", "payload": {"query": "query($s: String) { '
            '__typename }", "variables": ' + variables + "}}"
        )
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await socket.recv()
    assert closed.value.rcvd.code == 4400


# --- unexpected errors over the socket: masked as over HTTP, logged once ------------------------------------------


def _masked(error: dict) -> None:
    assert error["message"].startswith("Internal error (request id ") and "boom secret" not in error["message"]
    assert error["extensions"]["code"] == "INTERNAL"


async def test_an_unexpected_error_in_a_query_over_the_socket_is_masked_and_logged(
    api, world, live_server, monkeypatch, caplog
):
    def boom(**kwargs):
        raise RuntimeError("boom secret")

    monkeypatch.setattr(store_queries.services, "store_listing", boom)
    token = await login(api, "sh.guide")
    with caplog.at_level(logging.ERROR, logger="irs.api"):
        async with Client(transport=_transport(live_server, {"authorization": f"Bearer {token}"})) as session:
            with pytest.raises(TransportQueryError) as raised:
                await session.execute(gql("{ stores(first: 1) { totalCount } }"))
    [error] = raised.value.errors
    _masked(error)
    assert [record.exc_info[1].args for record in caplog.records if record.exc_info] == [("boom secret",)]


async def test_an_unexpected_error_in_a_subscription_is_masked(api, world, live_server, monkeypatch):
    async def boom(info, topic):
        raise RuntimeError("boom secret")
        yield  # pragma: no cover

    monkeypatch.setattr(task_subscriptions, "_task_events", boom)
    token = await login(api, "sh.guide")
    async with graphql_socket(live_server, token) as socket_:
        await subscribe(socket_, MY_TASKS)
        payload = await next_payload(socket_)
    assert payload.get("data") is None
    [error] = payload["errors"]
    _masked(error)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"query": "query A { __typename } query B { __typename }", "operationName": "Nope"}, 'operation named "Nope"'),
        ({"query": "{ __typename }", "operationName": "X"}, 'operation named "X"'),
    ],
    ids=["unknown name", "a name the document does not give"],
)
async def test_an_operation_the_document_does_not_name_closes_the_socket_with_4400_not_internal(
    api, world, live_server, caplog, payload, reason
):
    """graphql-transport-ws: a subscribe message naming no operation the server can run is the client's mistake."""
    token = await login(api, "sh.guide")
    with caplog.at_level(logging.ERROR, logger="irs.api"):
        async with graphql_socket(live_server, token) as socket_:
            await socket_.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            code, said = await close_of(socket_, within=5)
    assert code == 4400 and reason in (said or ""), said
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


async def test_several_operations_without_a_name_are_refused_over_the_socket_not_the_first_run(api, world, live_server):
    token = await login(api, "sh.guide")
    async with graphql_socket(live_server, token) as socket_:
        await subscribe(socket_, "query A { a: __typename } query B { b: __typename }")
        answer = json.loads(await socket_.recv())
        assert await still_open(socket_)
    assert answer["type"] == "error" and answer["id"] == "1", answer
    assert [error["message"] for error in answer["payload"]] == [
        "Must provide operationName: the document has several operations."
    ]
