"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from ...prepared import run

UNIX_EPOCH_JULIAN_DAY = 2440587.5


class json_text(FunctionElement[str]):  # lower case: used like the SQL function it stands for
    """The characters of a JSON string value (a stored trait), for LIKE: its JSON text escapes non-ASCII."""

    type = sa.String()
    inherit_cache = True
    name = "json_text"


@compiles(json_text, "postgresql")
def _json_text_postgresql(element: json_text, compiler: Any, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)} #>> '{{}}')"


@compiles(json_text, "sqlite")
def _json_text_sqlite(element: json_text, compiler: Any, **kw: Any) -> str:
    return f"json_extract({compiler.process(element.clauses, **kw)}, '$')"


def dialect_of(session) -> str:
    """``"postgresql"`` or ``"sqlite"``: statements built once per dialect are cached under it."""
    bind = getattr(session, "sync_session", session).bind  # the sessions here have their one engine as bind
    return (bind if bind is not None else session.get_bind()).dialect.name


def among(dialect: str, column, name: str):
    """``column IN :name`` with the list bound at execution; on PostgreSQL ``= ANY(:name)``.

    Unlike :func:`is_in` the values are not in the statement, so a statement
    built once per dialect serves every call (bind ``name`` to a list).
    """
    if dialect == "postgresql":
        return column == sa.any_(sa.bindparam(name, type_=postgresql.ARRAY(sa.Integer, dimensions=1)))
    return column.in_(sa.bindparam(name, expanding=True))


def age_in_days(dialect: str, column):
    """Days from ``column`` (a UTC timestamp) to the ``now`` parameter, bound with :func:`now_parameter`.

    PostgreSQL reads the epoch with date_part (a float): EXTRACT returns a
    numeric, and numeric arithmetic over thousands of rows costs milliseconds.
    """
    now = sa.bindparam("now", type_=sa.Float)
    if dialect == "postgresql":
        return (now - func.date_part("epoch", column)) / 86400.0
    return now - func.julianday(column)  # SQLite keeps naive UTC text; julianday() reads it


def epoch_minute(dialect: str, column):
    """Whole minutes from 1970-01-01 UTC to ``column`` (a UTC timestamp): the bucket of a per-minute count."""
    if dialect == "postgresql":
        return sa.cast(func.floor(func.date_part("epoch", column) / 60), sa.BigInteger)
    return sa.cast(func.strftime("%s", column), sa.BigInteger) // 60  # SQLite keeps naive UTC text


def now_parameter(dialect: str, now: datetime) -> float:
    """The value of :func:`age_in_days`'s ``now`` parameter."""
    if dialect == "postgresql":
        return now.timestamp()
    return now.timestamp() / 86400.0 + UNIX_EPOCH_JULIAN_DAY


def insert_ignore(session, model, values: dict[str, Any]):
    """INSERT … ON CONFLICT DO NOTHING for the session's backend."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(model).values(**values).on_conflict_do_nothing()


@functools.cache
def ignoring_conflicts(dialect: str, table: sa.Table):
    """:func:`insert_ignore` built once per backend and table, for a hot path: bind the row when it runs
    (``params=row``)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing()


