"""Statements built once and run on a hot path: on PostgreSQL by asyncpg itself, in the session's transaction.

Through ``session.exec`` a statement costs about 145 µs of client CPU: the ORM's execution path,
SQLAlchemy's cache key, execution context and result, and two greenlet hops. asyncpg's own connection
runs the same prepared statement in about 60 µs. A booking runs a dozen statements built once, so
:func:`run` and :func:`run_many` compile each once per set of parameter names and hand asyncpg the SQL
and the values, converted by the statement's own column types (aware UTC datetimes, JSON).

They take the short way only where it cannot change what the statement sees or does, and otherwise run
it through the session exactly as SQLAlchemy would (on SQLite, always):

- PostgreSQL through asyncpg, in the session's transaction: begun here as SQLAlchemy begins it (the session's
  transaction, then the BEGIN its asyncpg adapter sends before the first statement, with the isolation the
  adapter was given), or none for a reader's session, which reads outside a transaction (AUTOCOMMIT); a
  savepoint's SAVEPOINT is sent when the session is first asked for its connection, which this does once
  per transaction; and nothing waiting in the session to be flushed (SQLAlchemy would flush it first);
- a Core statement SQLAlchemy compiles completely ahead of time, whose rows it hands back as they are: no
  list expanded at execution, no Python-side column default or computed value, no ORM entity (selected,
  inserted or updated: the session would build or refresh its objects) (a column converted by the type
  the server names, Float or Numeric, is converted so: the server is asked that type once);
- no engine listener that watches statements (``before_cursor_execute``, echo) and no session listener
  of ORM execution: an instrumented engine sees every statement as before (the round-trip tests count
  them so).

Give it statements built once (module level, or ``functools.cache``): one built per call is compiled
again each time, which costs more than the session's own cache.

An error is raised as SQLAlchemy raises it (``IntegrityError`` with the dialect's DB-API error as
``orig``). A connection lost on the way is invalidated with every connection pooled before it (the server
most likely restarted), so the pool replaces them and the API answers UNAVAILABLE.

:func:`run_writes` writes rows of several tables in one round trip: on PostgreSQL one statement, each table's
INSERT (or UPDATE by key) a data-modifying CTE, of its few rows listed or over arrays of its values
(``server.at_commit``: what a booking writes with its commit). :func:`pooled_transaction` runs statements in a
transaction of their own on a connection taken straight from the pool (the outbox relay's round). A writer's session
(:class:`WritingSession`) whose first statement takes the short way begins its transaction the same way, and hands
that connection, in that transaction, to SQLAlchemy the moment SQLAlchemy needs one.

This leans on things SQLAlchemy 2.1 keeps to itself (pinned below 2.2; the tests fail if they move): the asyncpg
adapter's error translation (``_handle_exception``) and its BEGIN (``_start_transaction``), the pool's generation
mark (``Pool._invalidate``), the session's own test for a flush (``Session._is_clean``), where a session connects
and what its transaction holds (``Session._connection_for_bind``, ``SessionTransaction._connections``), how a
failed checkout is raised (``Connection._handle_dbapi_exception_noconnection``), a TypeDecorator's memoized
``impl_instance``, and, for a writer's own transaction, how a root transaction takes a connection and closes it
(``SessionTransaction._connection_for_bind``, the autoclose flag in its ``_connections``) and how the adapter ends a
transaction (``_call_and_discard``).
"""

from __future__ import annotations

import contextlib
import functools
import operator
import weakref
from collections import namedtuple
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, NoReturn, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.asyncio import AsyncSession as _SQLAlchemySession
from sqlalchemy.orm import QueryableAttribute, SessionTransaction
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql.base import Executable
from sqlalchemy.util import await_only, greenlet_spawn
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

Processor = Callable[[Any], Any] | None


@dataclass(slots=True)
class Ran:
    """What a statement returned: its rows (tuples) and how many rows it changed or returned."""

    rows: Sequence[Any]  # tuples, read by position or by column name, as SQLAlchemy's rows are
    rowcount: int

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)

    def all(self) -> Sequence[Any]:
        return self.rows

    def first(self) -> Any:
        return self.rows[0] if self.rows else None

    def one(self) -> Any:
        if len(self.rows) != 1:
            raise sa.exc.NoResultFound("expected one row") if not self.rows else sa.exc.MultipleResultsFound()
        return self.rows[0]

    def scalar_one(self) -> Any:
        return self.one()[0]

    def scalar_one_or_none(self) -> Any:
        if len(self.rows) > 1:
            raise sa.exc.MultipleResultsFound()
        return self.rows[0][0] if self.rows else None


