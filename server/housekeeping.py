"""Deleting rows that have served their purpose, a batch at a time (short locks, bounded work per run)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

PURGE_BATCH = 5000


async def purge(session: AsyncSession, model: Any, condition: Any, batch: int = PURGE_BATCH) -> int:
    """Delete up to ``batch`` rows of ``model`` matching ``condition`` (in the caller's unit of work);
    returns how many."""
    doomed = select(model.id).where(condition).limit(batch).scalar_subquery()
    result = await session.exec(sa.delete(model).where(model.id.in_(doomed)))
    return result.rowcount or 0
