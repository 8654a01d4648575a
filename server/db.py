"""Engine and session factories. Nothing is created at import time."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from . import json_codec
from .prepared import ReadingSession, WritingSession

WRITE_OPTION = "irs_write"
# What the store distance (haversine) and ranking queries use, for SQLite builds without them.
_SQLITE_MATH = (
    ("power", 2, math.pow),
    ("sin", 1, math.sin),
    ("cos", 1, math.cos),
    ("asin", 1, math.asin),
    ("sqrt", 1, math.sqrt),
    ("radians", 1, math.radians),
)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


# A pooled PostgreSQL connection idle this long is pinged before it is handed out (see _ping_when_idle).
PING_AFTER_IDLE_SECONDS = 2.0
PING_TIMEOUT_SECONDS = 5.0  # a network that drops packets silently must not hang a checkout for minutes
LAST_USED = "irs_last_used"  # connection record info: time.monotonic() when it was last connected or given back


def create_engine(
    database_url: str,
    *,
    echo: bool = False,
    pool_size: int = 10,
    max_overflow: int = 20,
    ping_after_idle: float = PING_AFTER_IDLE_SECONDS,
) -> AsyncEngine:
    if is_sqlite(database_url):
        return _create_sqlite_engine(database_url, echo=echo)
    engine = create_async_engine(
        database_url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=max_overflow,
        # No JIT: PostgreSQL JIT-compiled plans of short OLTP queries for ~100 ms. asyncpg prepares
        # statements, and PostgreSQL keeps one generic plan per statement once it does no worse than
        # planning for each execution's values (its default): planning every execution was a third of its
        # CPU per booking. A generic plan made while a table was small is remade when ANALYZE (autovacuum)
        # updates the table's statistics; with autovacuum off it would be kept as the table grows.
        connect_args={"server_settings": {"jit": "off"}},
        json_deserializer=json_codec.loads,  # JSON columns read by orjson; written by the standard library
    )
    _ping_when_idle(engine, ping_after_idle)
    return engine


def _ping_when_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Ping a pooled connection before handing it out, only once it has been idle ``idle_seconds``.

    SQLAlchemy's ``pool_pre_ping`` pings at every checkout, and on asyncpg a ping outside a transaction is
    three round trips (BEGIN, the ping, ROLLBACK, for pgbouncer's sake): under load that was 8 % of a
    ``me``. A connection given back a moment ago is alive unless the server went away in that moment: asyncpg
    has most often seen it close by then (checked at every checkout, without a round trip); if not, the
    statement fails as a disconnect, and SQLAlchemy recycles every connection of the pool. A connection
    that fails its ping is replaced before anyone gets it, and so is every other one pooled before then.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _connected(_dbapi_connection, record) -> None:
        record.info[LAST_USED] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkin")
    def _given_back(_dbapi_connection, record) -> None:
        record.info[LAST_USED] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
        if dbapi_connection.driver_connection.is_closed():  # asyncpg saw the server end it: no round trip
            raise InvalidatePoolError("a pooled connection was closed by the server")
        if time.monotonic() - record.info.get(LAST_USED, 0.0) < idle_seconds:
            return
        try:
            dbapi_connection.run_async(lambda driver: driver.fetchrow(";", timeout=PING_TIMEOUT_SECONDS))
        except Exception as error:
            # As pool_pre_ping does: a dead connection most likely means the server restarted, so every
            # connection pooled before now is replaced at its next checkout, not only this one. (Unlike
            # pre-ping, any failure counts, a timeout included: the cost is reconnecting the pool.)
            raise InvalidatePoolError(f"a pooled connection failed its ping: {error!r}") from error


def ensure_sqlite_directory(database_url: str) -> None:
    """SQLite creates the file, not the folder it lives in."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def _create_sqlite_engine(database_url: str, *, echo: bool) -> AsyncEngine:
    ensure_sqlite_directory(database_url)
    engine = create_async_engine(
        database_url, echo=echo, connect_args={"timeout": 30}, json_deserializer=json_codec.loads
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
            cursor.execute("SELECT power(2, 1), sin(1), cos(1), asin(1), sqrt(1), radians(1)")
        except Exception:
            for name, arity, function in _SQLITE_MATH:
                dbapi_connection.create_function(name, arity, function, deterministic=True)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn):
        # A deferred transaction that reads then writes fails with "database is
        # locked" under concurrent writers; writers take the lock up front.
        write = conn.get_execution_options().get(WRITE_OPTION, True)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def is_reader(session: AsyncSession) -> bool:
    """Whether the session is a reader's: it writes nothing, so what it reads need not live in its identity map."""
    return session.get_bind().get_execution_options().get(WRITE_OPTION, True) is False


