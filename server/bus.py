"""The event bus that feeds subscriptions, and the relay that moves the outbox onto it.

Two buses, one interface: in-process (one server process) and Redis pub/sub
(several replicas: every replica receives every message and hands it to its own
WebSocket clients). The relay publishes outbox rows after their transaction
commits: woken at once by the committing process, and by a periodic sweep that
sends what a crashed process left behind. Delivery is at least once; clients
key on the task id and catch up with ``myTaskList(updatedAfter:)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from . import json_codec
from .background import BackgroundLoop
from .clock import Clock
from .db import Database
from .outbox import DURABLE_TOPICS, OUTBOX, Deferred, OutboxMessage, OutboxReceipt, take_receipt, unhandled_by
from .prepared import pooled_transaction, run, takes_pooled_transactions
from .unit_of_work import unit_of_work

logger = logging.getLogger("irs.bus")

SUBSCRIBER_BUFFER = 1000
RELAY_BATCH = 500
SWEEP_SECONDS = 2.0
PER_TRANSACTION = 50  # a durable consumer's messages per transaction
CHANNEL_PREFIX = "irs:"
BATCH_CHANNEL = "#batch"  # after the prefix (topics are "domain.name[:id]"; none starts with '#')


class Bus(Protocol):
    # How many times this process may have missed messages (its Redis subscription was lost, then
    # restored): a cache that the bus keeps current drops what it kept before the count changed.
    interruptions: int

    async def publish(self, topic: str, message: dict[str, Any]) -> None: ...

    async def publish_many(self, messages: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """(topic, message) pairs, in order."""

    def subscribe(self, topic: str) -> contextlib.AbstractAsyncContextManager[AsyncIterator[dict[str, Any]]]: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class LocalFanout:
    """Subscribers of this process, by topic, each with a bounded queue."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue]] = defaultdict(set)
        self.interruptions = 0

    def subscribers(self, topic: str) -> int:
        """How many subscriptions of this process listen to ``topic``."""
        return len(self._queues.get(topic, ()))

    def deliver(self, topic: str, message: dict[str, Any]) -> None:
        for queue in list(self._queues.get(topic, ())):
            if queue.full():  # a stalled client: drop its oldest, it will catch up with a query
                queue.get_nowait()
                self.interruptions += 1  # a cache kept current by the bus cannot trust what it kept
                logger.warning("subscriber of %s is behind; dropped its oldest message", topic)
            queue.put_nowait(message)

    @contextlib.asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        queue: asyncio.Queue = asyncio.Queue(maxsize=SUBSCRIBER_BUFFER)
        self._queues[topic].add(queue)

        async def messages() -> AsyncIterator[dict[str, Any]]:
            while True:
                yield await queue.get()

        try:
            yield messages()
        finally:
            self._queues[topic].discard(queue)
            if not self._queues[topic]:
                del self._queues[topic]


class InProcessBus(LocalFanout):
    """One process: publishing is delivering."""

    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        self.deliver(topic, message)

    async def publish_many(self, messages: Sequence[tuple[str, dict[str, Any]]]) -> None:
        for topic, message in messages:
            self.deliver(topic, message)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


