"""Live feeds over a real WebSocket: a store's queue for its manager, and one livestream's bookings."""

from __future__ import annotations

import asyncio
import base64
import random
import sqlite3
from datetime import timedelta

import pytest
import sqlalchemy as sa
from gql import GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError

from server.bus import InProcessBus, OutboxRelay
from server.domains.bookings.topics import livestream_bookings_topic
from server.domains.tasks.topics import store_queue_topic
from server.outbox import OutboxMessage, emit
from tests.live_server import LiveServer
from tests.server.live import socket_for, subscribed_then
from tests.world import login

from .helpers import BOOK, booking_input, give_shifts, iso, next_local

MONDAY = 0
STORE_QUEUE = gql("""subscription($s: ID!) { storeQueue(storeId: $s) {
  kind task { status assignee { username } booking { id } } } }""")
FEED = gql("""subscription($l: ID) { bookingFeed(livestreamId: $l) {
  id source livestream { title } store { city } } }""")
CUSTOMER_LOGIN = """mutation($phone: String!) { customerLogin(input: {phone: $phone, smsCode: "000000"}) {
  session { accessToken } } }"""
LIVESTREAM_CREATE = """mutation($input: LivestreamCreateInput!) { livestreamCreate(input: $input) {
  livestream { id } errors { code } } }"""


@pytest.fixture
async def server(db, world, tmp_root, clock):
    """The app on a real server, the Shanghai guide on shift all day."""
    await give_shifts(db, world)
    live = LiveServer(db.engine.url.render_as_string(hide_password=False), tmp_root, clock)
    await live.start()
    yield live
    await live.stop()


async def book_through(server: LiveServer, world, phone: str, slot, **extra) -> str:
    customer = (await server.graphql(CUSTOMER_LOGIN, {"phone": phone}))["customerLogin"]["session"]["accessToken"]
    payload = (await server.graphql(BOOK, {"input": booking_input(world, slot, **extra)}, customer))["bookingCreate"]
    assert payload["errors"] == [], payload
    return payload["booking"]["id"]


async def create_livestream(server: LiveServer, world, token: str, title: str, clock) -> str:
    start = clock.now() + timedelta(hours=1)
    created = (
        await server.graphql(
            LIVESTREAM_CREATE,
            {
                "input": {
                    "title": title,
                    "hostName": "Lily",
                    "teamId": world.gid("Team", "team"),
                    "channel": "DOUYIN",
                    "scheduledStart": iso(start),
                    "scheduledEnd": iso(start + timedelta(hours=2)),
                }
            },
            token,
        )
    )["livestreamCreate"]
    assert created["errors"] == []
    return created["livestream"]["id"]


def local_id(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().split(":")[1])


async def test_a_manager_hears_of_a_new_booking_on_the_store_queue(server, world, api, clock):
    manager = await login(api, "sh.manager")
    booking_id, event = await subscribed_then(
        socket_for(server.address, manager),
        STORE_QUEUE,
        server,
        store_queue_topic(world.ids["shanghai"]),
        lambda: book_through(server, world, "13812345678", next_local(clock, MONDAY, 15)),
        {"s": world.gid("Store", "shanghai")},
    )
    assert event["storeQueue"] == {
        "kind": "CREATED",
        "task": {"status": "OPEN", "assignee": {"username": "sh.guide"}, "booking": {"id": booking_id}},
    }


async def test_another_stores_manager_is_refused_the_store_queue(server, world, api):
    manager = await login(api, "bj.manager")
    with pytest.raises(TransportQueryError) as refused:
        async with socket_for(server.address, manager) as session:
            request = GraphQLRequest(STORE_QUEUE, variable_values={"s": world.gid("Store", "shanghai")})
            async for _ in session.subscribe(request):
                pytest.fail("a Beijing manager received a Shanghai task event")
    assert [e["extensions"]["code"] for e in refused.value.errors] == ["FORBIDDEN"]
    assert not server.listening(store_queue_topic(world.ids["shanghai"]))