@dataclass
class _Compiled:
    """A statement compiled for asyncpg: its SQL and how to turn named parameters into positional values."""

    sql: str
    names: tuple[str, ...]
    processors: tuple[Processor, ...]
    defaults: Mapping[str, Any]  # values built into the statement (``.values(result_id=0)``)
    result_types: tuple[sa.types.TypeEngine[Any], ...]  # each column's, as the dialect implements it
    results: tuple[Processor, ...] | None  # None until the server has named the types of its columns
    make_row: Callable[[Iterable[Any]], tuple[Any, ...]]  # rows read by position or by column name
    fetches: bool  # its SQL returns rows: a SELECT, a RETURNING asked for, or the key SQLAlchemy adds itself
    returns_rows: bool  # the caller is given them (SQLAlchemy keeps a key it added to itself)
    # The results' processors by position, worked out at the first row (once the results are known).
    _converted: tuple[tuple[int, Callable[[Any], Any]], ...] | None = field(default=None, init=False, repr=False)
    _processed: tuple[tuple[int, Callable[[Any], Any]], ...] = field(init=False, repr=False)  # the values' by position
    _given: Callable[[Mapping[str, Any]], Any] = field(init=False, repr=False)  # every value, when all are given

    def __post_init__(self) -> None:
        self._processed = tuple((n, process) for n, process in enumerate(self.processors) if process is not None)
        names = self.names
        self._given = operator.itemgetter(*names) if len(names) > 1 else lambda params: tuple(params[n] for n in names)

    def values(self, params: Mapping[str, Any]) -> list[Any]:
        """Positional values, each converted by its type as SQLAlchemy does (None too: JSON makes it 'null')."""
        if self.defaults:  # some may be left to the values built into the statement
            values = [params[name] if name in params else self.defaults[name] for name in self.names]
        else:
            values = list(self._given(params))
        for position, process in self._processed:
            values[position] = process(values[position])
        return values

    def row(self, record: Sequence[Any]) -> tuple[Any, ...]:
        """The record's row, each column converted by its type; most need nothing, and a row none of whose
        columns do is made straight from the record."""
        converted = self._converted
        if converted is None:
            assert self.results is not None
            converted = self._converted = tuple((n, process) for n, process in enumerate(self.results) if process)
        if not converted:
            return self.make_row(record)
        values = list(record)
        for position, process in converted:
            values[position] = process(values[position])
        return self.make_row(values)

    async def learn_result_types(self, driver: Any, dialect: Dialect) -> None:
        """Some types (Float, Numeric) convert by the type the server names for a column, as SQLAlchemy does
        from the cursor's description: asked once, of the statement prepared by the server."""
        attributes = (await driver.prepare(self.sql)).get_attributes()
        self.results = tuple(
            type_.result_processor(dialect, attribute.type.oid)
            for type_, attribute in zip(self.result_types, attributes, strict=True)
        )


# Per statement (held weakly: a statement built per call is forgotten with it), per parameter names.
_COMPILED: weakref.WeakKeyDictionary[Executable, dict[tuple[str, ...], _Compiled | None]] = weakref.WeakKeyDictionary()
# session.info: the _Held of the session's transaction
_CONNECTION = "irs_prepared_connection"
QUEUED_AT_COMMIT = "irs_at_commit"  # session.info: rows server.at_commit writes with the commit (its key, here)


def any_of(column, name: str, dialect: str):
    """``column`` among the values bound to ``name`` when the statement runs (``params={name: [...]}``): for
    statements built once and run many times (``common.dialect.is_in`` builds its values into the statement). On
    PostgreSQL ``= ANY(:name)``, one array; elsewhere an expanding ``IN``."""
    if dialect == "postgresql":
        return column == sa.any_(sa.bindparam(name, type_=postgresql.ARRAY(column.type, dimensions=1)))
    return column.in_(sa.bindparam(name, expanding=True))


async def run(session: AsyncSession, statement: Executable, params: Mapping[str, Any] | None = None) -> Ran:
    """``statement`` run once with ``params``, in the session's transaction."""
    params = params or {}
    fast = await _fast_way(session, statement, params, many=False)
    if fast is None:
        return _ran(statement, await _SQLAlchemySession.execute(session, statement, params))
    held, compiled = fast
    return await _run_on(held, compiled, params, session)


async def flush_pending(session: AsyncSession) -> None:
    """Flush what waits in the session, as ``session.flush()`` does; a session with nothing to flush (a booking's
    holds only the clean rows it read) costs no greenlet hop."""
    if not session.sync_session._is_clean():
        await session.flush()


async def _run_on(held: _Held, compiled: _Compiled, params: Mapping[str, Any], session: AsyncSession | None) -> Ran:
    """The compiled statement run by asyncpg on the held connection; an error raised as SQLAlchemy raises it."""
    driver = held.driver
    values: Any = params
    try:
        values = compiled.values(params)
        held.busy = True
        if not compiled.fetches:
            status = await driver.execute(compiled.sql, *values)
            held.busy = False
            return Ran((), _rowcount(status))
        if compiled.results is None:
            await compiled.learn_result_types(driver, held.engine.dialect)
        records = await driver.fetch(compiled.sql, *values)
        held.busy = False
        rows = [compiled.row(record) for record in records] if compiled.returns_rows else ()
        return Ran(rows, len(records))
    except Exception as error:
        held.busy = False  # answered, with an error (a cancellation is not an Exception: it stays busy)
        await _raise_as_sqlalchemy(session, held, compiled.sql, values, error)


async def run_many(session: AsyncSession, statement: Executable, rows: Sequence[Mapping[str, Any]]) -> None:
    """``statement`` run once per row (each a mapping with the same names), in one round trip."""
    if not rows:
        return
    fast = await _fast_way(session, statement, rows[0], many=True)
    if fast is None:
        await _SQLAlchemySession.execute(session, statement, list(rows))
        return
    held, compiled = fast
    values: Any = rows
    try:
        values = [compiled.values(row) for row in rows]
        held.busy = True
        await held.driver.executemany(compiled.sql, values)
        held.busy = False
    except Exception as error:
        held.busy = False
        await _raise_as_sqlalchemy(session, held, compiled.sql, values, error)


Batch = tuple[sa.Table, Sequence[Mapping[str, Any]]]  # rows of a table, each with the same names


async def run_inserts(session: AsyncSession, *batches: Batch) -> None:
    """Rows of several tables (each batch's rows with the same names), in the session's transaction, in one round
    trip on PostgreSQL: one statement, each table's INSERT a data-modifying CTE (its rows listed, or over arrays of
    its values when there are more than ``LISTED_ROWS``).
    Elsewhere (SQLite, in process) one :func:`run_many` per table. Give every column that has a Python-side
    default (refused otherwise)."""
    await run_writes(session, inserts=batches)


