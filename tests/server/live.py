"""Steps of the live tests: a staff member's socket, the first event of a subscription, a server (in this process
or as an ``irs serve`` process of its own), a booking made through it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys

import httpx
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from tests.conftest import TEST_SECRET
from tests.live_server import LiveServer, call_graphql, free_port
from tests.server.bookings.helpers import BOOK, booking_input, next_local

CUSTOMER_LOGIN = """mutation { customerLogin(input: {phone: "13812345678", smsCode: "000000"}) {
  session { accessToken } } }"""
CUSTOMER_LOGIN_AS = """mutation($phone: String!) { customerLogin(input: {phone: $phone, smsCode: "000000"}) {
  session { accessToken } } }"""
MONDAY = 0


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


async def until_listening(server: LiveServer, topic: str) -> None:
    """Wait (up to 10 s) until a subscription of ``server`` holds ``topic``."""
    for _ in range(500):
        if server.listening(topic):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"nothing listens to {topic}")


@contextlib.asynccontextmanager
async def serve(url: str, tmp_root, clock, **overrides):
    server = LiveServer(url, tmp_root, clock, **overrides)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def book_through(address: str, world, clock) -> str:
    customer = (await call_graphql(address, CUSTOMER_LOGIN))["customerLogin"]["session"]["accessToken"]
    payload = (
        await call_graphql(address, BOOK, {"input": booking_input(world, next_local(clock, MONDAY, 15))}, customer)
    )["bookingCreate"]
    assert payload["errors"] == [], payload
    return payload["booking"]["id"]


@contextlib.asynccontextmanager
async def server_process(url: str, var_dir, redis: dict):
    """``irs serve`` in a process of its own, as a replica runs (real clock, Redis under the test's keys:
    the ``shared_redis`` fixture's settings)."""
    port = free_port()
    env = {
        **os.environ,
        "IRS_DATABASE_URL": url,
        "IRS_REDIS_URL": redis["redis_url"],
        "IRS_BUS_CHANNEL_PREFIX": redis["bus_channel_prefix"],
        "IRS_RATE_LIMIT_KEY_PREFIX": redis["rate_limit_key_prefix"],
        "IRS_JWT_SECRET": TEST_SECRET,
        "IRS_IDENTITY_SALT": TEST_SECRET,
        "IRS_VAR_DIR": str(var_dir),
        "IRS_ENV": "development",
        "IRS_SCHEDULER": "false",
        "IRS_LOG_LEVEL": "WARNING",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.cli",
        "serve",
        "--no-migrate",
        "--port",
        str(port),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    address = f"127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=f"http://{address}") as client:
            for _ in range(1200):  # 60 s: two processes starting on a loaded machine
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/readyz")).status_code == 200:
                        break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("irs serve did not become ready")
        yield address
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=60)


async def book_on(server: LiveServer, world, phone: str, slot, **extra) -> str:
    customer = (await server.graphql(CUSTOMER_LOGIN_AS, {"phone": phone}))["customerLogin"]["session"]["accessToken"]
    payload = (await server.graphql(BOOK, {"input": booking_input(world, slot, **extra)}, customer))["bookingCreate"]
    assert payload["errors"] == [], payload
    return payload["booking"]["id"]
