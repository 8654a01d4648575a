"""Statements run by asyncpg itself (server.prepared): the same rows, counts and errors as through the
session, in the session's transaction, and the session's own way wherever the short way could differ."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from server.at_commit import insert_at_commit
from server.db import COMMITTED
from server.domains.common.idempotency import IdempotencyRecord
from server.domains.common.rows import held_by, model_columns, select_columns, table_of
from server.domains.staff.models import StaffUser
from server.outbox import OutboxMessage, emit
from server.prepared import (
    LISTED_ROWS,
    WritingSession,
    any_of,
    close,
    commit,
    pooled_transaction,
    run,
    run_inserts,
    run_many,
)
from server.unit_of_work import unit_of_work
from tests.server.assertions import SessionWay

OUTBOX = table_of(OutboxMessage)
KEYS = table_of(IdempotencyRecord)
INSERT_MESSAGE = sa.insert(OUTBOX).returning(OUTBOX.c.id, OUTBOX.c.payload, OUTBOX.c.created_at)
MESSAGE = sa.select(OUTBOX.c.payload, OUTBOX.c.created_at, OUTBOX.c.published_at).where(
    OUTBOX.c.id == sa.bindparam("id")
)
INSERT_KEY = sa.insert(KEYS).values(result_id=0)
KEY_COUNT = sa.select(sa.func.count()).select_from(KEYS).where(KEYS.c.key == sa.bindparam("key"))
SHANGHAI = timezone(timedelta(hours=8))


def _key_row(key: str) -> dict:
    return {"actor": "test", "operation": "prepared", "key": key, "request_hash": "h", "created_at": datetime.now(UTC)}


async def _begin(session) -> None:
    await session.exec(sa.select(sa.literal(1)))  # SQLAlchemy sends BEGIN with its first statement


async def test_rows_read_back_alike_either_way(db):
    """JSON and aware datetimes go in and come back as through the session; rows read by position and name."""
    payload = {"bookingId": 7, "note": "试用装 ✓", "steps": [1, None, True]}
    written_at = datetime(2026, 12, 5, 20, 30, tzinfo=SHANGHAI)
    with SessionWay(db.engine, lambda statement: "outbox" in statement) as calls:
        async with db.writer() as session:
            await _begin(session)
            row = {"topic": "t", "event": "CREATED", "payload": payload, "created_at": written_at, "published_at": None}
            message_id, stored, created_at = (await run(session, INSERT_MESSAGE, row)).one()
            read = (await run(session, MESSAGE, {"id": message_id})).one()
            through_session = (await session.exec(MESSAGE, params={"id": message_id})).one()
            await session.commit()
    assert stored == payload and read.payload == payload and read[0] == through_session[0]
    assert created_at == written_at and created_at.tzinfo is not None and created_at.utcoffset() == timedelta(0)
    assert read.created_at == through_session.created_at and read.published_at is None
    short_way = not db.is_sqlite
    assert len(calls.seen) == (1 if short_way else 3)  # on PostgreSQL only the session's own read


def _keys_short_way(db):
    """The statements about keys that reach SQLAlchemy's cursor: none on PostgreSQL, where asyncpg runs them."""
    return SessionWay(db.engine, lambda statement: "idempotency_record" in statement)


def _expected_session_way(db, on_sqlite: int) -> int:
    return on_sqlite if db.is_sqlite else 0


async def test_counts_and_many_rows(db):
    """An UPDATE's count of rows changed (the seat and her place are taken by such a count), and many rows
    written in one call."""
    with _keys_short_way(db) as calls:
        async with db.writer() as session:
            await _begin(session)
            await run_many(session, INSERT_KEY, [_key_row("a"), _key_row("b"), _key_row("c")])
            mark = sa.update(KEYS).where(KEYS.c.key == sa.bindparam("which"), KEYS.c.result_id == 0)
            mark = mark.values(result_id=9)
            assert (await run(session, mark, {"which": "b"})).rowcount == 1
            assert (await run(session, mark, {"which": "b"})).rowcount == 0  # changed already: the WHERE refuses
            await session.commit()
    assert len(calls.seen) == _expected_session_way(db, on_sqlite=3)
    async with db.reader() as session:
        stored = (await session.exec(sa.select(KEYS.c.key, KEYS.c.result_id).order_by(KEYS.c.key))).all()
    assert [tuple(row) for row in stored] == [("a", 0), ("b", 9), ("c", 0)]


@pytest.mark.parametrize(
    "given",
    [
        lambda: [1, 3],
        lambda: (1, 3),
        lambda: {1, 3},
        lambda: {1: "a", 3: "b"},
        lambda: (n for n in (1, 3)),
        lambda: {1: "a", 3: "b"}.keys(),
    ],
    ids=["list", "tuple", "set", "dict", "generator", "keys"],
)
async def test_an_array_of_values_may_be_given_as_any_collection_as_through_the_session(db, given):
    """A list goes to asyncpg as it is; another collection is made a list first, as SQLAlchemy's processor makes
    it (a dict gives its keys)."""
    ids = []
    position = OUTBOX.c.id - sa.bindparam("first") + 1
    chosen = sa.select(OUTBOX.c.topic).where(position >= 1, any_of(position, "n", db.engine.dialect.name))
    with SessionWay(db.engine, lambda statement: "outbox.topic" in statement) as calls:
        async with db.writer() as session:
            await _begin(session)
            for topic in ("one", "two", "three"):
                row = {"topic": topic, "event": "E", "payload": {}, "created_at": datetime.now(UTC)}
                ids.append((await run(session, INSERT_MESSAGE, {**row, "published_at": None})).one().id)
            topics = sorted(row.topic for row in await run(session, chosen, {"first": ids[0], "n": given()}))
            await session.rollback()
    assert topics == ["one", "three"]
    assert len(calls.seen) == _expected_session_way(db, on_sqlite=1)


