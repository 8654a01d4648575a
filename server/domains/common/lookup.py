"""Batch lookups shared by every domain (dataloaders and validation use them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

Row = TypeVar("Row")


async def rows_by_id(session: AsyncSession, model: type[Row], ids: Sequence[int]) -> dict[int, Row]:
    rows = await session.exec(select(model).where(col(model.id).in_(list(ids))))
    return {row.id: row for row in rows}


async def links_by_owner(
    session: AsyncSession, model: type, owner: str, target: str, owner_ids: Sequence[int], order_by: Any = None
) -> dict[int, list[int]]:
    """For a link table: owner id -> [target ids], every owner present."""
    statement = select(model).where(col(getattr(model, owner)).in_(list(owner_ids)))
    statement = statement.order_by(order_by if order_by is not None else getattr(model, target))
    result: dict[int, list[int]] = {owner_id: [] for owner_id in owner_ids}
    for row in await session.exec(statement):
        result[getattr(row, owner)].append(getattr(row, target))
    return result
