"""The outbox relay (server/bus.py): rows a dead relay left are sent once, and stopping it at any moment
leaves no batch cut in two and no lock held."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from redis import asyncio as aioredis
from redis._parsers import _AsyncHiredisParser
from redis.asyncio.connection import DefaultParser

from server.bus import DurableConsumer, InProcessBus, OutboxRelay, RedisBus
from server.domains.ledger.posting import CONSUMER as LEDGER
from server.domains.orders.topics import ALL_ORDERS_TOPIC
from server.outbox import OutboxMessage, emit
from tests.conftest import REDIS_URL
from tests.server.assertions import fetch, scalar


class CountingBus:
    def __init__(self) -> None:
        self.seen: Counter = Counter()

    async def publish(self, topic, message) -> None:
        self.seen[(topic, message["event"], message.get("taskId"), message.get("bookingId"))] += 1
        await asyncio.sleep(0)

    async def publish_many(self, messages) -> None:
        for topic, message in messages:
            await self.publish(topic, message)


async def test_rows_left_by_a_dead_relay_are_sent_and_replicas_never_send_one_twice(db, world, clock):
    async with db.writer() as session:
        session.add_all(
            OutboxMessage(topic=f"tasks.staff:{n % 7}", event="CREATED", payload={"taskId": n}, created_at=clock.now())
            for n in range(1200)
        )
        await session.commit()
    bus = CountingBus()
    relays = [OutboxRelay(db, bus, clock) for _ in range(3)]

    async def drain(relay):
        while await relay.relay_once():
            pass

    await asyncio.gather(*(drain(r) for r in relays))
    assert sum(bus.seen.values()) == 1200 and max(bus.seen.values()) == 1
    assert await scalar(db, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0


class FailingBus(CountingBus):
    async def publish_many(self, messages) -> None:
        raise ConnectionError("the bus is down")


async def test_a_batch_the_bus_refused_stays_unpublished_and_is_sent_later_in_order(db, clock):
    """The relay marks its batch published in the statement that claims it, before it sends: a send that
    fails rolls the mark back."""
    async with db.writer() as session:
        for n in range(5):
            emit(session, "tasks.store:1", "CREATED", {"taskId": n}, clock.now())
        await session.commit()
    with pytest.raises(ConnectionError):
        await OutboxRelay(db, FailingBus(), clock).relay_once()
    assert await scalar(db, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 5
    sent: list[int] = []

    class InOrder(CountingBus):
        async def publish(self, topic, message) -> None:
            sent.append(message["taskId"])

    assert await OutboxRelay(db, InOrder(), clock).relay_once() == 5
    assert sent == [0, 1, 2, 3, 4]
    assert await scalar(db, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0


async def test_an_engine_watching_its_statements_sees_the_relay_s_too(db, clock):
    """On PostgreSQL the relay's round skips the session (server.prepared.pooled_transaction), unless something
    watches the engine's statements (a tracer, echo): then it takes the session's way, and the watcher sees it."""
    async with db.writer() as session:
        emit(session, "tasks.store:1", "CREATED", {"taskId": 1}, clock.now())
        await session.commit()
    engine = (db.live_engine or db.engine).sync_engine
    seen: list[str] = []

    def watch(_connection, _cursor, statement, *_args) -> None:
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", watch)
    try:
        assert await OutboxRelay(db, CountingBus(), clock).relay_once() == 1
    finally:
        sa.event.remove(engine, "before_cursor_execute", watch)
    assert [each for each in seen if each.lstrip().upper().startswith("UPDATE OUTBOX")], seen


async def test_a_row_is_stamped_published_at_the_time_it_was_claimed_not_when_the_relay_woke(db, clock):
    """A relay that waits for the write lock (SQLite: another writer holds it) reads the clock once it holds
    it: a row committed meanwhile is never stamped as published before it was written, which the day's
    purge would take for a row long published and delete."""
    if not db.is_sqlite:
        pytest.skip("PostgreSQL: a relay does not wait for other writers (it finds nothing, then the row)")
    written_at = clock.now() + timedelta(days=3)
    async with db.writer() as holder:
        await holder.connection()  # SQLite: BEGIN IMMEDIATE, the write lock is held
        relaying = asyncio.create_task(OutboxRelay(db, CountingBus(), clock).relay_once())
        await asyncio.sleep(0.2)  # the relay has woken and is waiting (SQLite) or has found nothing (PostgreSQL)
        clock.current = written_at
        emit(holder, "tasks.store:1", "REMINDER", {"taskId": 1}, written_at)
        await holder.commit()
    await relaying
    await OutboxRelay(db, CountingBus(), clock).relay_once()
    assert await scalar(db, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
    published = [row.published_at for row in await fetch(db, OutboxMessage)]
    assert published == [written_at]


async def test_under_a_stream_of_commits_the_relay_publishes_what_several_wrote_in_one_round(db, clock):
    """Rounds are spaced (IRS_OUTBOX_RELAY_SPACING_SECONDS): the first commit goes out at once, the ones that
    follow within the spacing go out together at its end, rather than one round (three statements) each."""
    batches: list[int] = []
    first_sent, all_sent = asyncio.Event(), asyncio.Event()

    class Batches(CountingBus):
        async def publish_many(self, messages) -> None:
            batches.append(len(messages))
            first_sent.set()
            if sum(batches) == 10:
                all_sent.set()

    relay = OutboxRelay(db, Batches(), clock, sweep_seconds=3600, spacing_seconds=2.0)
    await relay.start()
    try:
        for n in range(10):
            async with db.writer() as session:
                emit(session, "tasks.store:1", "CREATED", {"taskId": n}, clock.now())
                await session.commit()
            if n == 0:
                await asyncio.wait_for(first_sent.wait(), 1)  # the first, at once
        await asyncio.wait_for(all_sent.wait(), 10)
    finally:
        await relay.close()
    assert sum(batches) == 10 and len(batches) <= 3, batches


async def test_a_relay_stopped_while_it_waits_out_its_spacing_still_sends_the_batch_in_hand(db, clock):
    first_sent = asyncio.Event()

    class Noting(CountingBus):
        async def publish_many(self, messages) -> None:
            await super().publish_many(messages)
            first_sent.set()

    bus = Noting()
    relay = OutboxRelay(db, bus, clock, sweep_seconds=3600, spacing_seconds=30)
    await relay.start()
    for n in range(2):
        async with db.writer() as session:
            emit(session, "tasks.store:1", "CREATED", {"taskId": n}, clock.now())
            await session.commit()
        if n == 0:  # the first goes out at once; the second waits out the spacing
            await asyncio.wait_for(first_sent.wait(), 10)
    await asyncio.sleep(0.2)
    assert sum(bus.seen.values()) == 1
    await asyncio.wait_for(relay.close(), 10)  # not after 30 s
    assert sum(bus.seen.values()) == 2
    assert await scalar(db, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0


async def test_a_relay_woken_just_as_the_server_stops_still_stops(db, clock):
    """A commit wakes the outbox relay in the same instant shutdown cancels it: close() must return."""
    relay = OutboxRelay(db, InProcessBus(), clock, sweep_seconds=3600)
    await relay.start()
    await asyncio.wait_for(relay.idle.wait(), 10)  # it waits for a commit
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


async def test_a_durable_consumer_is_woken_only_by_commits_that_wrote_one_of_its_messages(db, clock):
    """A booking's commit is not the ledger's business: its consumer stays asleep (each round was a read of the
    outbox), and wakes at once for a paid order. Its sweep is an hour away, so only a wake runs a round."""
    handled: list[str] = []
    paid = asyncio.Event()

    async def handle(_session, message, _now):
        handled.append(message.event)
        paid.set()

    consumer = DurableConsumer(db, clock, LEDGER, handle, sweep_seconds=3600)
    rounds = 0
    consume_once = consumer.consume_once

    async def counted() -> int:
        nonlocal rounds
        rounds += 1
        return await consume_once()

    consumer.consume_once = counted  # type: ignore[method-assign]
    await consumer.start()
    try:
        await asyncio.wait_for(consumer.idle.wait(), 5)
        for topic, event in [("bookings.store.1", "CREATED"), (ALL_ORDERS_TOPIC, "CREATED")]:
            async with db.writer() as session:
                emit(session, topic, event, {"n": 1}, clock.now())
                await session.commit()
        await asyncio.sleep(0.2)
        assert rounds == 0 and handled == []
        async with db.writer() as session:
            emit(session, "bookings.store.1", "CREATED", {"n": 2}, clock.now())
            emit(session, ALL_ORDERS_TOPIC, "PAID", {"n": 3}, clock.now())
            await session.commit()
        await asyncio.wait_for(paid.wait(), 5)
        assert handled == ["PAID"] and rounds >= 1
    finally:
        await consumer.close()


def test_redis_replies_are_parsed_in_c():
    """Every booking talks to Redis (the abuse limit, the bus): redis-py parses the replies with hiredis, which
    the project's dependency on ``redis[hiredis]`` installs, not in Python."""
    assert DefaultParser is _AsyncHiredisParser


