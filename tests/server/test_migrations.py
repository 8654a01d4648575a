"""Models and migrations agree, and the migrations run both ways, on both databases."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from server import migrate
from server.models import metadata


async def _differences(url: str) -> list:
    engine = create_async_engine(url)

    def compare(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, metadata)

    async with engine.connect() as connection:
        diff = await connection.run_sync(compare)
    await engine.dispose()
    return diff


async def _revisions(url: str) -> frozenset[str]:
    engine = create_async_engine(url)
    try:
        return await migrate.database_revisions(engine)
    finally:
        await engine.dispose()


async def test_upgrade_head_matches_models(fresh_url):
    await asyncio.to_thread(migrate.upgrade, fresh_url)
    assert await _differences(fresh_url) == []
    assert await _revisions(fresh_url) == migrate.head_revisions()


async def test_downgrade_base_then_upgrade_head(fresh_url):
    await asyncio.to_thread(migrate.upgrade, fresh_url)
    await asyncio.to_thread(migrate.downgrade, fresh_url, "base")
    assert await _revisions(fresh_url) == frozenset()
    await asyncio.to_thread(migrate.upgrade, fresh_url)
    assert await _differences(fresh_url) == []