async def test_a_livestreams_booking_feed_carries_only_its_own_bookings(server, world, api, clock):
    ops = await login(api, "ops")
    watched = await create_livestream(server, world, ops, "双十一直播", clock)
    other = await create_livestream(server, world, ops, "新品发布", clock)

    async def three_bookings() -> str:
        await book_through(server, world, "13812345678", next_local(clock, MONDAY, 15), livestreamId=other)
        await book_through(server, world, "13912345678", next_local(clock, MONDAY, 16))  # not from a livestream
        return await book_through(server, world, "13712345678", next_local(clock, MONDAY, 17), livestreamId=watched)

    booking_id, event = await subscribed_then(
        socket_for(server.address, ops),
        FEED,
        server,
        livestream_bookings_topic(local_id(watched)),
        three_bookings,
        {"l": watched},
    )
    assert event["bookingFeed"] == {
        "id": booking_id,
        "source": "LIVESTREAM",
        "livestream": {"title": "双十一直播"},
        "store": {"city": "上海"},
    }


async def test_a_relay_woken_just_as_the_server_stops_still_stops(db, clock):
    """A commit wakes the outbox relay in the same instant shutdown cancels it: close() must return."""
    relay = OutboxRelay(db, InProcessBus(), clock, sweep_seconds=3600)
    await relay.start()
    await asyncio.sleep(0.05)  # it waits for a commit
    relay.wake()  # a commit, just as the server stops
    closing = asyncio.create_task(relay.close())
    done, _ = await asyncio.wait({closing}, timeout=2)
    if not done:  # stop it for good
        closing.cancel()
        await asyncio.wait({closing}, timeout=5)
    assert done, "OutboxRelay.close() hung"


class HeldBus(InProcessBus):
    """Holds each publication until released: a relay batch caught in the middle of its transaction."""

    def __init__(self) -> None:
        super().__init__()
        self.entered, self.release = asyncio.Event(), asyncio.Event()

    async def publish_many(self, messages) -> None:
        self.entered.set()
        await self.release.wait()
        await super().publish_many(messages)


async def test_a_relay_stopping_mid_batch_finishes_it_and_holds_no_lock(db, clock):
    """Stopping waits for the batch in hand: its rows are marked sent, and the next writer gets in at once
    (a batch cancelled mid-transaction could keep SQLite's write lock until the garbage collector came)."""
    async with db.writer() as session:
        emit(session, "tasks.store:1", "CREATED", {"taskId": 1}, clock.now())
        await session.commit()
    bus = HeldBus()
    relay = OutboxRelay(db, bus, clock, sweep_seconds=3600)
    await relay.start()
    relay.wake()
    await asyncio.wait_for(bus.entered.wait(), 10)
    closing = asyncio.create_task(relay.close())
    await asyncio.sleep(0.1)
    assert not closing.done()  # it waits for the batch, rather than cutting its transaction
    bus.release.set()
    await asyncio.wait_for(closing, 10)
    async with asyncio.timeout(5), db.writer() as session:
        (published_at,) = (await session.exec(sa.select(OutboxMessage.published_at))).one()
        await session.exec(sa.delete(OutboxMessage))
        await session.commit()
    assert published_at is not None


async def test_a_relay_stopped_at_any_moment_leaves_the_database_writable(db, clock):
    """Stop relays at random moments of their batches: the next writer never finds SQLite locked.
    (When close() cancelled the relay, a few dozen stops were enough to leave the write lock held.)"""
    if not db.is_sqlite:
        pytest.skip("PostgreSQL locks rows, not the database")
    moments = random.Random(12)
    for _ in range(60):
        async with db.writer() as session:
            for n in range(50):
                emit(session, "tasks.store:1", "CREATED", {"taskId": n}, clock.now())
            await session.commit()
        relay = OutboxRelay(db, InProcessBus(), clock, sweep_seconds=3600)
        await relay.start()
        relay.wake()
        await asyncio.sleep(moments.random() * 0.004)
        await relay.close()
        other = sqlite3.connect(db.engine.url.database, timeout=0.5, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # "database is locked" if a stopped batch still holds it
            other.execute("ROLLBACK")
        finally:
            other.close()