async def run_writes(session: AsyncSession, inserts: Sequence[Batch] = (), updates: Sequence[Batch] = ()) -> None:
    """:func:`run_inserts`, with rows updated by primary key in the same statement (each row its key and the
    columns to set; an UPDATE … FROM arrays of them on PostgreSQL, :func:`run_many` elsewhere). Update rows written
    before: on PostgreSQL an UPDATE does not see the rows the same statement inserts."""
    inserts = tuple((table, rows) for table, rows in inserts if rows)
    updates = tuple((table, rows) for table, rows in updates if rows)
    if not inserts and not updates:
        return
    for table, rows in inserts:
        check_defaults_given(table, tuple(rows[0]))
    engine = session.sync_session.bind
    if engine is None or engine.dialect.name != "postgresql":
        for table, rows in inserts:
            await run_many(session, _insert_into(table), rows)
        for table, rows in updates:
            await run_many(session, update_by_key(table), [keyed(table, row) for row in rows])
        return
    listed = [_listed(rows) for _table, rows in inserts]
    values: dict[str, Any] = {}
    for n, ((_table, rows), count) in enumerate(zip(inserts, listed, strict=True)):
        values.update(_insert_values(f"{n}_", rows, count))
    for n, (_table, rows) in enumerate(updates, len(inserts)):
        one = len(rows) == 1
        values.update({f"{n}_{name}": rows[0][name] if one else [row[name] for row in rows] for name in rows[0]})
    shape = (
        tuple((table, tuple(rows[0]), count) for (table, rows), count in zip(inserts, listed, strict=True)),
        tuple((table, tuple(rows[0]), len(rows) == 1) for table, rows in updates),
    )
    await run(session, _writes_together(*shape), values)


# Up to this many rows of a table are listed in the statement (``VALUES (:0_0_a, …), (:0_1_a, …)``), more go as
# arrays: asyncpg checks every element of an array, one by one, for being an array itself (two isinstance tests
# against collections.abc each), which cost a booking's few dozen values more than the rest of their encoding.
LISTED_ROWS = 8


def _listed(rows: Sequence[Mapping[str, Any]]) -> int | None:
    """How many rows the statement lists, or None: they go as arrays."""
    return len(rows) if len(rows) <= LISTED_ROWS else None


def _insert_values(prefix: str, rows: Sequence[Mapping[str, Any]], listed: int | None) -> dict[str, Any]:
    """The parameters of one table's rows: ``<prefix><row>_<name>`` each when they are listed, or ``<prefix><name>``
    an array of each column's values."""
    names = tuple(rows[0])
    if listed is None:
        return {f"{prefix}{name}": [row[name] for row in rows] for name in names}
    return dict(zip(_listed_names(prefix, listed, names), [row[name] for row in rows for name in names], strict=True))


@functools.lru_cache(maxsize=1024)
def _listed_names(prefix: str, count: int, names: tuple[str, ...]) -> tuple[str, ...]:
    """The parameters' names of ``count`` rows listed, row after row (named once, not at every commit): the
    statement's and its values'."""
    return tuple(f"{prefix}{n}_{name}" for n in range(count) for name in names)


@functools.cache
def update_by_key(table: sa.Table) -> sa.Update:
    """``UPDATE table SET … WHERE <key> = :key_<key>``, the columns set being those of the rows given (run once per
    row with :func:`keyed` rows, SQLAlchemy's executemany)."""
    return sa.update(table).where(*(column == sa.bindparam(f"key_{column.name}") for column in table.primary_key))


def keyed(table: sa.Table, row: Mapping[str, Any]) -> dict[str, Any]:
    """A row for :func:`update_by_key`: its key under ``key_<name>``, the rest as given."""
    key = {column.name for column in table.primary_key}
    return {(f"key_{name}" if name in key else name): value for name, value in row.items()}


@functools.cache
def check_defaults_given(table: sa.Table, names: tuple[str, ...]) -> None:
    """A column with a Python-side default must be given: a CTE's INSERT over arrays would not compute it per row
    (refused on every database alike, so a test on SQLite finds it too). Cached per table and names."""
    defaulted = [column.name for column in table.c if column.default is not None and column.name not in names]
    if defaulted:
        raise TypeError(f"rows of {table.name} written together: give {defaulted} (their defaults are not computed)")


@functools.cache
def _insert_into(table: sa.Table) -> sa.Insert:
    return sa.insert(table)


@functools.lru_cache(maxsize=256)
def _writes_together(
    inserts: tuple[tuple[sa.Table, tuple[str, ...], int | None], ...],
    updates: tuple[tuple[sa.Table, tuple[str, ...], bool], ...] = (),
) -> sa.Insert | sa.Update:
    """``WITH t0 AS (INSERT … SELECT * FROM unnest(:0_a, :0_b…)), … UPDATE … FROM unnest(…) WHERE <key>``; a table's
    few rows (their count beside its names) are listed, ``INSERT … VALUES (:0_0_a, :0_0_b…), (:0_1_a…)``; an update
    of one row (``True`` beside its names) is ``UPDATE … WHERE <key> = :<n>_<key>``. PostgreSQL plans the statement
    once for any values (a generic plan): for a join with arrays of unknown length it may pick a sequential scan
    of the table, which a single key never gets."""
    writes: list[sa.Insert | sa.Update] = [
        _insert_from_arrays(table, names, f"{n}_") if listed is None else _insert_listed(table, names, listed, f"{n}_")
        for n, (table, names, listed) in enumerate(inserts)
    ]
    writes += [
        _update_one(table, names, f"{n}_") if one else _update_from_arrays(table, names, f"{n}_")
        for n, (table, names, one) in enumerate(updates, len(inserts))
    ]
    *earlier, last = writes
    return last.add_cte(*(each.cte(f"t{n}") for n, each in enumerate(earlier)))


def _arrays(table: sa.Table, names: tuple[str, ...], prefix: str) -> Any:
    """``unnest(:<prefix>a, :<prefix>b…) AS (a, b…)``: one row per element."""
    arrays = [
        sa.bindparam(f"{prefix}{name}", type_=postgresql.ARRAY(_element_type(table.c[name]), dimensions=1))
        for name in names
    ]
    return sa.func.unnest(*arrays).table_valued(*names).render_derived()


def _insert_from_arrays(table: sa.Table, names: tuple[str, ...], prefix: str) -> sa.Insert:
    rows = _arrays(table, names, prefix)
    select = sa.select(*(rows.c[name] for name in names))
    return sa.insert(table).from_select(list(names), select, include_defaults=False)


