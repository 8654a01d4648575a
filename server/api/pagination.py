"""Relay connections over SQL statements: forward keyset pagination (by id, newest first, or oldest first)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from sqlalchemy import and_, func, or_, select
from strawberry import relay
from strawberry.relay.utils import from_base64, to_base64

from .context import bad_input

MAX_PAGE = 100
DEFAULT_PAGE = 20
CURSOR_PREFIX = "cursor"

Node = TypeVar("Node")

# The paging arguments of every connection field: ``first: First = None, after: After = None``.
First = Annotated[
    int | None,
    strawberry.argument(description=f"Page size, 0 to {MAX_PAGE}; {DEFAULT_PAGE} when not given."),
]
After = Annotated[
    str | None,
    strawberry.argument(
        description="Read on after this cursor (the previous page's pageInfo.endCursor); omit for the first page."
    ),
]


@strawberry.type(description="An edge in a connection.")
class Edge(Generic[Node]):
    node: Node = strawberry.field(description="The item.")
    cursor: str = strawberry.field(description="Pass as `after` to read on from here.")


@strawberry.type(description="A page of a list; ask for the next with `after: pageInfo.endCursor`.")
class Connection(Generic[Node]):
    edges: list[Edge[Node]] = strawberry.field(description="This page's items, in the list's order.")
    page_info: relay.PageInfo = strawberry.field(description="Whether there are more items, and the cursor to read on.")
    _statement: strawberry.Private[Any]
    _total: strawberry.Private[Callable[[], Awaitable[int]] | None] = None

    @strawberry.field(description="How many items match, over all pages.")
    async def total_count(self, info: strawberry.Info) -> int:
        if self._total is not None:
            return await self._total()
        count = select(func.count()).select_from(self._statement.order_by(None).subquery())
        async with info.context.db() as session:
            return (await session.exec(count)).scalar_one()


def _decode_cursor(after: str | None) -> str | None:
    if after is None:
        return None
    try:
        prefix, value = from_base64(after)
    except (ValueError, TypeError):
        value, prefix = None, None
    if prefix != CURSOR_PREFIX or not value:
        raise bad_input("`after` is not a cursor from this connection")
    return value


def _by_id(model, statement, after: str | None):
    if after is not None:
        try:
            statement = statement.where(model.id > int(after))
        except ValueError:
            raise bad_input("`after` is not a cursor from this connection") from None
    return statement.order_by(model.id), lambda row: str(row.id)


def _time_cursor(after: str) -> tuple[datetime, int]:
    moment, _, row_id = after.partition("|")
    try:
        return datetime.fromisoformat(moment), int(row_id)
    except ValueError:
        raise bad_input("`after` is not a cursor from this connection") from None


def _time_cursor_of(time_column) -> Callable[[Any], str]:
    return lambda row: f"{getattr(row, time_column.key).isoformat()}|{row.id}"


def _newest_first(model, time_column, statement, after: str | None):
    """Keyset on (time, id) descending: rows that arrive late still sort by when they happened."""
    if after is not None:
        at, last_id = _time_cursor(after)
        statement = statement.where(or_(time_column < at, and_(time_column == at, model.id < last_id)))
    return statement.order_by(time_column.desc(), model.id.desc()), _time_cursor_of(time_column)


def _oldest_first(model, time_column, statement, after: str | None):
    """Keyset on (time, id) ascending: a catch-up reads changes in the order they were stamped."""
    if after is not None:
        at, last_id = _time_cursor(after)
        statement = statement.where(or_(time_column > at, and_(time_column == at, model.id > last_id)))
    return statement.order_by(time_column, model.id), _time_cursor_of(time_column)


async def paginate(
    info: strawberry.Info,
    statement: Any,
    convert: Callable[[Any], Any],
    *,
    first: int | None,
    after: str | None,
    newest_by: Any = None,
    oldest_by: Any = None,
    total: Callable[[], Awaitable[int]] | None = None,
) -> Connection:
    """One page of ``statement`` (a ``select(Model)``): by id, newest first by ``newest_by``, or oldest
    first by ``oldest_by`` (a time column; ties by id).

    ``total`` answers totalCount when the caller knows it already (else a count query does).
    """
    first = DEFAULT_PAGE if first is None else first
    if not 0 <= first <= MAX_PAGE:
        raise bad_input(f"`first` must be between 0 and {MAX_PAGE}")
    after_value = _decode_cursor(after)
    model = statement.column_descriptions[0]["entity"]
    if newest_by is not None:
        page, cursor_of = _newest_first(model, newest_by, statement, after_value)
    elif oldest_by is not None:
        page, cursor_of = _oldest_first(model, oldest_by, statement, after_value)
    else:
        page, cursor_of = _by_id(model, statement, after_value)
    async with info.context.db() as session:
        rows = list((await session.exec(page.limit(first + 1))).all())
    has_next = len(rows) > first
    rows = rows[:first]
    edges = [Edge(node=convert(row), cursor=to_base64(CURSOR_PREFIX, cursor_of(row))) for row in rows]
    return Connection(
        edges=edges,
        page_info=relay.PageInfo(
            has_next_page=has_next,
            has_previous_page=after_value is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        _statement=statement,
        _total=total,
    )