# --- the Redis bus: what replicas send each other ----------------------------------------------------------------


@contextlib.asynccontextmanager
async def replicas(prefix: str, count: int, batches: bool = True) -> AsyncIterator[list[RedisBus]]:
    buses = [RedisBus(REDIS_URL, prefix, batches) for _ in range(count)]
    try:
        for bus in buses:
            await bus.start()
        yield buses
    finally:
        for bus in buses:
            await bus.close()


async def next_of(messages: AsyncIterator[dict], seconds: float = 5) -> dict:
    return await asyncio.wait_for(anext(messages), seconds)


async def nothing_more(messages: AsyncIterator[dict]) -> bool:
    try:
        await next_of(messages, 0.3)
    except TimeoutError:
        return True
    return False


async def _pmessages(pubsub) -> AsyncIterator[dict]:
    """What the pattern subscription received, until it has been quiet a moment."""
    while (message := await pubsub.get_message(timeout=0.3)) is not None:
        if message["type"] == "pmessage":
            yield message


async def test_a_batch_reaches_each_replica_s_subscribers_once_in_order_as_one_redis_message(shared_redis):
    prefix = shared_redis["bus_channel_prefix"]
    raw = aioredis.from_url(REDIS_URL)
    watcher = raw.pubsub()
    await watcher.psubscribe(prefix + "*")
    batch = [
        ("tasks.staff:1", {"event": "CREATED", "n": 1}),
        ("bookings.all", {"event": "CREATED", "n": 2}),
        ("tasks.staff:1", {"event": "UPDATED", "n": 3}),
    ]
    try:
        async with (
            replicas(prefix, 2) as (one, two),
            one.subscribe("tasks.staff:1") as here,
            two.subscribe("tasks.staff:1") as there,
            two.subscribe("bookings.all") as bookings,
        ):
            await one.publish_many(batch)
            for messages in (here, there):
                assert [(await next_of(messages))["n"] for _ in range(2)] == [1, 3]
            assert (await next_of(bookings))["n"] == 2
            assert all([await nothing_more(m) for m in (here, there, bookings)])
        seen = [m async for m in _pmessages(watcher)]
        assert [m["channel"] for m in seen] == [f"{prefix}#batch".encode()]  # one PUBLISH for the three
    finally:
        await watcher.aclose()
        await raw.aclose()