@pytest.mark.parametrize("extra", [0, LISTED_ROWS], ids=["listed", "arrays"])
@pytest.mark.parametrize("watched", [False, True], ids=["asyncpg", "watched"])
async def test_rows_of_several_tables_in_one_round_trip_read_back_as_written(db, watched, extra):
    """run_inserts: on PostgreSQL one statement (CTEs, a few rows listed, more over arrays), run by asyncpg itself
    unless the engine is watched; on SQLite one executemany per table. Aware times, JSON and NULLs converted as each
    column converts them, every way."""
    noon = datetime(2026, 12, 6, 12, 0, tzinfo=SHANGHAI)
    messages = [
        {"topic": "t", "event": "A", "payload": {"n": 1, "名": "丽"}, "created_at": noon, "published_at": None},
        {"topic": "t", "event": "B", "payload": [[1, 2], ["丽"]], "created_at": noon, "published_at": noon},
    ] + [
        {"topic": "t", "event": f"Z{n}", "payload": {}, "created_at": noon, "published_at": None} for n in range(extra)
    ]
    keys = [{**_key_row("x"), "result_id": 0}, {**_key_row("y"), "result_id": 3}]
    keys += [{**_key_row(f"z{n}"), "result_id": n} for n in range(extra)]
    inserts: list[str] = []

    def watch(_connection, _cursor, statement, *_rest) -> None:
        if "INSERT" in statement:
            inserts.append(statement)

    if watched:
        event.listen(db.engine.sync_engine, "before_cursor_execute", watch)
    try:
        with SessionWay(db.engine, lambda statement: "INSERT" in statement) as calls:
            async with db.writer() as session:
                await run_inserts(session, (OUTBOX, messages), (KEYS, keys), (OUTBOX, []))
                await session.commit()
    finally:
        if watched:
            event.remove(db.engine.sync_engine, "before_cursor_execute", watch)
    if watched:
        assert len(inserts) == (2 if db.is_sqlite else 1)
    else:
        assert len(calls.seen) == _expected_session_way(db, on_sqlite=2)
    async with db.reader() as session:
        columns = (OUTBOX.c.event, OUTBOX.c.payload, OUTBOX.c.created_at, OUTBOX.c.published_at)
        stored = (await session.exec(sa.select(*columns).order_by(OUTBOX.c.event))).all()
        written_keys = (await session.exec(sa.select(KEYS.c.key, KEYS.c.result_id).order_by(KEYS.c.key))).all()
    assert [tuple(row) for row in stored] == [
        ("A", {"n": 1, "名": "丽"}, noon, None),
        ("B", [[1, 2], ["丽"]], noon, noon),
    ] + [(f"Z{n}", {}, noon, None) for n in range(extra)]
    assert [tuple(row) for row in written_keys] == [("x", 0), ("y", 3)] + [(f"z{n}", n) for n in range(extra)]


async def test_run_inserts_refuses_rows_without_a_column_that_has_a_python_default(db):
    """A CTE's INSERT over arrays would not compute ``created_at``'s default per row: leaving it out is a mistake,
    refused on every database before anything is written."""
    message = {"topic": "t", "event": "A", "payload": {}, "published_at": None}
    async with db.writer() as session:
        with pytest.raises(TypeError, match="created_at"):
            await run_inserts(session, (OUTBOX, [message]))
        await session.rollback()
    async with db.reader() as session:
        assert (await session.exec(sa.select(sa.func.count()).select_from(OUTBOX))).one()[0] == 0


@pytest.mark.parametrize("extra", [0, LISTED_ROWS], ids=["listed", "arrays"])
async def test_a_text_too_long_for_its_column_is_refused_by_run_inserts_not_cut_short(db, extra):
    """Listed or in arrays, the values are typed without the column's length: a cast to VARCHAR(128)[] would cut
    the text silently."""
    if db.is_sqlite:
        pytest.skip("SQLite does not hold a VARCHAR to its length")
    keys = [{**_key_row("k" * 129), "result_id": 0}] + [{**_key_row(f"z{n}"), "result_id": n} for n in range(extra)]
    async with db.writer() as session:
        with pytest.raises(sa.exc.DBAPIError, match="value too long"):
            message = {"topic": "t", "event": "A", "payload": {}, "created_at": datetime.now(UTC), "published_at": None}
            await run_inserts(session, (OUTBOX, [message]), (KEYS, keys))
        await session.rollback()
    async with db.reader() as session:
        assert (await session.exec(sa.select(sa.func.count()).select_from(OUTBOX))).one()[0] == 0
        assert (await session.exec(sa.select(sa.func.count()).select_from(KEYS))).one()[0] == 0


async def test_none_is_converted_by_its_type_as_through_the_session(db):
    """SQLAlchemy's JSON type stores None as JSON null (the outbox's payload may not be NULL)."""
    row = {"topic": "t", "event": "E", "payload": None, "created_at": datetime.now(UTC), "published_at": None}
    with SessionWay(db.engine, lambda statement: "outbox" in statement) as calls:
        async with db.writer() as session:
            await _begin(session)
            message_id = (await run(session, INSERT_MESSAGE, row)).one()[0]
            await session.commit()
    assert len(calls.seen) == (1 if db.is_sqlite else 0)
    async with db.reader() as session:
        payload = (await session.exec(sa.select(OUTBOX.c.payload).where(OUTBOX.c.id == message_id))).one()[0]
    assert payload is None


async def test_a_savepoint_rolled_back_takes_its_statements_with_it(db):
    with _keys_short_way(db) as calls:
        async with db.writer() as session:
            await _begin(session)
            await run(session, INSERT_KEY, _key_row("kept"))
            savepoint = await session.begin_nested()
            await run(session, INSERT_KEY, _key_row("undone"))
            await savepoint.rollback()
            await session.commit()
    assert len(calls.seen) == _expected_session_way(db, on_sqlite=2)
    async with db.reader() as session:
        stored = (await session.exec(sa.select(KEYS.c.key))).all()
    assert [row[0] for row in stored] == ["kept"]


