"""The live pool (outbox relay, subscriptions) keeps its connections under a burst."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from server.db import LIVE_POOL_SIZE


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