def _insert_listed(table: sa.Table, names: tuple[str, ...], count: int, prefix: str) -> sa.Insert:
    keys = iter(_listed_names(prefix, count, names))  # row after row, in the order of ``names``
    rows = [{name: sa.bindparam(next(keys), type_=table.c[name].type) for name in names} for _ in range(count)]
    return sa.insert(table).values(rows)


def _update_from_arrays(table: sa.Table, names: tuple[str, ...], prefix: str) -> sa.Update:
    rows = _arrays(table, names, prefix)
    key = [column.name for column in table.primary_key]
    return (
        sa.update(table)
        .where(*(table.c[name] == rows.c[name] for name in key))
        .values({name: rows.c[name] for name in names if name not in key})
    )


def _update_one(table: sa.Table, names: tuple[str, ...], prefix: str) -> sa.Update:
    key = [column.name for column in table.primary_key]
    return (
        sa.update(table)
        .where(*(table.c[name] == sa.bindparam(f"{prefix}{name}") for name in key))
        .values({name: sa.bindparam(f"{prefix}{name}", type_=table.c[name].type) for name in names if name not in key})
    )


def _element_type(column: sa.Column[Any]) -> sa.types.TypeEngine[Any]:
    """The column's type for an array of its values, without a length: ``$1::VARCHAR(100)[]`` would be an explicit
    cast, which cuts a longer text short where the column refuses it (SQLModel's strings are decorated VARCHARs)."""
    type_ = column.type
    text = type_.impl if isinstance(type_, sa.TypeDecorator) else type_
    if not isinstance(text, sa.String) or text.length is None:
        return type_
    unbounded = text.copy()
    unbounded.length = None
    if text is type_:
        return unbounded
    decorated: Any = type_.copy()
    decorated.impl = unbounded
    decorated.__dict__.pop("impl_instance", None)  # memoized from ``impl`` once used: take the new one
    return decorated


def _ran(statement: Executable, result: Any) -> Ran:
    if isinstance(statement, (sa.Select, sa.CompoundSelect)):
        rows = result.all()
        return Ran(rows, len(rows))
    # A DML's count, not its rows': SQLAlchemy keeps an implicitly returned key to itself.
    return Ran(result.all() if result.returns_rows else (), result.rowcount)


def _rowcount(status: str | None) -> int:
    """The count in asyncpg's command tag ("INSERT 0 1", "UPDATE 3"), or -1 for a command without one."""
    count = (status or "").rpartition(" ")[2]
    return int(count) if count.isdigit() else -1


@dataclass(slots=True, eq=False)
class _Held:
    """A connection a session's statements run on here: its transaction's (SQLAlchemy's ``Connection``, kept while
    that transaction lasts), or one a reading session borrowed from the pool for itself (``connection`` None)."""

    engine: Engine
    fairy: Any  # the pool's proxy of the DB-API connection
    driver: Any  # asyncpg's own connection
    connection: Connection | None = None
    # Its transaction, weakly: the transaction refers to the session, which keeps this in its info, and a
    # cycle would keep every session until the garbage collector's next full pass.
    transaction: weakref.ReferenceType[Any] | None = None
    busy: bool = False  # a statement sent and not answered (cancelled): its connection's state is unknown

    @property
    def adapter(self) -> Any:
        """SQLAlchemy's adapter of asyncpg's connection."""
        return self.fairy.dbapi_connection


async def _fast_way(
    session: AsyncSession, statement: Executable, params: Mapping[str, Any], *, many: bool
) -> tuple[_Held, _Compiled] | None:
    """The session's connection and the statement compiled for asyncpg, or None: run it through the session."""
    sync = session.sync_session
    engine = sync.bind  # the sessions here have one engine (no per-table binds)
    if not isinstance(engine, Engine) or not _unwatched_asyncpg(engine):
        return None
    # The test SQLAlchemy's own autoflush makes: nothing new, deleted or changed is waiting to be flushed.
    if not sync._is_clean() or sync.dispatch.do_orm_execute:
        return None
    compiled = _compiled(statement, engine.dialect, tuple(params), many)
    if compiled is None:
        return None
    held = await _connection(session, engine)
    if held is None:
        return None
    if held.connection is None:
        return held, compiled  # borrowed by a reading session: it reads outside a transaction
    adapter = held.adapter
    if not (adapter.autocommit or _known_transaction(held) or await _begun(held)):
        return None
    return held, compiled


def _unwatched_asyncpg(engine: Engine) -> bool:
    return engine.dialect.driver == "asyncpg" and not (engine.echo or engine.dispatch.before_cursor_execute)


def _known_transaction(held: _Held) -> bool:
    """Whether the connection is in the transaction SQLAlchemy's adapter began (and will end): one the adapter
    does not know of (a BEGIN cut short by a cancellation, say) is not run in, but left to the session."""
    return held.driver.is_in_transaction() and getattr(held.adapter, "_transaction", None) is not None


async def _begun(held: _Held) -> bool:
    """Send the BEGIN SQLAlchemy's adapter sends before its first statement (with the isolation it was
    given), as the adapter sends it; False (the statement goes SQLAlchemy's way, which sends it) if the
    adapter no longer begins so or has begun already."""
    adapter = held.adapter
    start = getattr(adapter, "_start_transaction", None)
    if start is None or getattr(adapter, "_transaction", True) is not None or held.driver.is_in_transaction():
        return False
    try:
        await start()
    except Exception as error:
        await _raise_as_sqlalchemy(None, held, "BEGIN", (), error)
    return adapter._transaction is not None


def _still_of(held: _Held, transaction: Any) -> bool:
    """Whether ``held`` is the transaction's connection, still usable."""
    connection = held.connection
    if held.transaction is None or held.transaction() is not transaction or connection is None:
        return False
    return not (connection.invalidated or connection.closed)


def _row_maker(names: list[str]) -> Callable[[Iterable[Any]], tuple[Any, ...]]:
    """Rows read by position or by column name, as SQLAlchemy's are (a name that is not a valid field
    name becomes _N)."""
    return namedtuple("Row", names, rename=True)._make  # type: ignore[attr-defined]


