"""Alembic environment (async). The URL comes from the caller's config or IRS_DATABASE_URL."""

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from server.columns import UTCDateTime
from server.models import metadata
from server.settings import Settings

config = context.config


def database_url() -> str:
    return config.get_main_option("sqlalchemy.url") or Settings().database_url


def render_item(type_, obj, autogen_context):
    """Render our UTC column type as the plain timezone-aware DateTime it stores."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


MIGRATION_LOCK = 7_263_001  # any constant: one migration at a time per database
LOCK_POLL_SECONDS = 0.2


async def take_migration_lock(connection) -> None:
    """Several replicas may start `irs serve` (which migrates) at once: they take turns.

    A replica waits for its turn between tries, outside any statement: one waiting inside
    pg_advisory_lock holds a snapshot, and an index built CONCURRENTLY waits for every older
    snapshot, so the build and the wait deadlocked.
    """
    while not (await connection.execute(text(f"SELECT pg_try_advisory_lock({MIGRATION_LOCK})"))).scalar():
        await connection.commit()
        await asyncio.sleep(LOCK_POLL_SECONDS)
    await connection.commit()


async def run_async() -> None:
    engine = create_async_engine(database_url(), poolclass=NullPool)
    async with engine.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            await take_migration_lock(connection)
        try:
            await connection.run_sync(configure)
        finally:
            if postgres:
                await connection.execute(text(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
                await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=database_url(), target_metadata=metadata, literal_binds=True, render_item=render_item)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(run_async())