async def test_without_batches_each_message_goes_on_its_topic_s_channel_and_a_batching_replica_reads_it(
    shared_redis,
):
    """IRS_BUS_BATCHES off, as during a rolling upgrade from a release that reads only per-topic channels: that
    release's replicas read what this one publishes, and this release reads what they publish."""
    prefix = shared_redis["bus_channel_prefix"]
    raw = aioredis.from_url(REDIS_URL)
    watcher = raw.pubsub()
    await watcher.psubscribe(prefix + "*")
    try:
        async with (
            replicas(prefix, 1, batches=False) as (older,),
            replicas(prefix, 1) as (newer,),
            newer.subscribe("tasks.store:4") as messages,
        ):
            await older.publish_many([("tasks.store:4", {"n": 1}), ("bookings.all", {"n": 2})])
            await raw.publish(prefix + "tasks.store:4", json.dumps({"n": 3}))  # as an earlier release does
            assert [(await next_of(messages))["n"] for _ in range(2)] == [1, 3]
        seen = [m["channel"].decode() async for m in _pmessages(watcher)]
        assert seen == [f"{prefix}tasks.store:4", f"{prefix}bookings.all", f"{prefix}tasks.store:4"]
    finally:
        await watcher.aclose()
        await raw.aclose()


async def test_the_app_s_bus_publishes_as_its_setting_says(app_factory, shared_redis):
    prefix = shared_redis["bus_channel_prefix"]
    raw = aioredis.from_url(REDIS_URL)
    try:
        for batches, channel in ((True, "#batch"), (False, "tasks.store:4")):
            watcher = raw.pubsub()
            await watcher.psubscribe(prefix + "*")
            api = await app_factory(**shared_redis, bus_batches=batches)
            await api.app.state.runtime.bus.publish_many([("tasks.store:4", {"n": 1})])
            assert [m["channel"] async for m in _pmessages(watcher)] == [f"{prefix}{channel}".encode()]
            await watcher.aclose()
    finally:
        await raw.aclose()