async def test_an_orm_entity_goes_the_session_s_way(db):
    """An UPDATE of a mapped class also refreshes the objects the session holds; a SELECT of one builds them."""
    with SessionWay(db.engine, lambda statement: "outbox" in statement) as calls:
        async with db.writer() as session:
            await _begin(session)
            row = {"topic": "t", "event": "E", "payload": {}, "created_at": datetime.now(UTC), "published_at": None}
            message_id = (await run(session, INSERT_MESSAGE, row)).one()[0]
            message = await session.get(OutboxMessage, message_id)
            mark = sa.update(OutboxMessage).where(OutboxMessage.id == message_id).values(topic="u")
            await run(session, mark)
            assert message is not None and message.topic == "u"  # the session refreshed the object it holds
            found = (await run(session, sa.select(OutboxMessage).where(OutboxMessage.id == message_id))).one()
            assert found[0] is message
            await session.rollback()
    assert len(calls.seen) == (4 if db.is_sqlite else 3)  # get, update and select; on SQLite the insert too


async def test_columns_converted_by_the_server_s_type_read_back_as_through_the_session(db):
    """Float and Numeric results convert by the type the server names (as SQLAlchemy does from the cursor's
    description): a Float the server computes as numeric comes back a float, a Numeric of a double a Decimal;
    a store's coordinates (double precision) come back as they are. The server is asked those types once."""
    number = sa.cast(sa.bindparam("x", type_=sa.Numeric), sa.Numeric)
    double = sa.cast(sa.bindparam("x", type_=sa.Float), sa.Float)
    mixed = sa.select(
        sa.type_coerce(number, sa.Float).label("as_float"),
        sa.type_coerce(double, sa.Numeric(asdecimal=True)).label("as_decimal"),
        double.label("double"),
    )
    with SessionWay(db.engine, lambda statement: "as_float" in statement) as calls:
        async with db.writer() as session:
            await _begin(session)
            short = [(await run(session, mixed, {"x": 0.5})).one() for _ in range(2)]
            through_session = (await session.exec(mixed, params={"x": 0.5})).one()
            await session.rollback()
    assert short[0] == short[1] == tuple(through_session) == (0.5, 0.5, 0.5)
    assert [type(value) for value in short[0]] == [type(value) for value in through_session]
    assert len(calls.seen) == (3 if db.is_sqlite else 1)  # on PostgreSQL only the session's own


async def test_a_unique_violation_is_raised_as_the_session_raises_it(db):
    """Callers (idempotent creation, event ingestion) catch SQLAlchemy's IntegrityError and read its SQLSTATE."""
    raised = []
    for way in ("short", "session"):
        with _keys_short_way(db) as calls:
            async with db.writer() as session:
                await _begin(session)
                await run(session, INSERT_KEY, _key_row("twice"))
                with pytest.raises(sa.exc.IntegrityError) as error:
                    if way == "short":
                        await run(session, INSERT_KEY, _key_row("twice"))
                    else:
                        await session.exec(INSERT_KEY, params=_key_row("twice"))
                await session.rollback()
        on_cursor = {("short", False): 0, ("session", False): 1}.get((way, db.is_sqlite), 2)  # SQLite: both
        assert len(calls.seen) == on_cursor
        raised.append(type(error.value.orig))
        if not db.is_sqlite:
            assert error.value.orig.sqlstate == "23505"
    assert raised[0] is raised[1]
    async with db.reader() as session:
        assert (await session.exec(KEY_COUNT, params={"key": "twice"})).one()[0] == 0  # rolled back, both times


@pytest.mark.parametrize("connected_first", [False, True])
async def test_the_first_statement_of_a_transaction_begins_it(db, connected_first):
    """Run first in a session, it must not escape the transaction (asyncpg outside one commits at once), even
    when the session has its connection already (SQLAlchemy sends BEGIN with the first statement, not then)."""
    async with db.writer() as session:
        if connected_first:
            await session.connection()
        await run(session, INSERT_KEY, _key_row("first"))
        await session.rollback()
    async with db.reader() as session:
        assert (await session.exec(KEY_COUNT, params={"key": "first"})).one()[0] == 0


async def test_a_session_s_first_statement_takes_the_short_way_and_sees_what_was_committed(db):
    """A reader's session reads outside a transaction on PostgreSQL (nothing to begin), and a writer's first
    statement is preceded by the BEGIN SQLAlchemy's adapter would send: so each session's first statement goes
    by asyncpg too; each of a reader's statements sees what was committed before it, as through the session."""
    async with db.writer() as session:
        await run(session, INSERT_KEY, _key_row("read-me"))
        await session.commit()
    with _keys_short_way(db) as calls:
        async with db.reader() as reader:
            assert (await run(reader, KEY_COUNT, {"key": "read-me"})).scalar_one() == 1
            async with db.writer() as writer:
                await run(writer, INSERT_KEY, _key_row("read-me-too"))
                assert db.is_sqlite or _in_transaction(writer)
                await writer.commit()
            if not db.is_sqlite:  # SQLite's reader keeps one snapshot until it ends
                assert (await run(reader, KEY_COUNT, {"key": "read-me-too"})).scalar_one() == 1
    expected = ["SELECT", "INSERT"] if db.is_sqlite else []
    assert [statement.split()[0] for statement in calls.seen] == expected


def _in_transaction(session) -> bool:
    """Whether asyncpg's connection under the session is in a transaction (PostgreSQL)."""
    return session.sync_session.connection().connection.driver_connection.is_in_transaction()


async def test_a_connection_lost_before_the_first_statement_fails_as_through_the_session(db):
    """The BEGIN sent before a writer's first statement fails as SQLAlchemy's would: the connection is
    dropped and the error says so (the API answers UNAVAILABLE); nothing was written."""
    if db.is_sqlite:
        pytest.skip("PostgreSQL: SQLite has no server to lose")
    async with db.writer() as session:
        connection = await session.connection()  # checked out (and pinged if idle), nothing sent yet
        lost = connection.sync_connection.connection.driver_connection.get_server_pid()
        async with db.engine.connect() as admin:
            await admin.execute(sa.select(sa.func.pg_terminate_backend(lost, 5000)))
        with pytest.raises(sa.exc.DBAPIError) as error:
            await run(session, INSERT_KEY, _key_row("lost"))
        assert error.value.connection_invalidated
        await session.rollback()
    async with db.reader() as session:
        assert (await session.exec(KEY_COUNT, params={"key": "lost"})).one()[0] == 0


