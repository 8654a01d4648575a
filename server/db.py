"""Engine and session factories. Nothing is created at import time."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

WRITE_OPTION = "irs_write"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(database_url: str, *, echo: bool = False) -> AsyncEngine:
    if is_sqlite(database_url):
        return _create_sqlite_engine(database_url, echo=echo)
    return create_async_engine(
        database_url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20,
        # asyncpg prepares statements, and PostgreSQL may settle on a generic plan made while a
        # table was still small (a sequential scan, kept as the table grows) and JIT-compile plans
        # of short OLTP queries for ~100 ms. Plan each execution for its parameters, without JIT.
        connect_args={"server_settings": {"jit": "off", "plan_cache_mode": "force_custom_plan"}},
    )


def ensure_sqlite_directory(database_url: str) -> None:
    """SQLite creates the file, not the folder it lives in."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def _create_sqlite_engine(database_url: str, *, echo: bool) -> AsyncEngine:
    ensure_sqlite_directory(database_url)
    engine = create_async_engine(
        database_url, echo=echo, connect_args={"timeout": 30}
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event emit BEGIN itself (see below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        try:
            cursor.execute("SELECT power(2, 1)")
        except Exception:  # noqa: BLE001 - SQLite built without its math functions
            dbapi_connection.create_function("power", 2, math.pow, deterministic=True)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn):
        # A deferred transaction that reads then writes fails with "database is
        # locked" under concurrent writers; writers take the lock up front.
        write = conn.get_execution_options().get(WRITE_OPTION, True)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


@dataclass(frozen=True)
class Database:
    """The engine plus a session factory for writing and one for reading."""

    engine: AsyncEngine
    writer: async_sessionmaker[AsyncSession]
    reader: async_sessionmaker[AsyncSession]

    @classmethod
    def connect(cls, database_url: str, *, echo: bool = False) -> Database:
        engine = create_engine(database_url, echo=echo)
        read_engine = engine.execution_options(**{WRITE_OPTION: False})
        return cls(
            engine=engine,
            writer=async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False),
            reader=async_sessionmaker(
                read_engine, class_=AsyncSession, expire_on_commit=False
            ),
        )

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    async def dispose(self) -> None:
        await self.engine.dispose()
