"""Reads the ledger's consumer repeats for every order of a batch, kept for the batch's transaction.

The consumer credits many orders per transaction (server.bus.PER_TRANSACTION); the rule, the plans,
the products and the livestreams they look up are the same for most of them. Only reads that cannot
change under a payment already made are kept: a plan starts now or later, so none created during the
batch applies to an order paid before it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

KEY = "ledger.batch_cache"
Row = TypeVar("Row")


def _cache(session: AsyncSession) -> dict[Any, Any]:
    found: dict[Any, Any] = session.info.setdefault(KEY, {})
    return found


async def once(session: AsyncSession, key: str, load: Callable[[], Awaitable[Row]]) -> Row:
    """``load()`` the first time in this session, its answer afterwards."""
    cache = _cache(session)
    if key not in cache:
        cache[key] = await load()
    return cache[key]  # type: ignore[no-any-return]


def forget(session: AsyncSession, prefix: str) -> None:
    """Drop what was kept under keys starting with ``prefix`` (its reads were rolled back with a savepoint)."""
    cache = _cache(session)
    for key in [k for k in cache if isinstance(k, str) and k.startswith(prefix)]:
        del cache[key]


async def rows(
    session: AsyncSession,
    kind: str,
    ids: Sequence[int],
    fetch: Callable[[AsyncSession, Sequence[int]], Awaitable[dict[int, Row]]],
) -> dict[int, Row]:
    """``fetch(session, ids)`` for the ids not seen yet in this session; every asked row found."""
    known: dict[int, Row] = _cache(session).setdefault(kind, {})
    missing = [i for i in ids if i not in known]
    if missing:
        known.update(await fetch(session, missing))
    return {i: known[i] for i in ids if i in known}


def keep(session: AsyncSession, kind: str, found: dict[Any, Any]) -> None:
    """Keep rows read ahead for the batch (``rows`` and ``known`` find them)."""
    _cache(session).setdefault(kind, {}).update(found)


def known(session: AsyncSession, kind: str) -> dict[Any, Any]:
    """What was kept under ``kind`` in this session (empty when nothing was)."""
    found: dict[Any, Any] = _cache(session).get(kind, {})
    return found
