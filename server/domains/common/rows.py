"""Typed access to what the database gave a row: its primary key, its table."""

from __future__ import annotations

from typing import Protocol, cast

import sqlalchemy as sa
from sqlmodel import SQLModel


class Identified(Protocol):
    @property
    def id(self) -> int | None: ...


def saved_id(row: Identified) -> int:
    """The primary key of a row read from the database or flushed to it (models declare ``int | None``)."""
    row_id = row.id
    if row_id is None:
        raise ValueError(f"{type(row).__name__} has no id yet: add and flush it first")
    return row_id


def table_of(model: type[SQLModel]) -> sa.Table:
    """The Core table of a table model (SQLModel's type stubs leave ``__table__`` out)."""
    return cast(sa.Table, sa.inspect(model).local_table)