async def _connection(session: AsyncSession, engine: Engine) -> _Held | None:
    """The connection the session's statement runs on: its innermost transaction's, kept in ``session.info`` while
    that transaction lasts (asking the session costs a greenlet hop each time; and asking once per transaction
    matters: a savepoint's SAVEPOINT is sent when the session is first asked for its connection). A session not
    begun yet is begun here, as its first statement would begin it: that sends nothing (the asyncpg adapter sends
    BEGIN before its first statement; see :func:`_begun`). A reading session not begun borrows one instead."""
    sync = session.sync_session
    transaction = sync.get_nested_transaction() or sync.get_transaction()
    if isinstance(sync, ReadingSession) and not sync.connected and _reads_outside_transactions(engine):
        return session.info.get(_BORROWED) or await _borrow(session, engine)
    if isinstance(sync, WritingSession) and not sync.connected and not sync.in_nested_transaction():
        if transaction is not None and not transaction.is_active:
            return None  # failed: SQLAlchemy says why it cannot go on
        return _own_of(session.info) or await _begin_own(session, engine)
    if transaction is not None:
        if not transaction.is_active:
            return None  # failed: SQLAlchemy says why it cannot go on
        kept: _Held | None = session.info.get(_CONNECTION)
        if kept is not None and _still_of(kept, transaction):
            return kept
    connection = cast(Connection, (await session.connection()).sync_connection)
    fairy = connection.connection
    held = _Held(
        engine,
        fairy,
        fairy.driver_connection,
        connection=connection,
        transaction=weakref.ref(sync.get_nested_transaction() or sync.get_transaction()),
    )
    session.info[_CONNECTION] = held
    return held


# --- a reading session's own connection -------------------------------------------------------------------------


class _HoldsPooledConnection(Session):
    """A session that may hold a connection straight from the pool in its info (under ``_holds``): given back when
    the session closes or resets, thrown away when it is invalidated."""

    _holds: str  # the session.info key of that connection

    @property
    def connected(self) -> bool:
        """Whether SQLAlchemy's own transaction has its connection (rows added to the session, as a read's are,
        begin a transaction without one)."""
        transaction = self.get_transaction()
        return transaction is not None and bool(transaction._connections)

    def close(self) -> None:
        try:
            _give_back(self.info, self._holds)
        finally:
            super().close()

    def reset(self) -> None:
        try:
            _give_back(self.info, self._holds)
        finally:
            super().reset()

    def invalidate(self) -> None:
        try:
            _give_back(self.info, self._holds, discard=True)
        finally:
            super().invalidate()


class ReadingSession(_HoldsPooledConnection):
    """A reader's session (``Database.reader``; AUTOCOMMIT on PostgreSQL): the statements run here, until the
    session connects for an ORM statement of its own, run on a connection it borrows straight from the pool.

    SQLAlchemy's own way to a connection (its ``Connection``, the session's transaction, switching the pooled
    connection to AUTOCOMMIT and back) costs about 85 µs of CPU per operation, a tenth of a ``me``; the pool's
    checkout alone about 18. The connection is given back when the session closes, resets or is invalidated,
    and just before the session connects itself: a session never holds two."""

    _holds = "irs_prepared_borrowed"

    def _connection_for_bind(self, engine: Any, execution_options: Any = None, **kw: Any) -> Connection:
        _give_back(self.info, _BORROWED)  # an ORM statement (or session.connection()) is about to check one out
        return super()._connection_for_bind(engine, execution_options, **kw)


@sa.event.listens_for(ReadingSession, "after_begin")
def _connected_another_way(session: Session, _transaction: Any, _connection: Any) -> None:
    """A flush connects without :meth:`ReadingSession._connection_for_bind` (readers do not flush)."""
    _give_back(session.info, _BORROWED)


_BORROWED = ReadingSession._holds  # session.info: the _Held a reading session borrowed from the pool
_BORROW_ATTEMPTS = 3


def _reads_outside_transactions(engine: Engine) -> bool:
    return engine.get_execution_options().get("isolation_level") == "AUTOCOMMIT"


async def _borrow(session: AsyncSession, engine: Engine) -> _Held:
    """A pooled connection for the reading session (:func:`_checkout`), kept in its info until given back."""
    held = session.info[_BORROWED] = await _checkout(engine)
    return held