async def test_rows_waiting_in_the_session_are_flushed_first(db):
    """The session flushes what was added before a statement runs; the short way must not read around it."""
    async with db.writer() as session:
        await _begin(session)
        session.add(IdempotencyRecord(**_key_row("pending"), result_id=0))
        assert (await run(session, KEY_COUNT, {"key": "pending"})).scalar_one() == 1
        await session.rollback()


async def test_a_row_changed_in_the_session_is_flushed_first(db):
    """A row the session read and then changed is flushed before the statement runs, as the session would."""
    async with db.writer() as session:
        await run(session, INSERT_KEY, _key_row("changed"))
        record = (
            await session.execute(sa.select(IdempotencyRecord).where(IdempotencyRecord.key == "changed"))
        ).scalar_one()
        record.result_id = 7
        assert (await run(session, KEY_COUNT.where(KEYS.c.result_id == 7), {"key": "changed"})).scalar_one() == 1
        await session.rollback()


async def test_a_row_deleted_in_the_session_is_flushed_first(db):
    """A row the session was told to delete is gone for the statement, as the session would have it."""
    async with db.writer() as session:
        await run(session, INSERT_KEY, _key_row("deleted"))
        record = (
            await session.execute(sa.select(IdempotencyRecord).where(IdempotencyRecord.key == "deleted"))
        ).scalar_one()
        await session.delete(record)
        assert (await run(session, KEY_COUNT, {"key": "deleted"})).scalar_one() == 0
        await session.rollback()


async def test_an_engine_watching_its_statements_sees_every_one(db):
    """A ``before_cursor_execute`` listener (the round-trip tests, a tracer) sends statements the session's way."""
    watched: list[str] = []

    def watch(_connection, _cursor, statement, *_rest) -> None:
        watched.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", watch)
    try:
        with SessionWay(db.engine, lambda statement: "idempotency_record" in statement) as calls:
            async with db.writer() as session:
                await _begin(session)
                await run(session, KEY_COUNT, {"key": "x"})
                await session.rollback()
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", watch)
    assert len([each for each in watched if "idempotency_record" in each]) == 1
    assert len(calls.seen) == 1


async def test_a_list_expanded_when_it_runs_goes_the_session_s_way(db):
    among = sa.select(KEYS.c.key).where(KEYS.c.key.in_(sa.bindparam("keys", expanding=True))).order_by(KEYS.c.key)
    with SessionWay(db.engine, lambda statement: "IN (" in statement) as calls:
        async with db.writer() as session:
            await _begin(session)
            await run_many(session, INSERT_KEY, [_key_row("a"), _key_row("b"), _key_row("c")])
            found = (await run(session, among, {"keys": ["a", "c"]})).all()
            await session.rollback()
    assert [row.key for row in found] == ["a", "c"]
    assert len(calls.seen) == 1


async def _backend_pid(session) -> int:
    return (await session.exec(sa.select(sa.func.pg_backend_pid()))).one()[0]


async def test_a_connection_lost_mid_transaction_is_invalidated_with_the_pool(db):
    """The server ended the connection (a restart, a failover): the error says so, as SQLAlchemy's does (the
    API answers UNAVAILABLE), and the connection is dropped, with every other one pooled before it (the
    server most likely restarted): none of them fails the next request."""
    if db.is_sqlite:
        pytest.skip("PostgreSQL: SQLite has no server to lose")
    async with db.writer() as session:
        await _begin(session)
        lost = await _backend_pid(session)
        async with db.writer() as other:
            pooled_before = await _backend_pid(other)  # given back to the pool, alive
            await other.rollback()
        async with db.engine.connect() as admin:
            await admin.execute(sa.select(sa.func.pg_terminate_backend(lost, 5000)))
        with pytest.raises(sa.exc.DBAPIError) as error:
            await run(session, KEY_COUNT, {"key": "x"})
        assert error.value.connection_invalidated
        await session.rollback()
    every_one_pooled = db.engine.sync_engine.pool.checkedin() + 1
    sessions = [db.writer() for _ in range(every_one_pooled)]
    try:
        pids = {await _backend_pid(await each.__aenter__()) for each in sessions}
    finally:
        for each in sessions:
            await each.__aexit__(None, None, None)
    assert lost not in pids and pooled_before not in pids


@pytest.mark.parametrize("kind", ["reader", "writer"])
async def test_a_session_that_ran_statements_so_is_freed_at_once_not_by_the_garbage_collector(db, kind):
    """What a session keeps of its transaction must not make a cycle: every request's session would then wait
    for the collector's next full pass (on a surge, thousands of them: tens of MB, and the collector's time)."""
    gc.disable()
    try:
        async with getattr(db, kind)() as session:
            await run(session, KEY_COUNT, {"key": "x"})
            await run(session, KEY_COUNT, {"key": "y"})  # the kept connection, asked again
            await session.rollback()
        freed = weakref.ref(session.sync_session)
        del session
        assert freed() is None
    finally:
        gc.enable()


async def test_a_transaction_sqlalchemy_did_not_begin_is_not_written_in(db):
    """asyncpg's connection in a transaction its SQLAlchemy adapter knows nothing of (a BEGIN cut short by a
    cancellation leaves one): SQLAlchemy would never commit it, so the statement is not run in it but left to
    the session, which refuses it; nothing is written."""
    if db.is_sqlite:
        pytest.skip("PostgreSQL: asyncpg's own connection")
    async with db.writer() as session:
        driver = (await session.connection()).sync_connection.connection.driver_connection
        await driver.execute("BEGIN")  # behind the adapter's back
        with pytest.raises(sa.exc.DBAPIError):
            await run(session, INSERT_KEY, _key_row("unknown transaction"))
        await driver.execute("ROLLBACK")
        await session.rollback()
    async with db.reader() as session:
        assert (await session.exec(KEY_COUNT, params={"key": "unknown transaction"})).one()[0] == 0


# --- a reading session's borrowed connection (PostgreSQL) -------------------------------------------------------


