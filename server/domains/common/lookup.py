"""Batch lookups shared by every domain (dataloaders and validation use them)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm.util import identity_key
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ...db import is_reader
from ...prepared import any_of, run
from .dialect import dialect_of
from .rows import Identified, as_model, model_columns, saved_id, select_columns, table_of

Row = TypeVar("Row", bound=Identified)


async def rows_by_id(session: AsyncSession, model: type[Row], ids: Sequence[int]) -> dict[int, Row]:
    """Rows by primary key; rows this session already holds are not read again. The others a writer's
    session reads as its own, for its use case to change; a reader's (which writes nothing back) reads them
    as plain columns, run by asyncpg itself on PostgreSQL, and hands them back in no session."""
    identity_map = session.sync_session.identity_map
    found: dict[int, Row] = {}
    for row_id in set(ids):
        row = identity_map.get(identity_key(model, row_id))
        if row is not None and not sa.inspect(row).expired:  # a rollback expires what the session holds
            found[row_id] = row
    missing = [row_id for row_id in set(ids) if row_id not in found]
    if not missing:
        return found
    if is_reader(session):
        rows = [as_model(model, values) for values in await _read_columns(session, model, missing)]
    else:
        rows = list(await session.exec(_by_ids(model), params={"ids": missing}))
    found.update({saved_id(row): row for row in rows})
    return found


@functools.cache
def _by_ids(model: type[Row]) -> Any:
    """Built once per model: a statement object reused keeps its SQL cache key, so each lookup skips
    building the expression and computing the key again (most of a primary-key read's Python cost)."""
    return select(model).where(col(model.id).in_(sa.bindparam("ids", expanding=True)))


async def _read_columns(session: AsyncSession, model: type[Row], ids: list[int]) -> Any:
    if len(ids) == 1:
        return await run(session, _columns_by_id(model), {"id": ids[0]})
    return await run(session, _columns_by_ids(model, dialect_of(session)), {"ids": ids})


@functools.cache
def _columns_by_id(model: type[SQLModel]) -> Any:
    """The model's columns of one row: ``id = :id``, not ``= ANY(:ids)``. PostgreSQL plans a prepared statement
    once for any values; for an array of unknown length, planned while the table was small, that plan is a
    sequential scan, kept as the table grows (until ANALYZE replans it)."""
    return select_columns(*model_columns(model)).where(table_of(model).c.id == sa.bindparam("id"))


@functools.cache
def _columns_by_ids(model: type[SQLModel], dialect: str) -> Any:
    """The model's columns by primary key, built once per model and database."""
    return select_columns(*model_columns(model)).where(any_of(table_of(model).c.id, "ids", dialect))


async def rows_and_parents(
    session: AsyncSession, model: type[Row], ids: Sequence[int], parents: tuple[tuple[str, type[SQLModel]], ...]
) -> dict[int, tuple[Row, dict[str, Any]]]:
    """A reader's rows by primary key, each with the rows its foreign keys (``parents``: column, model) name, in
    one statement; a parent is None where its key is null, and an id not found is left out. For live events,
    whose screens show the row with those beside it: one round trip rather than one per parent (or per row)."""
    if not is_reader(session):
        raise ValueError("rows_and_parents reads plain columns: a reader's session only")
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    one = len(wanted) == 1  # ``id = :id``: see _columns_by_id for why one id is not bound as an array
    statement, spans = _rows_and_parents(model, parents, None if one else dialect_of(session))
    (start, end), *parent_spans = spans
    found: dict[int, tuple[Row, dict[str, Any]]] = {}
    for values in await run(session, statement, {"id": wanted[0]} if one else {"ids": wanted}):
        row = as_model(model, values[start:end])
        related = {
            key: None if getattr(row, key) is None else as_model(parent, values[first:last])
            for (key, parent), (first, last) in zip(parents, parent_spans, strict=True)
        }
        found[saved_id(row)] = (row, related)
    return found


@functools.cache
def _rows_and_parents(
    model: type[SQLModel], parents: tuple[tuple[str, type[SQLModel]], ...], many_on: str | None
) -> tuple[Any, tuple[tuple[int, int], ...]]:
    """Built once per model, parents and way of binding (``many_on``: the dialect binding a list of ids; None: one
    id): the row LEFT JOIN each parent by its key, every column of each; and where each model's columns lie in its
    result."""
    table = table_of(model)
    columns: list[Any] = list(model_columns(model))
    spans = [(0, len(columns))]
    joined: Any = table
    for n, (key, parent) in enumerate(parents):
        alias = table_of(parent).alias(f"parent_{n}")
        parent_columns = [alias.corresponding_column(column) for column in model_columns(parent)]
        spans.append((len(columns), len(columns) + len(parent_columns)))
        columns += parent_columns
        joined = joined.outerjoin(alias, alias.c.id == table.c[key])
    by_id = table.c.id == sa.bindparam("id") if many_on is None else any_of(table.c.id, "ids", many_on)
    statement = select_columns(*columns).select_from(joined).where(by_id)
    return statement, tuple(spans)


async def links_by_owner(
    session: AsyncSession,
    model: type[SQLModel],
    owner: str,
    target: str,
    owner_ids: Sequence[int],
    order_by: Any = None,
) -> dict[int, list[int]]:
    """For a link table: owner id -> [target ids], every owner present."""
    statement = select(model).where(col(getattr(model, owner)).in_(list(owner_ids)))
    statement = statement.order_by(order_by if order_by is not None else getattr(model, target))
    result: dict[int, list[int]] = {owner_id: [] for owner_id in owner_ids}
    for row in await session.exec(statement):
        result[getattr(row, owner)].append(getattr(row, target))
    return result