class RedisBus(LocalFanout):
    """Several replicas: publish to Redis; one pattern subscription per process fans messages out locally."""

    def __init__(self, url: str, prefix: str = CHANNEL_PREFIX, batches: bool = True) -> None:
        super().__init__()
        from redis.asyncio import Redis

        self._redis, self._prefix, self._batches = Redis.from_url(url), prefix, batches
        self._prefix_bytes = len(prefix.encode())  # a received channel's name begins with it
        self._listener: asyncio.Task | None = None
        self._ready = asyncio.Event()

    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        await self.publish_many([(topic, message)])

    async def publish_many(self, messages: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """The batch as one Redis message on the batch channel, which each replica unpacks for its subscribers,
        in order: every replica receives every message anyway (one pattern subscription each). Without
        ``batches`` (while replicas of a release that reads only the per-topic channels still run), one PUBLISH
        per message on its topic's channel, in one round trip."""
        if not messages:
            return
        if self._batches:
            batch = [[topic, message] for topic, message in messages]
            await self._redis.publish(self._prefix + BATCH_CHANNEL, json_codec.dumps(batch))
            return
        async with self._redis.pipeline(transaction=False) as pipeline:
            for topic, message in messages:
                pipeline.publish(self._prefix + topic, json_codec.dumps(message))
            await pipeline.execute()

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen())
        await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def _listen(self) -> None:
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.psubscribe(self._prefix + "*")
                    if self._ready.is_set():
                        self.interruptions += 1  # what was published while it was lost is gone
                    self._ready.set()
                    async for item in pubsub.listen():
                        if item["type"] == "pmessage":
                            self._received(item["channel"], item["data"])
            except asyncio.CancelledError:
                raise
            except Exception:
                self.interruptions += 1
                logger.exception("Redis subscription lost; reconnecting")
                await asyncio.sleep(1)

    def _received(self, channel: bytes, data: bytes) -> None:
        """Hand a batch's messages, or one message on its topic's own channel, to this process's subscribers. What
        cannot be read is dropped and counted as an interruption (it may have been news), and the subscription
        goes on: junk published on the bus's channels must not cost the replica its subscription."""
        name = channel[self._prefix_bytes :].decode(errors="replace")
        try:
            decoded = json_codec.loads(data)
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past the parser's depth
            decoded = None
        batch = decoded if name == BATCH_CHANNEL else [[name, decoded]]
        dropped = 0
        for entry in batch if isinstance(batch, list) else [batch]:
            match entry:
                case [str() as topic, dict() as message]:
                    self.deliver(topic, message)
                case _:
                    dropped += 1
        if dropped:
            self.interruptions += 1
            logger.warning("dropped %d unreadable message(s) on the bus's channel %r", dropped, name)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self._redis.aclose()


def create_bus(redis_url: str | None, prefix: str = CHANNEL_PREFIX, batches: bool = True) -> Bus:
    return RedisBus(redis_url, prefix, batches) if redis_url else InProcessBus()


class WakeSweepLoop:
    """A background loop woken by commits (``wake``) and by a periodic sweep, that runs rounds of work.

    The outbox relay and the durable consumers share it. Each wake or sweep runs ``_round`` again while it
    says there is more to do; a round that fails is logged and retried at the next sweep.
    """

    def __init__(self, db: Database, name: str, sweep_seconds: float, spacing_seconds: float = 0.0) -> None:
        self.db, self.sweep_seconds, self.spacing_seconds = db, sweep_seconds, spacing_seconds
        self._last_round = float("-inf")
        self._wake = asyncio.Event()
        self._loop = BackgroundLoop(name)
        # Set while the loop waits for a commit or the next sweep, cleared while it works: an observation
        # point (tests wait on it rather than sleeping).
        self.idle = asyncio.Event()

    def wake(self, written: Sequence[Any] = ()) -> None:
        """A transaction that wrote outbox rows has committed."""
        self._wake.set()

    async def start(self) -> None:
        self.db.commit_listeners.append(self.wake)
        self._loop.start(self._run)

    async def close(self) -> None:
        """Stop after the batch in hand (rows left pending go out with the next loop to run)."""
        with contextlib.suppress(ValueError):
            self.db.commit_listeners.remove(self.wake)
        self._wake.set()
        await self._loop.stop()

    async def _round(self) -> bool:
        """One round of work; True when there may be more to do at once."""
        raise NotImplementedError

    async def _wait_for_spacing(self) -> None:
        """Wait, if need be, until ``spacing_seconds`` after the last round began: under a stream of commits
        each round then takes what several wrote, rather than one round per commit. A stop cuts the wait
        short; the round it was waiting for still runs (the batch in hand)."""
        due = self._last_round + self.spacing_seconds - time.monotonic()
        if due > 0:
            await self._loop.sleep(due)
        self._last_round = time.monotonic()

    async def _run(self) -> None:
        while not self._loop.stopping:
            if not self._wake.is_set():
                self.idle.set()
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation that
            # arrives as the wait completes (a commit waking us as the server stops), and close() hung.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.sweep_seconds):
                    await self._wake.wait()
            self.idle.clear()
            if self._loop.stopping:
                return
            await self._wait_for_spacing()
            self._wake.clear()
            try:
                while await self._round() and not self._loop.stopping:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("%s failed; retrying at the next sweep", self._loop.name)