def _pool(db):
    return db.engine.sync_engine.pool


@contextmanager
def _one_borrowed(db) -> Iterator[Callable[[], bool]]:
    """Around a reading session: whether one connection more than before is checked out (asked inside), and
    after it, nothing sent through SQLAlchemy's cursor and every connection back in the pool."""
    out_before = _pool(db).checkedout()
    with SessionWay(db.engine) as calls:
        yield lambda: _pool(db).checkedout() == out_before + 1
    assert calls.seen == []
    assert _pool(db).checkedout() == out_before


def _postgres_only(db) -> None:
    if db.is_sqlite:
        pytest.skip("PostgreSQL: SQLite's reader keeps a transaction, and its statements take the session's way")


async def test_a_reading_session_s_statements_run_on_one_borrowed_connection_given_back_when_it_closes(db):
    """No SQLAlchemy Connection nor transaction: the pool's connection itself, one for all its statements."""
    _postgres_only(db)
    with _one_borrowed(db) as one_checked_out:
        async with db.reader() as session:
            assert (await run(session, KEY_COUNT, {"key": "x"})).scalar_one() == 0
            assert (await run(session, KEY_COUNT, {"key": "y"})).scalar_one() == 0
            assert session.sync_session.get_transaction() is None
            assert one_checked_out()


async def test_a_reading_session_gives_its_borrowed_connection_back_before_an_orm_read_takes_one(db):
    """One operation never holds two connections (under a surge that would wait on the pool against itself)."""
    _postgres_only(db)
    out_before = _pool(db).checkedout()
    async with db.reader() as session:
        await run(session, KEY_COUNT, {"key": "x"})
        (await session.exec(sa.select(IdempotencyRecord).where(IdempotencyRecord.key == "x"))).all()
        assert _pool(db).checkedout() == out_before + 1
        assert (await run(session, KEY_COUNT, {"key": "x"})).scalar_one() == 0  # now on the session's own
        assert _pool(db).checkedout() == out_before + 1
    assert _pool(db).checkedout() == out_before


async def test_a_borrowed_connection_whose_statement_was_cancelled_is_not_pooled_again(db):
    """Cancelled mid-statement, its state is unknown: it is thrown away, and the next reader gets a working one."""
    _postgres_only(db)
    async with db.reader() as session:
        slow = asyncio.ensure_future(run(session, sa.select(sa.func.pg_sleep(5))))
        await asyncio.sleep(0.2)
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        cancelled = session.info["irs_prepared_borrowed"].driver
    assert cancelled.is_closed()
    for _ in range(_pool(db).checkedin() + 1):
        async with db.reader() as session:
            assert (await run(session, KEY_COUNT, {"key": "x"})).scalar_one() == 0
            assert session.info["irs_prepared_borrowed"].driver is not cancelled


async def test_an_invalidated_reading_session_discards_its_borrowed_connection(db):
    _postgres_only(db)
    async with db.reader() as session:
        await run(session, KEY_COUNT, {"key": "x"})
        driver = session.info["irs_prepared_borrowed"].driver
        await session.invalidate()
    assert driver.is_closed()


async def test_a_borrowed_connection_lost_fails_as_through_the_session_and_is_replaced(db):
    """The server ended it: UNAVAILABLE's error (connection_invalidated), and no later reader gets it."""
    _postgres_only(db)
    async with db.reader() as session:
        lost = (await run(session, sa.select(sa.func.pg_backend_pid()))).scalar_one()
        async with db.engine.connect() as admin:
            await admin.execute(sa.select(sa.func.pg_terminate_backend(lost, 5000)))
        driver = session.info["irs_prepared_borrowed"].driver
        with pytest.raises(sa.exc.DBAPIError) as error:
            await run(session, KEY_COUNT, {"key": "x"})
        assert error.value.connection_invalidated
        assert "irs_prepared_borrowed" not in session.info and driver.is_closed()
        assert (await run(session, sa.select(sa.func.pg_backend_pid()))).scalar_one() != lost  # a fresh one


async def test_rows_a_reading_session_takes_in_keep_it_on_its_borrowed_connection(db, world):
    """A read's rows are added to the session (customers are confirmed so at every operation), which begins its
    transaction without a connection: the statements after it stay on the borrowed one, nothing checked out
    twice and nothing through SQLAlchemy's cursor."""
    _postgres_only(db)
    manager = world.ids["sh.manager"]
    staff_columns = select_columns(*model_columns(StaffUser)).where(table_of(StaffUser).c.id == sa.bindparam("id"))
    with _one_borrowed(db) as one_checked_out:
        async with db.reader() as session:
            held_by(session, StaffUser, (await run(session, staff_columns, {"id": manager})).one())
            borrowed = session.info["irs_prepared_borrowed"]
            assert (await run(session, KEY_COUNT, {"key": "x"})).scalar_one() == 0
            assert session.info["irs_prepared_borrowed"] is borrowed
            assert one_checked_out()


async def test_a_reading_session_reset_gives_its_borrowed_connection_back(db):
    _postgres_only(db)
    out_before = _pool(db).checkedout()
    async with db.reader() as session:
        await run(session, KEY_COUNT, {"key": "x"})
        await session.reset()
        assert "irs_prepared_borrowed" not in session.info
        assert _pool(db).checkedout() == out_before


# --- a writing session's own transaction: begun by its first short statement, handed to SQLAlchemy if it needs one --


def _own(session):
    return session.info.get("irs_prepared_own")


async def test_a_writer_s_first_short_statement_begins_a_transaction_its_commit_ends(db):
    """No SQLAlchemy Connection: one pooled connection for the transaction, back in the pool once it commits."""
    _postgres_only(db)
    out_before = _pool(db).checkedout()
    with SessionWay(db.engine, lambda statement: "INSERT" in statement) as calls:
        async with db.writer() as session:
            await run(session, INSERT_KEY, _key_row("a"))
            assert _own(session) is not None and not session.sync_session.connected
            assert _pool(db).checkedout() == out_before + 1
            assert await _keys_written(db) == []  # not committed yet: another connection does not see it
            await session.commit()
            assert _own(session) is None and _pool(db).checkedout() == out_before
    assert calls.seen == [] and await _keys_written(db) == ["a"]


