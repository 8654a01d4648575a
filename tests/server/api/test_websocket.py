"""GraphQL over WebSocket (graphql-transport-ws), authenticated by the connection_init payload."""

from __future__ import annotations

import pytest
from gql import Client, gql
from gql.transport.exceptions import TransportConnectionFailed, TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from tests.world import login

ME = gql("{ me { displayName ... on StaffUser { username } } }")


def _transport(address: str, payload: dict | None) -> WebsocketsTransport:
    return WebsocketsTransport(
        url=f"ws://{address}/graphql", init_payload=payload or {},
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


@pytest.mark.parametrize("variables", ['{"s": "a\\ud800"}', '{"s": "a\\u0000"}', '{"s": ' + "[" * 100 + "]" * 100 + "}"])
async def test_a_message_breaking_the_json_limits_closes_the_socket_with_4400(world, live_server, variables):
    import websockets

    async with websockets.connect(f"ws://{live_server}/graphql", subprotocols=["graphql-transport-ws"]) as socket:
        await socket.send('{"type": "connection_init", "payload": {}}')
        assert '"connection_ack"' in await socket.recv()
        await socket.send('{"id": "1", "type": "subscribe", "payload": {"query": "query($s: String) { '
                          '__typename }", "variables": ' + variables + "}}")
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await socket.recv()
    assert closed.value.rcvd.code == 4400