# Built once (the relay runs after every commit that emitted): the oldest unpublished rows, claimed for this
# replica with FOR UPDATE SKIP LOCKED (SQLite's compiler leaves it out: one writer at a time there anyway)
# and marked published in the same statement; the relay sends them before it commits, so a failed send
# rolls the mark back. One statement, not a SELECT and an UPDATE by id: the UPDATE's plan by a list of ids
# was a sequential scan whenever PostgreSQL planned it while the outbox was small.
_CLAIM_PENDING = (
    sa.update(OUTBOX)
    .where(
        OUTBOX.c.id.in_(
            sa.select(OUTBOX.c.id)
            .where(OUTBOX.c.published_at.is_(None))
            .order_by(OUTBOX.c.id)
            .limit(RELAY_BATCH)
            .with_for_update(skip_locked=True)
        )
    )
    .values(published_at=sa.bindparam("now"))
    .returning(OUTBOX.c.id, OUTBOX.c.topic, OUTBOX.c.event, OUTBOX.c.payload)
)


class OutboxRelay(WakeSweepLoop):
    """Publishes committed outbox rows, oldest first, and marks them published.

    On PostgreSQL rows are claimed with ``FOR UPDATE SKIP LOCKED``: replicas
    relaying at the same time take different rows, so none is sent twice by
    two relays. SQLite has one writer at a time anyway.
    """

    def __init__(
        self,
        db: Database,
        bus: Bus,
        clock: Clock,
        sweep_seconds: float = SWEEP_SECONDS,
        spacing_seconds: float = 0.0,
    ) -> None:
        super().__init__(db, "outbox relay", sweep_seconds, spacing_seconds)
        self.bus, self.clock = bus, clock

    async def _round(self) -> bool:
        return await self.relay_once() == RELAY_BATCH  # a full batch: more may be pending

    async def relay_once(self) -> int:
        """Publish one batch of pending rows; returns how many. The rows are marked published in the transaction
        that claims them, which commits only once the bus has taken them: a failed send leaves them pending."""
        engine = self.db.live_engine or self.db.engine
        if takes_pooled_transactions(engine):  # a round after nearly every commit: no session around it
            async with pooled_transaction(engine) as transaction:
                return await self._publish((await transaction.run(_CLAIM_PENDING, {"now": self._now()})).all())
        async with self.db.live_writer() as session, unit_of_work(session):
            # The clock is read once the transaction holds its connection (on SQLite, the write lock, which
            # may take a while): a row written during that wait must not be stamped as published before it
            # was written, or the purge of rows published a day ago would take it.
            await session.connection()
            return await self._publish((await run(session, _CLAIM_PENDING, {"now": self._now()})).all())

    async def _publish(self, claimed: Sequence[Any]) -> int:
        rows = sorted(claimed, key=lambda row: row.id)
        if rows:
            await self.bus.publish_many([(row.topic, {"event": row.event, **row.payload}) for row in rows])
        return len(rows)

    def _now(self) -> datetime:
        return self.clock.now()


Handler = Callable[[AsyncSession, OutboxMessage, datetime], Awaitable[str | None]]
ReadAhead = Callable[[AsyncSession, Sequence[OutboxMessage]], Awaitable[None]]