@pytest.mark.parametrize("end", ["rollback", "close"])
async def test_a_writer_s_own_transaction_not_committed_writes_nothing_and_gives_its_connection_back(db, end):
    _postgres_only(db)
    out_before = _pool(db).checkedout()
    async with db.writer() as session:
        await run(session, INSERT_KEY, _key_row("a"))
        if end == "rollback":
            await session.rollback()
            assert _own(session) is None and _pool(db).checkedout() == out_before
    assert _pool(db).checkedout() == out_before and await _keys_written(db) == []


@pytest.mark.parametrize("outcome", ["commit", "rollback"])
async def test_rows_written_the_short_way_then_flushed_by_the_session_are_one_transaction(db, outcome):
    """SQLAlchemy is handed the transaction's connection when it needs one (here to flush a row): both rows are
    committed together, or neither is; one connection all along."""
    _postgres_only(db)
    out_before = _pool(db).checkedout()
    async with db.writer() as session:
        await run(session, INSERT_KEY, _key_row("short"))
        session.add(IdempotencyRecord(**_key_row("orm"), result_id=0))
        await session.flush()
        assert _own(session) is None and session.sync_session.connected
        assert _pool(db).checkedout() == out_before + 1
        await run(session, INSERT_KEY, _key_row("short again"))  # on the handed connection, in the transaction
        await (session.commit() if outcome == "commit" else session.rollback())
    assert _pool(db).checkedout() == out_before
    assert await _keys_written(db) == (["orm", "short", "short again"] if outcome == "commit" else [])


async def test_a_savepoint_after_short_statements_is_taken_in_the_same_transaction(db):
    _postgres_only(db)
    async with db.writer() as session:
        await run(session, INSERT_KEY, _key_row("kept"))
        with contextlib.suppress(sa.exc.IntegrityError):
            async with session.begin_nested():
                await run(session, INSERT_KEY, _key_row("undone"))
                await run(session, INSERT_KEY, _key_row("kept"))  # the same key: refused, the savepoint rolled back
        await session.commit()
    assert await _keys_written(db) == ["kept"]


async def test_rows_queued_for_a_commit_not_made_by_a_use_case_are_written_in_the_same_transaction(db):
    """A plain ``session.commit()`` with rows still queued: SQLAlchemy writes them on the transaction's connection,
    so a queued row that fails takes the short way's rows with it."""
    _postgres_only(db)
    async with db.writer() as session:
        await run(session, INSERT_KEY, _key_row("a"))
        insert_at_commit(session, KEYS, [{**_key_row("b"), "result_id": 0}])
        await session.commit()
    assert await _keys_written(db) == ["a", "b"]
    async with db.writer() as session:
        await run(session, INSERT_KEY, _key_row("c"))
        insert_at_commit(session, KEYS, [{**_key_row("a"), "result_id": 0}])  # taken: the commit fails
        with pytest.raises(sa.exc.IntegrityError):
            await session.commit()
        await session.rollback()
    assert await _keys_written(db) == ["a", "b"]


async def test_after_a_commit_the_next_statements_are_a_transaction_of_their_own(db):
    """A second use case in the same session: its writes are one transaction too, not written one by one."""
    _postgres_only(db)
    async with db.writer() as session:
        await run(session, INSERT_KEY, _key_row("first"))
        await session.commit()
        await run(session, INSERT_KEY, _key_row("second"))
        with pytest.raises(sa.exc.IntegrityError):
            await run(session, INSERT_KEY, _key_row("first"))
        await session.rollback()
    assert await _keys_written(db) == ["first"]


async def test_a_writer_s_own_connection_whose_statement_was_cancelled_is_not_pooled_again(db):
    _postgres_only(db)
    async with db.writer() as session:
        await run(session, INSERT_KEY, _key_row("a"))
        slow = asyncio.ensure_future(run(session, sa.select(sa.func.pg_sleep(5))))
        await asyncio.sleep(0.2)
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        cancelled = _own(session).driver
        await session.invalidate()  # what the API does with a session whose statement was cancelled
    assert cancelled.is_closed() and await _keys_written(db) == []
    async with db.writer() as session:
        await run(session, INSERT_KEY, _key_row("b"))
        assert _own(session).driver is not cancelled
        await session.commit()
    assert await _keys_written(db) == ["b"]


async def test_a_writer_s_own_connection_lost_fails_as_through_the_session_and_writes_nothing(db):
    """What it wrote is gone with it: the session refuses to go on (a second transaction would pass for the rest of
    the first) until it is rolled back."""
    _postgres_only(db)
    async with db.writer() as session:
        lost = (await run(session, sa.select(sa.func.pg_backend_pid()))).scalar_one()
        await run(session, INSERT_KEY, _key_row("a"))
        async with db.engine.connect() as admin:
            await admin.execute(sa.select(sa.func.pg_terminate_backend(lost, 5000)))
        with pytest.raises(sa.exc.DBAPIError) as error:
            await run(session, KEY_COUNT, {"key": "a"})
        assert error.value.connection_invalidated and _own(session) is None
        with pytest.raises(sa.exc.PendingRollbackError):
            await run(session, INSERT_KEY, _key_row("b"))
        with pytest.raises(sa.exc.PendingRollbackError):
            await session.commit()
        await session.rollback()
        await run(session, INSERT_KEY, _key_row("c"))  # a transaction of its own, after the rollback
        await session.commit()
    assert await _keys_written(db) == ["c"]


async def test_a_commit_after_a_statement_cut_short_is_refused_and_writes_nothing(db):
    _postgres_only(db)
    out_before = _pool(db).checkedout()
    async with db.writer() as session:
        await run(session, INSERT_KEY, _key_row("a"))
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(run(session, sa.select(sa.func.pg_sleep(5))), 0.2)
        with pytest.raises(sa.exc.PendingRollbackError):
            await run(session, INSERT_KEY, _key_row("b"))
        with pytest.raises(sa.exc.PendingRollbackError):
            await session.commit()
        await session.rollback()
    assert await _keys_written(db) == [] and _pool(db).checkedout() == out_before


