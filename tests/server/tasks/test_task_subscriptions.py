"""Real time: a booking reaches the assigned guide's myTasks socket, on one server or across two via Redis."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys

import httpx
from gql import gql

from server.clock import SystemClock
from server.domains.bookings.topics import ALL_BOOKINGS_TOPIC
from server.domains.tasks.topics import staff_topic
from tests.conftest import TEST_SECRET
from tests.live_server import LiveServer, call_graphql, free_port
from tests.server.bookings.helpers import BOOK, booking_input, give_shifts, next_local
from tests.server.live import first_event, socket_for, subscribed_then
from tests.world import LOGIN, PASSWORD, login

MY_TASKS = gql("""subscription { myTasks { kind task { id status priority customer { phone } booking { id } } } }""")
FEED = gql("""subscription { bookingFeed { id store { city } } }""")
CUSTOMER_LOGIN = """mutation { customerLogin(input: {phone: "13812345678", smsCode: "000000"}) {
  session { accessToken } } }"""
MONDAY = 0


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


async def test_a_booking_reaches_the_guides_socket(db, world, api, tmp_root, clock):
    await give_shifts(db, world)
    url = db.engine.url.render_as_string(hide_password=False)
    async with serve(url, tmp_root, clock) as server:
        guide = await login(api, "sh.guide")
        booking_id, event = await subscribed_then(
            socket_for(server.address, guide),
            MY_TASKS,
            server,
            staff_topic(world.ids["sh.guide"]),
            lambda: book_through(server.address, world, clock),
        )
    assert event["myTasks"]["kind"] == "CREATED"
    assert event["myTasks"]["task"]["booking"]["id"] == booking_id
    assert event["myTasks"]["task"]["customer"]["phone"] == "+8613812345678"


async def test_ops_see_the_booking_feed(db, world, api, tmp_root, clock):
    await give_shifts(db, world)
    url = db.engine.url.render_as_string(hide_password=False)
    async with serve(url, tmp_root, clock) as server:
        ops = await login(api, "ops")
        booking_id, event = await subscribed_then(
            socket_for(server.address, ops),
            FEED,
            server,
            ALL_BOOKINGS_TOPIC,
            lambda: book_through(server.address, world, clock),
        )
    assert event["bookingFeed"] == {"id": booking_id, "store": {"city": "上海"}}


async def test_across_two_servers_through_redis(db, world, api, tmp_root, clock, shared_redis):
    """The guide is connected to server A; the customer books through server B."""
    await give_shifts(db, world)
    url = db.engine.url.render_as_string(hide_password=False)
    async with serve(url, tmp_root, clock, **shared_redis) as a, serve(url, tmp_root, clock, **shared_redis) as b:
        guide = await login(api, "sh.guide")
        booking_id, event = await subscribed_then(
            socket_for(a.address, guide),
            MY_TASKS,
            a,
            staff_topic(world.ids["sh.guide"]),
            lambda: book_through(b.address, world, clock),
        )
    assert event["myTasks"]["task"]["booking"]["id"] == booking_id


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


async def test_across_two_server_processes_through_redis(db, world, tmp_root, shared_redis):
    """Two OS processes: the guide's socket is on A, the customer books through B."""
    await give_shifts(db, world)
    url = db.engine.url.render_as_string(hide_password=False)
    now = SystemClock()  # the processes run on the real clock
    async with (
        server_process(url, tmp_root / "a", shared_redis) as a,
        server_process(url, tmp_root / "b", shared_redis) as b,
    ):
        guide = (await call_graphql(a, LOGIN, {"u": "sh.guide", "p": PASSWORD}))["staffLogin"]["session"]["accessToken"]
        customer = (await call_graphql(b, CUSTOMER_LOGIN))["customerLogin"]["session"]["accessToken"]
        listener = asyncio.create_task(first_event(socket_for(a, guide), MY_TASKS))
        booked = []
        # Nothing outside A tells when its subscription is in place: book until the socket hears one
        # (a customer holds at most three upcoming bookings: three tries).
        for hour in (15, 16, 17):
            payload = (
                await call_graphql(b, BOOK, {"input": booking_input(world, next_local(now, MONDAY, hour))}, customer)
            )["bookingCreate"]
            assert payload["errors"] == [], payload
            booked.append(payload["booking"]["id"])
            done, _ = await asyncio.wait({listener}, timeout=10)
            if done:
                break
        event = await asyncio.wait_for(listener, timeout=30)
    assert event["myTasks"]["kind"] == "CREATED" and event["myTasks"]["task"]["booking"]["id"] in booked
