"""WebSocket steps of the live tests: a staff member's socket, the first event of a subscription."""

from __future__ import annotations

import asyncio

from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from tests.live_server import LiveServer


def socket_for(address: str, token: str) -> Client:
    # gql's 10 s connect and ack timeouts are too short for a machine under load.
    return Client(
        transport=WebsocketsTransport(
            url=f"ws://{address}/graphql",
            init_payload={"authorization": f"Bearer {token}"},
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
            connect_timeout=60,
            ack_timeout=60,
        )
    )


async def first_event(client: Client, document, variables: dict | None = None) -> dict:
    async with client as session:
        async for event in session.subscribe(GraphQLRequest(document, variable_values=variables)):
            return event


async def subscribed_then(
    client: Client, document, server: LiveServer, topic: str, action, variables: dict | None = None
):
    """Subscribe, wait until the server holds the subscription, run ``action``; (its result, the first event)."""
    listener = asyncio.create_task(first_event(client, document, variables))
    for _ in range(3000):
        if server.listening(topic) or listener.done():
            break
        await asyncio.sleep(0.02)
    if listener.done():
        listener.result()  # the subscription was refused: raise why
    assert server.listening(topic), f"the subscription to {topic} never arrived"
    result = await action()
    return result, await asyncio.wait_for(listener, timeout=30)
