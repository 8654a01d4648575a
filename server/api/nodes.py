"""Helpers for Relay nodes: loading by id and reading ids from inputs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import strawberry
from strawberry import relay

MISSING_ID = -1  # never a row id: a lookup for it finds nothing, so the service says NOT_FOUND


def local_id(global_id: relay.GlobalID | None, type_name: str) -> int | None:
    """The row id inside a global id of ``type_name``; a foreign or malformed id maps to MISSING_ID."""
    if global_id is None:
        return None
    if global_id.type_name != type_name:
        return MISSING_ID
    try:
        return int(global_id.node_id)
    except ValueError:
        return MISSING_ID


def local_ids(global_ids: Iterable[relay.GlobalID] | None, type_name: str) -> list[int] | None:
    if global_ids is None:
        return None
    return [local_id(g, type_name) for g in global_ids]


async def load_nodes(
    info: strawberry.Info,
    fetch: Callable[[Any, Sequence[int]], Awaitable[dict[int, Any]]],
    node_ids: Iterable[str],
    convert: Callable[[Any], Any],
    visible: Callable[[Any, Any], bool] = lambda actor, row: True,
) -> list[Any]:
    """Rows for ``node(id:)``, in the order asked; unknown or hidden ids resolve to null."""
    actor = info.context.require_actor()
    ids = []
    for raw in node_ids:
        try:
            ids.append(int(raw))
        except ValueError:
            ids.append(MISSING_ID)
    async with info.context.db() as session:
        rows = await fetch(session, ids)
    result = []
    for row_id in ids:
        row = rows.get(row_id)
        result.append(convert(row) if row is not None and visible(actor, row) else None)
    return result