def _read_options(database_url: str) -> dict[str, Any]:
    """Reader sessions' connections. On PostgreSQL they read outside a transaction: at READ COMMITTED
    each statement sees its own snapshot either way, so BEGIN and ROLLBACK would be two round trips
    that change nothing. (SQLite's reader keeps its transaction: there one snapshot lasts until it ends.)"""
    if is_sqlite(database_url):
        return {WRITE_OPTION: False}
    return {WRITE_OPTION: False, "isolation_level": "AUTOCOMMIT"}


OUTBOX_WRITTEN = "outbox_written"  # session.info: the outbox messages server.outbox.emit added
COMMITTED = "committed"  # session.info flag: this writer session committed at least once
LIVE_POOL_SIZE, LIVE_POOL_OVERFLOW = 8, 0
# Called with the outbox messages a commit wrote (also those of a savepoint it rolled back: harmless to
# the relay, which publishes what is in the table, and to a cache, which then reads again).
CommitListener = Callable[[Sequence[Any]], None]


@dataclass(frozen=True)
class Database:
    """The engine plus a session factory for writing and one for reading.

    ``commit_listeners`` are called after a writer session that wrote outbox
    rows commits, with those rows (the relay publishes them at once; a cache
    in step with the bus forgets what they change in this process at once).

    ``live_writer`` (the outbox relay) and ``live_reader`` (subscriptions
    loading what an event names) have a small pool of their own on
    PostgreSQL: under a surge of requests that holds every connection of the
    main pool, news still goes out at once instead of queueing behind them.
    """

    engine: AsyncEngine
    writer: async_sessionmaker[AsyncSession]
    reader: async_sessionmaker[AsyncSession]
    live_writer: async_sessionmaker[AsyncSession]
    live_reader: async_sessionmaker[AsyncSession]
    commit_listeners: list[CommitListener] = field(default_factory=list)
    live_engine: AsyncEngine | None = None  # None: live sessions share ``engine`` (SQLite)

    @classmethod
    def connect(cls, database_url: str, *, echo: bool = False) -> Database:
        engine = create_engine(database_url, echo=echo)
        read_options = _read_options(database_url)
        read_engine = engine.execution_options(**read_options)
        live_engine = (
            None
            if is_sqlite(database_url)
            else create_engine(database_url, echo=echo, pool_size=LIVE_POOL_SIZE, max_overflow=LIVE_POOL_OVERFLOW)
        )
        listeners: list[CommitListener] = []

        class WriterSession(WritingSession):
            """This database's writer sessions (the after-commit hook is per database)."""

        @event.listens_for(WriterSession, "after_commit")
        def _after_commit(session) -> None:
            if session.in_nested_transaction():
                return  # a savepoint released: nothing is committed yet
            session.info[COMMITTED] = True
            written = session.info.pop(OUTBOX_WRITTEN, None)
            if written:
                for listener in list(listeners):
                    listener(written)

        @event.listens_for(WriterSession, "after_rollback")
        def _after_rollback(session) -> None:
            if not session.in_nested_transaction():  # a savepoint's rollback leaves the rest to commit
                session.info.pop(OUTBOX_WRITTEN, None)

        return cls(
            engine=engine,
            writer=async_sessionmaker(
                engine, class_=AsyncSession, sync_session_class=WriterSession, expire_on_commit=False
            ),
            reader=async_sessionmaker(
                read_engine, class_=AsyncSession, sync_session_class=ReadingSession, expire_on_commit=False
            ),
            live_writer=async_sessionmaker(live_engine or engine, class_=AsyncSession, expire_on_commit=False),
            live_reader=async_sessionmaker(
                live_engine.execution_options(**read_options) if live_engine else read_engine,
                class_=AsyncSession,
                sync_session_class=ReadingSession,
                expire_on_commit=False,
            ),
            commit_listeners=listeners,
            live_engine=live_engine,
        )

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.live_engine is not None:
            await self.live_engine.dispose()


def claim(statement, session: AsyncSession):
    """``statement`` (a SELECT of rows to work on) claimed for this replica: on PostgreSQL with
    ``FOR UPDATE SKIP LOCKED``, so replicas working at once take different rows and none does a
    row twice. SQLite has one writer at a time anyway."""
    if session.get_bind().dialect.name == "postgresql":
        return statement.with_for_update(skip_locked=True)
    return statement
