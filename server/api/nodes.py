"""Helpers for Relay nodes: loading by id and reading ids from inputs.

Arguments and input fields that name a node are declared as plain ``strawberry.ID``
(the same ``ID`` scalar in the schema) and decoded here, inside the resolver: so a
malformed id is refused after the field's permission checks (an anonymous caller
learns nothing but UNAUTHENTICATED), and with a clear BAD_USER_INPUT rather than
strawberry's coercion error or a database overflow.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, overload

import strawberry
from graphql import GraphQLError
from strawberry import relay

from ..domains.common.validation import is_row_id

MISSING_ID = -1  # never a row id: a lookup for it finds nothing, so the service says NOT_FOUND
_DECIMAL = re.compile(r"[0-9]{1,20}")


class MalformedGlobalId(GraphQLError):
    """An id that is not base64 of ``Type:row`` with a row id in 1..2^31-1."""

    def __init__(self, value: object) -> None:
        shown = value if isinstance(value, str) and len(value) <= 100 else "…"
        super().__init__(f'"{shown}" is not a valid global id', extensions={"code": "BAD_USER_INPUT"})


def decode_global_id(value: str | relay.GlobalID) -> relay.GlobalID:
    """The type name and row id inside a global id; MalformedGlobalId when it is not one of ours."""
    if isinstance(value, relay.GlobalID):
        global_id = value
    else:
        try:
            global_id = relay.GlobalID.from_id(value)
        except (relay.GlobalIDValueError, TypeError, ValueError):
            raise MalformedGlobalId(value) from None
    row_id(global_id.node_id, value)
    return global_id


def row_id(node_id: str, shown: object = None) -> int:
    """A node id as a row id, refused (MalformedGlobalId) unless it is a decimal 1..2^31-1."""
    if not (isinstance(node_id, str) and _DECIMAL.fullmatch(node_id) and is_row_id(int(node_id))):
        raise MalformedGlobalId(shown if shown is not None else node_id)
    return int(node_id)


@overload
def local_id(value: str | relay.GlobalID, type_name: str) -> int: ...
@overload
def local_id(value: None, type_name: str) -> None: ...
@overload
def local_id(value: str | relay.GlobalID | None, type_name: str) -> int | None: ...
def local_id(value: str | relay.GlobalID | None, type_name: str) -> int | None:
    """The row id inside a global id of ``type_name``; an id of another type maps to MISSING_ID
    (the service answers NOT_FOUND), a malformed one raises MalformedGlobalId (BAD_USER_INPUT)."""
    if value is None:
        return None
    global_id = decode_global_id(value)
    if global_id.type_name != type_name:
        return MISSING_ID
    return int(global_id.node_id)


def local_ids(values: Iterable[str | relay.GlobalID] | None, type_name: str) -> list[int] | None:
    if values is None:
        return None
    return [local_id(v, type_name) for v in values]


async def load_nodes(
    info: strawberry.Info,
    fetch: Callable[[Any, Sequence[int]], Awaitable[dict[int, Any]]],
    node_ids: Iterable[str],
    convert: Callable[[Any], Any],
    visible: Callable[[Any, Any], bool] = lambda actor, row: True,
) -> list[Any]:
    """Rows for ``node(id:)``, in the order asked; unknown or hidden ids resolve to null."""
    actor = await info.context.viewer()
    ids = [row_id(str(raw)) for raw in node_ids]
    async with info.context.db() as session:
        rows = await fetch(session, ids)
    result = []
    for node in ids:
        row = rows.get(node)
        result.append(convert(row) if row is not None and visible(actor, row) else None)
    return result


def global_id(type_name: str, row: int) -> str:
    """The global ID of a row of ``type_name`` (what ``node(id:)`` takes)."""
    return relay.to_base64(type_name, row)