def lock_counter(session, model, key: dict[str, Any], counter: str):
    """Lock the row at ``key`` for this transaction, creating it (``counter`` 0) when missing.

    ``INSERT … ON CONFLICT DO UPDATE SET counter = counter``: concurrent callers queue behind the
    holder and, under READ COMMITTED, their next statements see what it committed. SQLite's
    writers are serialised already (``BEGIN IMMEDIATE``).
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = model.__table__
    return (
        insert(table)
        .values(**key, **{counter: 0})
        .on_conflict_do_update(index_elements=list(key), set_={counter: table.c[counter]})
    )


async def increment_below(session, model, key: dict[str, Any], counter: str, limit: int) -> bool:
    """Add one to ``counter`` of the row at ``key`` (created at 1) only while it is below ``limit``; whether it did.

    One conditional statement: under concurrency the database decides, and
    nothing changes once the limit was reached. ``limit`` must be at least 1.
    """
    if limit < 1:
        raise ValueError("increment_below needs a limit of at least 1")
    statement = _increment_below(dialect_of(session), model.__table__, tuple(key), counter)
    return (await run(session, statement, {**key, "limit": limit})).rowcount == 1


@functools.cache
def _increment_below(dialect: str, table, key: tuple[str, ...], counter: str):
    # Built once: seats and per-customer places are taken on the hot path of a surge.
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).values({**{name: sa.bindparam(name) for name in key}, counter: 1})
    return statement.on_conflict_do_update(
        index_elements=list(key), set_={counter: table.c[counter] + 1}, where=table.c[counter] < sa.bindparam("limit")
    )


BoundedCounter = tuple[Any, dict[str, Any], str, int]  # (model, key, counter column, limit), as for increment_below


async def increment_first_then_second_below(
    session, first: BoundedCounter, second: BoundedCounter
) -> tuple[bool, bool]:
    """:func:`increment_below` of the first counter, then, only if it was incremented, of the second; whether
    each was. On PostgreSQL one statement: the second upsert reads the first's result, so it runs after it
    (its row locked second, as when run one after the other) and writes or locks nothing when the first
    refused. A caller refused by either rolls its transaction back, which takes back what the other added."""
    if min(first[3], second[3]) < 1:
        raise ValueError("increment_first_then_second_below needs limits of at least 1")
    if dialect_of(session) != "postgresql":
        if not await increment_below(session, *first):
            return False, False
        return True, await increment_below(session, *second)
    (model_a, key_a, counter_a, limit_a), (model_b, key_b, counter_b, limit_b) = first, second
    statement = _increment_first_then_second(
        model_a.__table__, tuple(key_a), counter_a, model_b.__table__, tuple(key_b), counter_b
    )
    params = {**{f"a_{k}": v for k, v in key_a.items()}, **{f"b_{k}": v for k, v in key_b.items()}}
    taken = (await run(session, statement, {**params, "a_limit": limit_a, "b_limit": limit_b})).one()
    return taken[0] == 1, taken[1] == 1


@functools.cache
def _increment_first_then_second(
    table_a, key_a: tuple[str, ...], counter_a: str, table_b, key_b: tuple[str, ...], counter_b: str
):
    # Built once: a booking takes her place and a seat with it on the hot path of a surge. PostgreSQL runs a
    # CTE's writes in no promised order; the second's source reading the first is what orders them.
    def upsert(table, key: tuple[str, ...], counter: str, prefix: str, only_if=None):
        binds = {name: sa.bindparam(f"{prefix}_{name}", type_=table.c[name].type) for name in key}
        source = sa.select(*(bind.label(name) for name, bind in binds.items()), sa.literal(1).label(counter))
        if only_if is not None:
            source = source.where(only_if)
        statement = postgresql.insert(table).from_select([*key, counter], source)
        return statement.on_conflict_do_update(
            index_elements=list(key),
            set_={counter: table.c[counter] + 1},
            where=table.c[counter] < sa.bindparam(f"{prefix}_limit"),
        ).returning(sa.literal(1).label("taken"))

    first = upsert(table_a, key_a, counter_a, "a").cte("first_counter")
    second = upsert(table_b, key_b, counter_b, "b", only_if=sa.exists(sa.select(first.c.taken))).cte("second_counter")
    count = sa.func.count
    return sa.select(
        sa.select(count()).select_from(first).scalar_subquery(),
        sa.select(count()).select_from(second).scalar_subquery(),
    )


def add_to_sums(session, model, key: tuple[str, ...], summed: tuple[str, ...]):
    """``INSERT … ON CONFLICT (key) DO UPDATE SET c = c + excluded.c`` for each ``summed`` column: run it
    with a list of rows (one per key) to add their sums to the rows stored, created when missing. Give
    the rows in one canonical order, so concurrent writers lock shared rows in the same order."""
    return _sums_upsert(session.get_bind().dialect.name, model.__table__, key, summed)


@functools.cache
def _sums_upsert(dialect: str, table, key: tuple[str, ...], summed: tuple[str, ...]):
    # Built once: a statement built per call costs more Python than running it.
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return statement.on_conflict_do_update(
        index_elements=list(key), set_={name: table.c[name] + statement.excluded[name] for name in summed}
    )


def among_bound(column, name: str, count: int):
    """``column IN (:<name>_0, :<name>_1, …)``: ``count`` values, each bound on its own (bind them with
    :func:`bound_each`, and build the statement for :func:`bound_size` of their number). PostgreSQL plans a
    prepared statement once for any values, but for ``= ANY(:name)`` it cannot know the list's length and
    assumes ten: for the two or three guides of a slot that plan looked dearer than planning each execution,
    which it then did every time."""
    if count == 0:
        return sa.false()  # not IN (): SQLAlchemy makes that a list expanded when it runs
    return column.in_([sa.bindparam(f"{name}_{n}") for n in range(count)])


def bound_size(count: int) -> int:
    """The size of statement for ``count`` values: the next power of two, so that a few statements (each
    prepared on each connection) serve every count."""
    return 0 if count == 0 else 1 << (count - 1).bit_length()


def bound_each(name: str, values: Sequence[Any]) -> dict[str, Any]:
    """The values for :func:`among_bound`, the last repeated up to :func:`bound_size` (IN ignores repeats)."""
    padded = [*values, *[values[-1]] * (bound_size(len(values)) - len(values))] if values else []
    return {f"{name}_{n}": value for n, value in enumerate(padded)}


def among_constants(column, values: Iterable[Any]):
    """``column IN (...)`` of constants, each its own bound value rather than one list expanded when the
    statement runs: a statement built once with it runs on asyncpg's own connection (server.prepared)."""
    return column.in_([sa.literal(value) for value in values])


def is_in(session, column, values: Iterable[Any]):
    """``column IN values``; on PostgreSQL spelt ``column = ANY(:array)``.

    One statement text whatever the number of values, so asyncpg prepares it
    once instead of once per list length, and binding one array is cheaper
    than binding thousands of parameters (hot paths ask for ~1,000 values).
    """
    values = list(values)
    if session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, values, type_=postgresql.ARRAY(column.type, dimensions=1)))
    return column.in_(values)