async def test_isolation_asked_of_the_session_s_connection_does_not_roll_back_what_it_wrote(db):
    """As for a connection SQLAlchemy holds already: the options are ignored, with SQLAlchemy's warning (setting
    an isolation level on asyncpg's adapter sends a ROLLBACK)."""
    _postgres_only(db)
    async with db.writer() as session:
        await run(session, INSERT_KEY, _key_row("a"))
        with pytest.warns(sa.exc.SAWarning, match="execution_options ignored"):
            await session.connection(execution_options={"isolation_level": "SERIALIZABLE"})
        await run(session, INSERT_KEY, _key_row("b"))
        await session.commit()
    assert await _keys_written(db) == ["a", "b"]


@contextlib.asynccontextmanager
async def _table_checked_at_commit(db, *, slow: bool):
    """A table whose rows are checked at COMMIT: a key taken twice fails it; ``slow``, each row makes it wait 2 s."""
    ddl = ["CREATE TABLE checked_at_commit (id int, CONSTRAINT once UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)"]
    if slow:
        ddl += [
            "CREATE FUNCTION checked_slowly() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN PERFORM pg_sleep(2); RETURN NULL; END $$",
            "CREATE CONSTRAINT TRIGGER slowly AFTER INSERT ON checked_at_commit DEFERRABLE INITIALLY DEFERRED"
            " FOR EACH ROW EXECUTE FUNCTION checked_slowly()",
        ]
    async with db.engine.begin() as connection:
        for statement in ddl:
            await connection.execute(sa.text(statement))
    table = sa.table("checked_at_commit", sa.column("id", sa.Integer))
    try:
        yield table
    finally:
        async with db.engine.begin() as connection:
            await connection.execute(sa.text("DROP TABLE checked_at_commit"))
            await connection.execute(sa.text("DROP FUNCTION IF EXISTS checked_slowly()"))


# A transaction's commit: SQLAlchemy's (in which the own transaction commits first, before_commit), or the one every
# use case ends with (server.prepared.commit: the own transaction's COMMIT, then SQLAlchemy's with nothing to send).
COMMITS = {"session": lambda session: session.commit(), "use case": commit}


@pytest.mark.parametrize("way", COMMITS)
async def test_a_failed_commit_is_raised_and_the_session_refuses_to_go_on_until_rolled_back(db, way):
    _postgres_only(db)
    async with _table_checked_at_commit(db, slow=False) as table:
        committed: list[bool] = []
        async with db.writer() as session:
            sa.event.listen(session.sync_session, "after_commit", lambda _session: committed.append(True))
            await run(session, INSERT_KEY, _key_row("a"))
            await run(session, sa.insert(table), {"id": 1})
            await run(session, sa.insert(table), {"id": 1})
            with pytest.raises(sa.exc.IntegrityError):
                await COMMITS[way](session)
            with pytest.raises(sa.exc.PendingRollbackError):
                await run(session, INSERT_KEY, _key_row("b"))
            await session.rollback()
        assert committed == [] and await _keys_written(db) == []


@pytest.mark.parametrize("way", COMMITS)
async def test_a_commit_cut_short_throws_its_connection_away(db, way):
    _postgres_only(db)
    async with _table_checked_at_commit(db, slow=True) as table:
        out_before = _pool(db).checkedout()
        session = db.writer()
        await run(session, sa.insert(table), {"id": 1})
        driver = _own(session).driver
        committing = asyncio.ensure_future(COMMITS[way](session))
        await asyncio.sleep(0.3)
        committing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await committing
        await session.invalidate()
        assert _pool(db).checkedout() == out_before and driver.is_closed()


async def test_a_use_case_s_transaction_on_its_own_connection_commits_there_and_tells_what_it_wrote(db):
    """A use case that ran only short statements (the booking): committed on its own connection without SQLAlchemy's,
    the session's after-commit hooks run as for any commit (the outbox's messages told to the commit listeners), and
    the session closes holding nothing."""
    _postgres_only(db)
    told: list[list[str]] = []
    db.commit_listeners.append(lambda written: told.append([message.event for message in written]))
    out_before = _pool(db).checkedout()
    with SessionWay(db.engine) as calls:
        session = db.writer()
        async with unit_of_work(session):
            await run(session, INSERT_KEY, _key_row("a"))
            emit(session, "test", "written", {"key": "a"}, datetime.now(UTC))
        assert session.info.get(COMMITTED) and not session.in_transaction()
        assert _own(session) is None and _pool(db).checkedout() == out_before
        await close(session)
    assert calls.seen == []  # SQLAlchemy's Connection ran nothing: no flush, no COMMIT of its own
    assert told == [["written"]] and await _keys_written(db) == ["a"]
    async with db.reader() as reader:
        written = await reader.exec(sa.select(OutboxMessage.event).where(OutboxMessage.topic == "test"))
        assert [event for (event,) in written] == ["written"]


@pytest.mark.parametrize("pending", ["flush", "savepoint"])
async def test_a_use_case_s_commit_with_work_left_for_sqlalchemy_hands_it_the_transaction(db, pending):
    """Rows waiting to be flushed, or a savepoint open: SQLAlchemy commits, on the transaction's one connection."""
    _postgres_only(db)
    session = db.writer()
    async with unit_of_work(session):
        await run(session, INSERT_KEY, _key_row("a"))
        if pending == "flush":
            session.add(IdempotencyRecord(**_key_row("b"), result_id=0))
        else:
            await session.begin_nested()
            await run(session, INSERT_KEY, _key_row("b"))
    assert not session.in_transaction() and _own(session) is None
    await close(session)
    assert await _keys_written(db) == ["a", "b"] and _pool(db).checkedout() == 0


async def test_closing_a_writer_whose_own_transaction_was_not_committed_writes_nothing(db):
    _postgres_only(db)
    session = db.writer()
    await run(session, INSERT_KEY, _key_row("a"))
    await close(session)
    assert _own(session) is None and _pool(db).checkedout() == 0 and await _keys_written(db) == []


