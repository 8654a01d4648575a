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