class DurableConsumer(WakeSweepLoop):
    """Handles every message of some outbox topics exactly once, whatever the number of replicas.

    Its topics and events are declared with ``outbox.register_durable``. Unlike subscriptions (best
    effort, from the bus), it reads the outbox itself: a message is handled
    in the transaction that records its receipt, so a crash loses nothing and a race between replicas
    (or with a retried run) handles it once. Woken by commits like the relay, and by a periodic sweep.
    The handler returns None, or why it wrote nothing (kept on the receipt); it raises Deferred to
    leave the message for later. ``read_ahead``, if given, sees each transaction's messages first, to
    read what they need in a few statements (it reads only; if it fails, the handler reads alone).
    """

    def __init__(
        self,
        db: Database,
        clock: Clock,
        name: str,
        handle: Handler,
        sweep_seconds: float = SWEEP_SECONDS,
        batch: int = RELAY_BATCH,
        read_ahead: ReadAhead | None = None,
    ) -> None:
        if name not in DURABLE_TOPICS:
            raise ValueError(f"{name} is not a registered durable consumer (outbox.register_durable)")
        super().__init__(db, f"{name} consumer", sweep_seconds)
        self.clock, self.name, self.handle, self.batch, self.read_ahead = clock, name, handle, batch, read_ahead

    def wake(self, written: Sequence[Any] = ()) -> None:
        """A transaction that wrote outbox rows has committed: a round if any is one of this consumer's (a
        booking's commit is not the ledger's business). The sweep finds what another replica wrote, and tries
        again a message deferred (``Deferred``) unless one of this consumer's commits comes first."""
        topics, events = DURABLE_TOPICS[self.name]
        if not written or any(message.topic in topics and message.event in events for message in written):
            super().wake(written)

    async def _round(self) -> bool:
        return await self.consume_once() > 0  # handled some: more may be pending

    async def drain(self) -> int:
        """Handle everything pending now (tests, `irs` commands); returns how many were handled."""
        total = 0
        while handled := await self.consume_once():
            total += handled
        return total

    async def consume_once(self) -> int:
        """One batch of pending messages, PER_TRANSACTION of them per transaction (each in a savepoint of
        its own, so one deferred or failing message leaves the others handled); returns how many."""
        async with self.db.reader() as session:
            statement = (
                select(OutboxMessage.id)
                .where(unhandled_by(self.name))
                .order_by(col(OutboxMessage.id))
                .limit(self.batch)
            )
            ids = [message_id or 0 for message_id in (await session.exec(statement)).all()]
        handled = 0
        for start in range(0, len(ids), PER_TRANSACTION):
            if self._loop.stopping:
                break
            handled += await self._handle_some(ids[start : start + PER_TRANSACTION])
        return handled

    async def _handle_some(self, ids: Sequence[int]) -> int:
        async with self.db.writer() as session, unit_of_work(session):
            now = self.clock.now()
            found = await session.exec(select(OutboxMessage).where(col(OutboxMessage.id).in_(list(ids))))
            messages = {message.id: message for message in found}
            await self._read_ahead(session, list(messages.values()))
            return sum([await self._handle_one(session, i, messages.get(i), now) for i in ids])

    async def _read_ahead(self, session: AsyncSession, messages: list[OutboxMessage]) -> None:
        if self.read_ahead is None or not messages:
            return
        try:
            async with session.begin_nested():
                await self.read_ahead(session, messages)
        except Exception:
            logger.exception("%s could not read ahead; each message reads for itself", self.name)

    async def _handle_one(
        self, session: AsyncSession, message_id: int, message: OutboxMessage | None, now: datetime
    ) -> int:
        """1 when this consumer handled the message now; 0 when another did, or it is deferred or failed."""
        try:
            async with session.begin_nested():
                if not await take_receipt(session, self.name, message_id, now):
                    return 0
                outcome = await self.handle(session, message, now) if message else "MESSAGE_GONE"
                if outcome:
                    await session.exec(
                        sa.update(OutboxReceipt)
                        .where(col(OutboxReceipt.consumer) == self.name, col(OutboxReceipt.message_id) == message_id)
                        .values(outcome=outcome)
                    )
                    logger.warning("%s wrote nothing for outbox message %s: %s", self.name, message_id, outcome)
                return 1
        except Deferred:
            return 0
        except Exception:  # one bad message must not hold up the others: it is tried again next run
            logger.exception("%s failed on outbox message %s; it stays pending", self.name, message_id)
            return 0
