"""The live pool (outbox relay, subscriptions) keeps its connections under a burst."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from server.db import LAST_USED, LIVE_POOL_SIZE, create_engine


async def test_bursts_of_live_reads_reuse_the_live_pool(db):
    if db.live_engine is None:
        pytest.skip("SQLite: live sessions share the main engine")
    opened: list[object] = []

    def on_connect(*_):
        opened.append(None)

    event.listen(db.live_engine.sync_engine, "connect", on_connect)

    async def read() -> None:
        async with db.live_reader() as session:
            await session.exec(sa.select(sa.func.pg_sleep(0.005)))

    try:
        for _ in range(3):  # e.g. one booking's news reaching many subscriptions at once
            await asyncio.gather(*(read() for _ in range(4 * LIVE_POOL_SIZE)))
    finally:
        event.remove(db.live_engine.sync_engine, "connect", on_connect)
    # Opening a PostgreSQL connection costs a process fork there and a TLS attempt here: a pool
    # that opened and closed overflow connections on every burst cost the surge bench a quarter
    # of its throughput.
    assert len(opened) <= LIVE_POOL_SIZE


async def _two_clock_reads(session) -> bool:
    """Whether two statements ran in one transaction: now() is the transaction's start."""
    first = (await session.exec(sa.select(sa.func.now()))).one()
    await session.exec(sa.select(sa.func.pg_sleep(0.002)))
    return first == (await session.exec(sa.select(sa.func.now()))).one()


async def test_readers_read_outside_a_transaction_and_leave_the_writers_theirs(db):
    """On PostgreSQL a reader saves BEGIN and ROLLBACK (READ COMMITTED gives each statement its own snapshot
    anyway); the connection it gives back to the shared pool is transactional again for the next writer."""
    if db.is_sqlite:
        pytest.skip("SQLite's reader keeps its transaction: there one snapshot lasts until it ends")
    for _ in range(3):  # the pool hands the same connections round
        async with db.reader() as session:
            assert not await _two_clock_reads(session)
        async with db.live_reader() as session:
            assert not await _two_clock_reads(session)
        async with db.writer() as session:
            assert await _two_clock_reads(session)
            await session.rollback()


async def _backend_pid(engine) -> int:
    async with engine.connect() as connection:
        return (await connection.execute(sa.select(sa.func.pg_backend_pid()))).scalar_one()


async def _terminate(admin, pid: int) -> None:
    async with admin.connect() as connection:
        await connection.execute(sa.select(sa.func.pg_terminate_backend(pid, 5000)))  # waits for it to end


@pytest.fixture
async def pg_url(db) -> str:
    if db.is_sqlite:
        pytest.skip("PostgreSQL's pool: SQLite opens its file, there is no server to lose")
    return db.engine.url.render_as_string(hide_password=False)


def _records_given_back(engine) -> list:
    """The pool's connection records, each time one is given back (to age one as if it had idled)."""
    given_back: list = []
    event.listen(engine.sync_engine, "checkin", lambda _connection, record: given_back.append(record))
    return given_back


async def test_an_idle_connection_that_died_is_replaced_before_anyone_gets_it(db, pg_url):
    """The server ended a pooled connection while it idled (a restart, a failover, an idle timeout): the
    next checkout pings it, finds it dead and hands out a new one; the caller sees nothing."""
    engine = create_engine(pg_url, pool_size=1, ping_after_idle=0)
    try:
        first = await _backend_pid(engine)
        await _terminate(db.engine, first)
        second = await _backend_pid(engine)
        assert second != first
    finally:
        await engine.dispose()


async def test_a_connection_given_back_a_moment_ago_is_not_pinged(db, pg_url):
    """Under load a connection goes round the pool many times a second: pinging each checkout (three round
    trips on asyncpg) cost 8 % of a `me`. Only a connection idle PING_AFTER_IDLE_SECONDS is pinged."""
    engine = create_engine(pg_url, pool_size=1, ping_after_idle=60)
    sent: list[str] = []
    given_back = _records_given_back(engine)
    try:
        async with engine.connect() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            driver.add_query_logger(lambda record: sent.append(record.query))
        sent.clear()
        await _backend_pid(engine)
        await asyncio.sleep(0)  # asyncpg hands its query log over on the loop's next turn
        assert sent == ["BEGIN;", "ROLLBACK;"]  # the statement's own transaction (prepared statements not logged)
        given_back[-1].info[LAST_USED] -= 61  # the pool's one connection, as if it had idled a minute
        sent.clear()
        await _backend_pid(engine)
        await asyncio.sleep(0)
        assert sent == [";", "BEGIN;", "ROLLBACK;"]  # one round trip: pinged outside a transaction
    finally:
        await engine.dispose()


async def test_a_failed_ping_replaces_every_connection_pooled_before_it(db, pg_url):
    """The server restarted: every pooled connection is dead, and only the one idle long enough is pinged.
    Its failed ping has the whole pool replaced, so the one given back a moment ago does not fail a request."""
    engine = create_engine(pg_url, pool_size=2, max_overflow=0, ping_after_idle=60)
    given_back = _records_given_back(engine)
    try:
        async with engine.connect() as first, engine.connect() as second:
            old = set()
            for connection in (first, second):
                old.add((await connection.execute(sa.select(sa.func.pg_backend_pid()))).scalar_one())
        for pid in old:
            await _terminate(db.engine, pid)
        given_back[0].info[LAST_USED] -= 61  # the one the pool hands out first has idled a minute
        new = {await _backend_pid(engine), await _backend_pid(engine)}
        assert not new & old
    finally:
        await engine.dispose()


async def test_a_connection_the_server_closed_a_moment_ago_is_replaced_without_a_ping(db, pg_url):
    """Given back a moment ago (so not pinged), then ended by the server: asyncpg has seen the socket close,
    and the checkout replaces it instead of handing it to a request that would fail."""
    engine = create_engine(pg_url, pool_size=1, ping_after_idle=60)
    try:
        first = await _backend_pid(engine)
        await _terminate(db.engine, first)
        await asyncio.sleep(0.1)  # the loop reads the server's goodbye and the socket's end
        assert await _backend_pid(engine) != first
    finally:
        await engine.dispose()
