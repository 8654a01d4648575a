"""Context.row_field: a resolver's row answered at once when the operation's loader holds it (a live event's task
primes its booking, guide and store), else loaded with the other keys of the turn; a row not found is None."""

from __future__ import annotations

import asyncio
import inspect

from server.api.context import Context, OperationScope, _current_scope


class Rows:
    """A load by key that records what it was asked; key 404 is not found."""

    def __init__(self) -> None:
        self.asked: list[list[int]] = []

    async def load(self, _session, keys):
        self.asked.append(list(keys))
        return {key: f"row {key}" for key in keys if key != 404}


def built(row: str) -> str:
    return f"built {row}"


async def _in_operation(api, body):
    runtime = api.app.state.runtime
    scope = OperationScope(runtime, write=lambda: False)
    token = _current_scope.set(scope)
    try:
        return await body(Context(runtime, request=None))
    finally:
        await scope.close()
        _current_scope.reset(token)


async def test_a_primed_row_is_answered_at_once_without_a_read(api):
    rows = Rows()

    async def body(context: Context):
        context.loader(rows.load).prime(7, "row 7")
        return context.row_field(rows.load, 7, built)

    assert await _in_operation(api, body) == "built row 7"  # the value itself: nothing to await
    assert rows.asked == []


async def test_a_row_not_held_is_loaded_with_the_turn_s_other_keys(api):
    rows = Rows()

    async def body(context: Context):
        pending = [context.row_field(rows.load, key, built) for key in (1, 2, 404)]
        assert all(inspect.isawaitable(each) for each in pending)
        found = await asyncio.gather(*pending)
        again = context.row_field(rows.load, 2, built)  # loaded by now: at once
        return found, again

    found, again = await _in_operation(api, body)
    assert found == ["built row 1", "built row 2", None] and again == "built row 2"
    assert rows.asked == [[1, 2, 404]]


async def test_a_row_known_to_be_missing_is_none_without_building(api):
    rows = Rows()

    async def body(context: Context):
        await context.row_field(rows.load, 404, built)
        return context.row_field(rows.load, 404, built)

    assert await _in_operation(api, body) is None
    assert rows.asked == [[404]]