async def _checkout(engine: Engine) -> _Held:
    """A pooled connection: the pool's checkout (its events, the ping of an idle one), without SQLAlchemy's
    ``Connection``. A failure is raised as ``engine.connect()`` raises it. One left in a transaction its adapter
    knows nothing of (a BEGIN cut short) is thrown away: a reader would read inside it."""
    for _attempt in range(_BORROW_ATTEMPTS):
        try:
            fairy = await greenlet_spawn(engine.raw_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            await greenlet_spawn(Connection._handle_dbapi_exception_noconnection, error, engine.dialect, engine)
            raise
        driver = fairy.driver_connection
        if driver is not None and not driver.is_in_transaction():
            return _Held(engine, fairy, driver)
        await greenlet_spawn(fairy.invalidate)
    raise sa.exc.InvalidatePoolError(f"{_BORROW_ATTEMPTS} pooled connections in turn were inside a transaction")


def _give_back(info: dict[Any, Any], key: str, *, discard: bool = False) -> None:
    """Return the session's connection held under ``key`` to the pool (:func:`_return`); what it did not commit is
    rolled back there."""
    held = info.pop(key, None)
    if isinstance(held, _Held):  # not the placeholder of one being checked out
        _return(held, discard=discard)


def _return(held: _Held, *, discard: bool = False) -> None:
    """Return a connection checked out here to the pool (no transaction to roll back: nothing is sent); one whose
    statement was cut short (a cancellation) or that is to be discarded is invalidated instead, its state
    unknown (SQLAlchemy closes it, within a greenlet with a graceful close of at most 2 s, else terminates it)."""
    if held.fairy.dbapi_connection is None:
        return
    if discard or held.busy:
        held.fairy.invalidate()  # gives it back, to be replaced
    else:
        held.fairy.close()


# --- a writing session's own transaction --------------------------------------------------------------------------


class WritingSession(_HoldsPooledConnection):
    """A writer's session (``Database.writer``): when its transaction's first statement goes the short way, the
    transaction is begun here, on a connection checked out straight from the pool, and committed here.

    SQLAlchemy's own way (its ``Connection`` and ``Transaction``, the pool's checkout and return through them, the
    greenlet hops) cost about 150 µs of CPU per transaction, on top of the round trips: a booking's is one. The
    moment SQLAlchemy needs a connection itself (an ORM statement, a flush, a savepoint, ``session.connection()``)
    it is handed this one, in this transaction, and from then on commits or rolls it back as its own: everything a
    transaction writes, either way, is written on one connection in one transaction. At the commit, with nothing
    left for SQLAlchemy to write (no flush pending, no row queued for the commit), the transaction is committed here,
    before SQLAlchemy's own commit (which then has no connection to commit) and its after-commit hooks; a rollback
    rolls it back; closing the session gives the connection back (the pool rolls back what was not committed)."""

    _holds = "irs_prepared_own"


_OWN = WritingSession._holds  # session.info: the _Held a writing session began its transaction on
_HOLDS = (ReadingSession._holds, WritingSession._holds)
_BEGINNING = "beginning"  # session.info[_OWN] while its connection is checked out and its BEGIN sent
# session.info: its own transaction failed (its connection lost, its COMMIT failed or cut short): refused until the
# session rolls back, as SQLAlchemy refuses a transaction whose connection was invalidated.
_OWN_FAILED = "irs_prepared_own_failed"


def _own_of(info: dict[Any, Any]) -> _Held | None:
    """The writing session's own connection, if it has one; refused while it is being begun, and once its
    transaction failed or a statement of it was cut short (until the session rolls back)."""
    if info.get(_OWN_FAILED):
        raise sa.exc.PendingRollbackError(
            "This transaction's connection failed or was cut short; roll the session back before going on"
        )
    own = info.get(_OWN)
    if own is _BEGINNING:
        raise sa.exc.InvalidRequestError(
            "This session is provisioning a new connection; concurrent operations are not permitted"
        )
    if own is not None and own.busy:
        raise sa.exc.PendingRollbackError("A statement of this transaction was cut short; roll the session back")
    return own


async def _begin_own(session: AsyncSession, engine: Engine) -> _Held:
    """A pooled connection for the writing session, its transaction begun as SQLAlchemy's adapter begins it (so that
    the adapter, handed the connection later, knows it is in one). A BEGIN that fails or is cut short leaves the
    session without one, and the connection is thrown away."""
    info = session.info
    info[_OWN] = _BEGINNING
    try:
        held = await _checkout(engine)
    except BaseException:
        info.pop(_OWN, None)
        raise
    if info.get(_OWN) is not _BEGINNING:  # closed meanwhile (used from two tasks at once)
        await greenlet_spawn(_return, held)
        raise sa.exc.InvalidRequestError("This session was closed while it provisioned a connection")
    info[_OWN] = held
    held.busy = True
    try:
        if not await _begun(held):
            raise sa.exc.InvalidRequestError(
                "the asyncpg adapter no longer begins transactions as server.prepared does"
            )
    except BaseException:
        info.pop(_OWN, None)
        await greenlet_spawn(_return, held, discard=True)
        raise
    held.busy = False
    if session.sync_session.get_transaction() is None:
        session.sync_session.begin()  # as a statement would: its commit and rollback are the session's to call
    return held


@sa.event.listens_for(WritingSession, "after_transaction_create")
def _hand_own_when_asked(session: Session, transaction: SessionTransaction) -> None:
    """SQLAlchemy asks its transaction for a connection (a statement of its own, a flush, a savepoint's SAVEPOINT):
    the root transaction's answer is the session's own connection, while it has one."""
    if transaction.parent is None:
        transaction._connection_for_bind = functools.partial(_connection_for_root, session)  # type: ignore[method-assign]


@sa.event.listens_for(WritingSession, "after_transaction_end")
def _forget_failure(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_OWN_FAILED, None)


def _connection_for_root(session: Session, bind: Any, execution_options: Any) -> Connection:
    root = session.get_transaction()
    assert root is not None
    own = _own_of(session.info)
    if own is None or bind is not own.engine or own.fairy.dbapi_connection is None:
        return SessionTransaction._connection_for_bind(root, bind, execution_options)
    if execution_options:  # as for a connection SQLAlchemy holds already: an isolation level would roll back
        sa.util.warn("Connection is already established for the given bind; execution_options ignored")
    session.info.pop(_OWN)
    handed = Connection(own.engine, connection=own.fairy)
    connection = SessionTransaction._connection_for_bind(root, handed, None)
    # SQLAlchemy closes a connection it was given as a Connection only if it checked it out itself: this one is the
    # session's to give back all the same, as if it had.
    for key in (handed, handed.engine):
        kept, begun, should_commit, _autoclose = root._connections[key]
        root._connections[key] = (kept, begun, should_commit, True)
    return connection


@sa.event.listens_for(WritingSession, "before_commit")
def _commit_own(session: WritingSession) -> None:
    """The transaction's commit: its own, committed here if nothing is left for SQLAlchemy to write, else handed to
    SQLAlchemy (which flushes and writes the queued rows on it, then commits it)."""
    if session.in_nested_transaction():
        return
    held = _own_of(session.info)
    if held is None:
        return
    if not session._is_clean() or session.info.get(QUEUED_AT_COMMIT):
        session.connection()  # handed over (see _connection_for_root)
        return
    _end_own(session, held, commit=True)


@sa.event.listens_for(WritingSession, "after_rollback")
def _roll_back_own(session: WritingSession) -> None:
    held = session.info.get(_OWN)
    if isinstance(held, _Held) and not session.in_nested_transaction():
        _end_own(session, held, commit=False)


def _end_own(session: Session, held: _Held, *, commit: bool) -> None:
    """:func:`_finish_own`, within SQLAlchemy's greenlet (as its adapter ends a transaction)."""
    if await_only(_finish_own(session.info, held, commit=commit)):
        _return(held)  # here, in the greenlet: a pool that is full closes it, which sends a Terminate


async def _finish_own(info: dict[Any, Any], held: _Held, *, commit: bool) -> bool:
    """COMMIT or ROLLBACK the session's own transaction; True if the connection is the caller's to give back (within
    a greenlet). A statement cut short (its state unknown), or a COMMIT that fails or is cut short, throws the
    connection away (given back here); a COMMIT so is raised (as SQLAlchemy raises it) and the session refuses to go
    on until it is rolled back."""
    info.pop(_OWN, None)
    adapter = held.adapter
    if held.busy or adapter._transaction is None:  # a rollback after a statement cut short (a commit refuses it)
        await greenlet_spawn(_return, held, discard=held.busy)
        return False
    try:
        await adapter._call_and_discard(adapter._transaction.commit if commit else adapter._transaction.rollback)
    except BaseException as error:
        if commit:
            info[_OWN_FAILED] = True
        try:
            if isinstance(error, Exception):
                await _raise_as_sqlalchemy(None, held, "COMMIT" if commit else "ROLLBACK", (), error)
            raise
        finally:
            await greenlet_spawn(_return, held, discard=True)
    return True


async def commit(session: AsyncSession) -> None:
    """Commit the session's transaction, as ``session.commit()`` does. A writer's that only ever ran on its own
    connection (nothing left to flush or write at the commit, no savepoint open) is committed here, and then
    SQLAlchemy's commit (its state, its hooks), which has nothing to send, runs without a greenlet (about 15 k
    instructions a transaction less)."""
    sync = session.sync_session
    held = session.info.get(_OWN)
    if not (isinstance(held, _Held) and _only_own_left(sync, held)):
        await session.commit()
        return
    if await _finish_own(session.info, held, commit=True):
        if _pooled_again(held):
            _return(held)  # sends nothing: the transaction is over, and the pool keeps it
        else:
            await greenlet_spawn(_return, held)  # the pool is full: it closes the connection, a round trip
    sync.commit()


def _pooled_again(held: _Held) -> bool:
    """Whether the pool takes the connection back into its queue (it closes one it has no room for)."""
    pool = held.engine.pool
    return isinstance(pool, QueuePool) and pool.checkedin() < pool.size()


def _only_own_left(session: Session, held: _Held) -> bool:
    """Whether committing the session's own transaction is all its commit has to send."""
    transaction = session.get_transaction()
    return (
        transaction is not None
        and transaction.is_active
        and not transaction._connections
        and not held.busy
        and not session.info.get(_OWN_FAILED)
        and not session.info.get(QUEUED_AT_COMMIT)
        and not session.in_nested_transaction()
        and session._is_clean()
    )


async def close(session: AsyncSession) -> None:
    """Close the session, as ``session.close()`` does; one that holds no connection and no transaction (a writer's
    after :func:`commit`) has nothing to send, and closes without a greenlet."""
    sync = session.sync_session
    if sync.get_transaction() is None and not any(isinstance(session.info.get(key), _Held) for key in _HOLDS):
        sync.close()
    else:
        await session.close()


# --- a transaction of its own, on a connection straight from the pool -------------------------------------------


class PooledTransaction:
    """Statements built once, run in :func:`pooled_transaction`'s transaction."""

    def __init__(self, held: _Held) -> None:
        self._held = held
        self.failed = False  # a statement failed: PostgreSQL would answer the COMMIT with a ROLLBACK

    async def run(self, statement: Executable, params: Mapping[str, Any]) -> Ran:
        """As :func:`run` (its rows, its count of rows; an error raised as SQLAlchemy raises it)."""
        compiled = _compiled(statement, self._held.engine.dialect, tuple(params), many=False)
        if compiled is None:
            raise TypeError("pooled_transaction runs Core statements SQLAlchemy compiles completely ahead of time")
        try:
            return await _run_on(self._held, compiled, params, None)
        except BaseException:
            self.failed = True
            raise


def takes_pooled_transactions(engine: AsyncEngine) -> bool:
    """Whether :func:`pooled_transaction` runs on the engine: PostgreSQL through asyncpg, with nothing watching
    its statements (echo, ``before_cursor_execute``: an instrumented engine sees every statement, through a
    session)."""
    return _unwatched_asyncpg(engine.sync_engine)


@asynccontextmanager
async def pooled_transaction(engine: AsyncEngine) -> AsyncIterator[PooledTransaction]:
    """A transaction of its own on a connection checked out straight from the engine's pool (PostgreSQL through
    asyncpg), committed when the block ends and rolled back if it raises; the connection goes back to the pool
    after, or is discarded if a statement or the ROLLBACK was cut short (its state is unknown).

    For a loop that runs a statement built once after nearly every commit (the outbox relay): a session's
    transaction around it (the session, its ``Connection``, the greenlet hops of BEGIN and COMMIT) cost more
    than the statement, about 0.6M instructions a round."""
    if not takes_pooled_transactions(engine):
        raise TypeError("pooled_transaction runs on asyncpg with nothing watching its statements: use a session")
    held = await _checkout(engine.sync_engine)
    discard = True
    try:
        transaction = held.driver.transaction()
        try:
            await transaction.start()
        except Exception as error:
            await _raise_as_sqlalchemy(None, held, "BEGIN", (), error)
        statements = PooledTransaction(held)
        try:
            yield statements
            if statements.failed:  # caught in the block: the transaction is aborted, it cannot commit
                raise sa.exc.PendingRollbackError("a statement of this transaction failed: it was rolled back")
        except BaseException:
            if not held.busy:  # a statement in flight (cancelled) leaves no way to send the ROLLBACK
                with contextlib.suppress(Exception):
                    await transaction.rollback()
                    discard = False
            raise
        try:
            await transaction.commit()
        except Exception as error:
            await _raise_as_sqlalchemy(None, held, "COMMIT", (), error)
        discard = False
    finally:
        await greenlet_spawn(_return, held, discard=discard)  # closing or discarding it may await the driver


def _compiled(statement: Executable, dialect: Dialect, names: tuple[str, ...], many: bool) -> _Compiled | None:
    key = (*names, "*") if many else names
    by_names = _COMPILED.get(statement)  # setdefault would make a weak reference with a callback every time
    if by_names is None:
        by_names = _COMPILED.setdefault(statement, {})
    if key not in by_names:
        by_names[key] = _compile(statement, dialect, names, many)
    return by_names[key]


def _compile(statement: Executable, dialect: Dialect, names: tuple[str, ...], many: bool) -> _Compiled | None:
    if not isinstance(statement, (sa.Select, sa.CompoundSelect, sa.Insert, sa.Update, sa.Delete)):
        return None  # text and the like: no column types to convert by
    if not _plain_rows(statement):
        return None  # the ORM builds objects of those rows
    compiled = statement.compile(dialect=dialect, column_keys=list(names), for_executemany=many)
    if compiled.literal_execute_params or compiled.post_compile_params:
        return None  # a list expanded when it runs
    if compiled.insert_prefetch or compiled.update_prefetch:
        return None  # a column's Python-side default to compute
    positions = tuple(compiled.positiontup or ())
    binds = [compiled.binds[name] for name in positions]
    if any(bind.callable is not None for bind in binds):
        return None  # a value computed each time it runs
    if isinstance(statement, (sa.Select, sa.CompoundSelect)):
        selects, columns = True, list(statement.selected_columns)
    else:
        selects, columns = False, list(compiled.effective_returning or [])
    result_types = tuple(column.type.dialect_impl(dialect) for column in columns)
    results: tuple[Processor, ...] | None
    try:
        results = tuple(type_.result_processor(dialect, None) for type_ in result_types)
    except (TypeError, sa.exc.InvalidRequestError):
        results = None  # converted by the type the server names (Float, Numeric): asked when it first runs
    return _Compiled(
        sql=compiled.string,
        names=positions,
        processors=tuple(_bind_processor(bind.type, dialect) for bind in binds),
        defaults={name: bind.value for name, bind in zip(positions, binds, strict=True) if not bind.required},
        result_types=result_types,
        results=results,
        make_row=_row_maker([getattr(column, "key", None) or f"_{n}" for n, column in enumerate(columns)]),
        fetches=selects or bool(columns),
        returns_rows=selects or bool(statement.exported_columns),
    )


def _bind_processor(type_: sa.types.TypeEngine[Any], dialect: Dialect) -> Processor:
    """How a value of the type is converted for asyncpg, or None. A one-dimensional ARRAY of items that need no
    conversion is given as it is when it is a list (the rows written at commit are columns of such arrays, a few
    dozen per booking): SQLAlchemy's processor would copy it. Arrays of more dimensions (SQLAlchemy makes their
    inner tuples lists, which asyncpg would read as records) take SQLAlchemy's processor."""
    impl = type_.dialect_impl(dialect)
    if (
        isinstance(impl, sa.ARRAY)
        and impl.dimensions == 1
        and impl.item_type.dialect_impl(dialect).bind_processor(dialect) is None
    ):
        return _as_list
    return impl.bind_processor(dialect)


def _as_list(value: Any) -> Any:
    """A one-dimensional array's value as asyncpg takes it: a list (or None) as it is, any other collection (a
    set, a generator, a dict's keys) made a list, as SQLAlchemy's processor makes it."""
    return value if value is None or type(value) is list else list(value)


def _plain_rows(statement: object) -> bool:
    """Whether the session would hand back the statement's rows as they are (not objects it builds)."""
    if isinstance(statement, sa.CompoundSelect):
        return all(_plain_rows(each) for each in statement.selects)
    if not isinstance(statement, sa.Select):  # INSERT, UPDATE, DELETE: of a Core table, not an ORM entity
        return statement.entity_description.get("entity") is None  # type: ignore[attr-defined]
    return all(
        isinstance(each["expr"], (sa.ColumnElement, QueryableAttribute)) for each in statement.column_descriptions
    )


async def _raise_as_sqlalchemy(
    session: AsyncSession | None, held: _Held, sql: str, values: Any, error: Exception
) -> NoReturn:
    """Raise ``error`` as SQLAlchemy would have: asyncpg's errors as the dialect's DB-API errors wrapped in
    ``sa.exc`` (IntegrityError…), others as a StatementError. A lost connection is invalidated, and so is
    every connection pooled before it (the server most likely restarted), as SQLAlchemy does."""
    dialect = held.engine.dialect
    fairy = held.fairy
    try:
        held.adapter._handle_exception(error)  # translates, and raises
    except Exception as translated:
        dbapi_error = translated
    lost = isinstance(dbapi_error, dialect.loaded_dbapi.Error) and dialect.is_disconnect(
        dbapi_error, held.adapter, None
    )
    if lost:
        held.engine.pool._invalidate(fairy, dbapi_error, _checkin=False)
        if held.connection is not None:
            await greenlet_spawn(held.connection.invalidate, dbapi_error)
        elif session is not None and session.info.get(_BORROWED) is held:
            session.info.pop(_BORROWED)
            await greenlet_spawn(fairy.invalidate, dbapi_error)
        elif session is not None and session.info.get(_OWN) is held:
            session.info.pop(_OWN)
            session.info[_OWN_FAILED] = True  # what it wrote is gone: no new transaction before a rollback
            await greenlet_spawn(fairy.invalidate, dbapi_error)
    raise DBAPIError.instance(
        sql,
        values,
        dbapi_error,
        dialect.loaded_dbapi.Error,
        hide_parameters=held.engine.hide_parameters,
        connection_invalidated=lost,
        dialect=dialect,
    ) from error