@pytest.mark.parametrize("end", [*COMMITS, "rollback"])
async def test_a_connection_the_full_pool_has_no_room_for_is_closed_when_its_transaction_ends(db, end, caplog):
    """One pooled and one of overflow: the second given back finds the pool full, and the pool closes it (a round
    trip: done within a greenlet, or it failed, was only logged, and left the server's backend behind)."""
    _postgres_only(db)
    engine = create_async_engine(db.engine.url, pool_size=1, max_overflow=1)
    writer = async_sessionmaker(engine, class_=AsyncSession, sync_session_class=WritingSession, expire_on_commit=False)
    try:
        first, second = writer(), writer()
        for session, key in ((first, "a"), (second, "b")):
            await run(session, INSERT_KEY, _key_row(key))
        overflow = _own(second).driver
        for session in (first, second):
            await (session.rollback() if end == "rollback" else COMMITS[end](session))
            await close(session)
        assert overflow.is_closed() and engine.pool.checkedout() == 0
        assert not [record for record in caplog.records if record.levelno >= logging.ERROR], caplog.text
        assert await _keys_written(db) == ([] if end == "rollback" else ["a", "b"])
    finally:
        await engine.dispose()


async def test_one_writer_used_by_two_tasks_at_once_is_refused_not_split(db):
    """Misuse, as SQLAlchemy refuses it: the second statement does not begin a transaction of its own beside the
    first's."""
    _postgres_only(db)
    await db.engine.dispose()  # a checkout that connects: the two statements overlap
    async with db.writer() as session:
        results = await asyncio.gather(
            run(session, INSERT_KEY, _key_row("a")), run(session, INSERT_KEY, _key_row("b")), return_exceptions=True
        )
        refused = [each for each in results if isinstance(each, Exception)]
        assert len(refused) == 1 and isinstance(refused[0], sa.exc.InvalidRequestError), results
        await session.commit()
    assert len(await _keys_written(db)) == 1 and _pool(db).checkedout() == 0


# --- pooled_transaction: a transaction of its own, straight on a pooled connection (the outbox relay's) -----------


def _asyncpg_only(db) -> None:
    if db.is_sqlite:
        pytest.skip("PostgreSQL: a pooled transaction runs on asyncpg (on SQLite the relay takes a session)")


async def _keys_written(db) -> list[str]:
    async with db.reader() as session:
        return sorted((await session.exec(sa.select(KEYS.c.key))).scalars().all())


async def test_a_pooled_transaction_commits_when_its_block_ends_and_gives_its_connection_back(db):
    _asyncpg_only(db)
    async with pooled_transaction(db.engine) as transaction:
        assert (await transaction.run(INSERT_KEY, _key_row("a"))).rowcount == 1
        assert (await transaction.run(KEY_COUNT, {"key": "a"})).scalar_one() == 1  # its own write, seen
        assert await _keys_written(db) == []  # not committed yet
    assert await _keys_written(db) == ["a"]
    assert _pool(db).checkedout() == 0


async def test_a_pooled_transaction_whose_block_raises_writes_nothing_and_pools_its_connection_again(db):
    _asyncpg_only(db)
    with pytest.raises(RuntimeError, match="the bus refused"):
        async with pooled_transaction(db.engine) as transaction:
            await transaction.run(INSERT_KEY, _key_row("a"))
            kept = transaction._held.driver
            raise RuntimeError("the bus refused")
    assert await _keys_written(db) == [] and _pool(db).checkedout() == 0
    assert not kept.is_closed() and not kept.is_in_transaction()  # rolled back, and pooled again


async def test_a_failed_statement_in_a_pooled_transaction_is_raised_as_sqlalchemy_raises_it(db):
    _asyncpg_only(db)
    with pytest.raises(sa.exc.IntegrityError) as raised:
        async with pooled_transaction(db.engine) as transaction:
            await transaction.run(INSERT_KEY, _key_row("a"))
            await transaction.run(INSERT_KEY, _key_row("a"))
    assert "duplicate key" in str(raised.value.orig)
    assert await _keys_written(db) == [] and _pool(db).checkedout() == 0


async def test_a_pooled_transaction_cancelled_mid_statement_discards_its_connection(db):
    _asyncpg_only(db)
    held = []

    async def slow() -> None:
        async with pooled_transaction(db.engine) as transaction:
            await transaction.run(INSERT_KEY, _key_row("a"))
            held.append(transaction._held.driver)
            await transaction.run(sa.select(sa.func.pg_sleep(5)), {})

    running = asyncio.ensure_future(slow())
    await asyncio.sleep(0.3)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert held[0].is_closed() and _pool(db).checkedout() == 0
    assert await _keys_written(db) == []  # the server rolled it back with the connection
    async with pooled_transaction(db.engine) as transaction:
        assert transaction._held.driver is not held[0]
        assert (await transaction.run(KEY_COUNT, {"key": "a"})).scalar_one() == 0


async def test_a_pooled_transaction_refuses_what_it_cannot_run_and_holds_no_connection(db):
    """On SQLite it is refused (the relay takes a session there); on PostgreSQL a statement not compiled ahead."""
    with pytest.raises(TypeError, match=r"nothing watching|ahead of time"):
        async with pooled_transaction(db.engine) as transaction:
            await transaction.run(sa.text("SELECT 1"), {})
    assert _pool(db).checkedout() == 0


async def test_a_pooled_transaction_whose_failed_statement_was_caught_does_not_pass_for_committed(db):
    """PostgreSQL answers the COMMIT of an aborted transaction with a ROLLBACK and no error: it is refused here, as a
    session refuses to commit once a statement failed."""
    _asyncpg_only(db)
    with pytest.raises(sa.exc.PendingRollbackError):
        async with pooled_transaction(db.engine) as transaction:
            await transaction.run(INSERT_KEY, _key_row("a"))
            with contextlib.suppress(sa.exc.IntegrityError):
                await transaction.run(INSERT_KEY, _key_row("a"))
    assert await _keys_written(db) == [] and _pool(db).checkedout() == 0