async def test_a_message_on_its_topic_s_own_channel_is_still_delivered(shared_redis):
    """As a replica of the earlier release publishes it: both are delivered during a rolling upgrade."""
    prefix = shared_redis["bus_channel_prefix"]
    raw = aioredis.from_url(REDIS_URL)
    try:
        async with replicas(prefix, 1) as (bus,), bus.subscribe("tasks.store:4") as messages:
            await raw.publish(prefix + "tasks.store:4", json.dumps({"event": "CREATED", "taskId": 9}))
            assert await next_of(messages) == {"event": "CREATED", "taskId": 9}
    finally:
        await raw.aclose()


@pytest.mark.parametrize(
    "channel, data",
    [
        (b"#batch", b"not json"),
        (b"#batch", b"\xff\xfe"),
        (b"#batch", b"5"),
        (b"#batch", b"[" * 100_000),  # nested past the JSON parser's depth
        (b"#batch", b'{"tasks.store:4": {}}'),
        (b"#batch", b'[["tasks.store:4", 5]]'),
        (b"#batch", b'[[4, {"event": "CREATED"}]]'),
        (b"#batch", b'[[["tasks.store:4"], {"event": "CREATED"}]]'),  # a topic that cannot be a key
        (b"#batch", b'[["tasks.store:4", {}, "extra"]]'),
        (b"#batch", b'[["tasks.store:4"]]'),
        (b"tasks.store:4", b"[1, 2]"),
        (b"tasks.store:4", b"{"),
        (b"tasks.store:\xff", b"{"),  # a channel name that is not UTF-8
    ],
)
async def test_an_unreadable_message_is_dropped_and_the_subscription_goes_on(shared_redis, channel, data):
    prefix = shared_redis["bus_channel_prefix"]
    raw = aioredis.from_url(REDIS_URL)
    try:
        async with replicas(prefix, 1) as (bus,), bus.subscribe("tasks.store:4") as messages:
            before = bus.interruptions
            await raw.publish(prefix.encode() + channel, data)
            await bus.publish("tasks.store:4", {"event": "CREATED", "taskId": 1})
            assert await next_of(messages) == {"event": "CREATED", "taskId": 1}
            # Counted once (it may have been news: caches kept current by the bus forget what they kept), and
            # the subscription was not lost (that would count a second time, when it came back).
            assert bus.interruptions == before + 1
    finally:
        await raw.aclose()
