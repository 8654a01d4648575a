"""Relay connections over SQL statements: forward keyset pagination by id."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry
from sqlalchemy import func, select
from strawberry import relay
from strawberry.relay.utils import from_base64, to_base64

from .context import bad_input

MAX_PAGE = 100
DEFAULT_PAGE = 20
CURSOR_PREFIX = "cursor"

Node = TypeVar("Node")


@strawberry.type(description="An edge in a connection.")
class Edge(Generic[Node]):
    node: Node
    cursor: str = strawberry.field(description="Pass as `after` to read on from here.")


@strawberry.type(description="A page of a list; ask for the next with `after: pageInfo.endCursor`.")
class Connection(Generic[Node]):
    edges: list[Edge[Node]]
    page_info: relay.PageInfo
    _statement: strawberry.Private[Any]

    @strawberry.field(description="How many items match, over all pages.")
    async def total_count(self, info: strawberry.Info) -> int:
        count = select(func.count()).select_from(self._statement.order_by(None).subquery())
        async with info.context.db() as session:
            return (await session.exec(count)).scalar_one()


def _decode_cursor(after: str | None) -> int | None:
    if after is None:
        return None
    try:
        prefix, value = from_base64(after)
        if prefix != CURSOR_PREFIX:
            raise ValueError(prefix)
        return int(value)
    except (ValueError, TypeError):
        raise bad_input("`after` is not a cursor from this connection") from None


async def paginate(
    info: strawberry.Info,
    statement: Any,
    convert: Callable[[Any], Any],
    *,
    first: int | None,
    after: str | None,
) -> Connection:
    """One page of ``statement`` (a ``select(Model)``) ordered by the model's id."""
    first = DEFAULT_PAGE if first is None else first
    if not 0 <= first <= MAX_PAGE:
        raise bad_input(f"`first` must be between 0 and {MAX_PAGE}")
    after_id = _decode_cursor(after)
    model = statement.column_descriptions[0]["entity"]
    page = statement.order_by(model.id).limit(first + 1)
    if after_id is not None:
        page = page.where(model.id > after_id)
    async with info.context.db() as session:
        rows = list((await session.exec(page)).all())
    has_next = len(rows) > first
    rows = rows[:first]
    edges = [Edge(node=convert(row), cursor=to_base64(CURSOR_PREFIX, row.id)) for row in rows]
    return Connection(
        edges=edges,
        page_info=relay.PageInfo(
            has_next_page=has_next,
            has_previous_page=after_id is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        _statement=statement,
    )
