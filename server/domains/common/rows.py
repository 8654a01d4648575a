"""Typed access to what SQLModel's type stubs leave out: a stored row's id, a primary key column as
read back, a model's Core table, a select of many columns, and statements ``AsyncSession.exec`` runs
but does not type."""

from __future__ import annotations

from typing import Any, Protocol, cast

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.sql.base import Executable
from sqlmodel import SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select


class Identified(Protocol):
    @property
    def id(self) -> int | None: ...


def saved_id(row: Identified) -> int:
    """The primary key of a row read from the database or flushed to it (models declare ``int | None``)."""
    row_id = row.id
    if row_id is None:
        raise ValueError(f"{type(row).__name__} has no id yet: add and flush it first")
    return row_id


def keep(session: AsyncSession, *rows: Any) -> None:
    """Keep ``rows`` referenced as long as ``session`` lives: its identity map holds rows weakly, and the
    operation's answer (after the commit) would read again what its use case already read."""
    session.info.setdefault("kept_rows", []).extend(row for row in rows if row is not None)


def pk(column: int | None) -> Mapped[int]:
    """A primary key column (``Model.id``) to select: what it reads back is never NULL."""
    return cast("Mapped[int]", col(column))


def table_of(model: type[SQLModel]) -> sa.Table:
    """The Core table of a table model (SQLModel's type stubs leave ``__table__`` out)."""
    return cast(sa.Table, sa.inspect(model).local_table)


def select_columns(*columns: Any) -> Select[*tuple[Any, ...]]:
    """``select()`` of more than four columns: its overloads stop at four (it builds this same Select)."""
    return Select(*columns)


async def exec_any(session: AsyncSession, statement: Executable, params: Any = None) -> sa.Result[*tuple[Any, ...]]:
    """``session.exec`` of a statement its overloads do not name (text, a UNION): its body runs any."""
    return await session.exec(statement, params=params)  # type: ignore[call-overload]
