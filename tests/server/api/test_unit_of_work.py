"""The operation's unit of work survives a field cancelled mid-statement (GraphQL cancels a failed
field's siblings): the session it held is discarded, the next user gets a fresh one, closing never raises."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing, suppress

import pytest
import strawberry
from sqlalchemy import text
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig

from server.api.context import Context, OperationScope, _current_scope
from server.api.scalars import SCALAR_MAP
from server.api.schema import IRSSchema, Query

SLOW = {
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000)"
    " SELECT count(*) FROM c",
    "postgresql": "SELECT pg_sleep(2)",
}


async def test_a_reader_cancelled_mid_statement_leaves_a_usable_operation(api, caplog):
    runtime = api.app.state.runtime
    scope = OperationScope(runtime, write=lambda: False)
    token = _current_scope.set(scope)
    try:
        context = Context(runtime, request=None)
        started = asyncio.Event()

        async def slow_field() -> None:
            async with context.db() as session:
                started.set()
                await (await session.connection()).execute(text(SLOW[runtime.db.engine.dialect.name]))

        field = asyncio.create_task(slow_field())
        await started.wait()
        await asyncio.sleep(0.05)
        field.cancel()
        with suppress(asyncio.CancelledError):
            await field

        async with context.db() as session:
            assert (await (await session.connection()).execute(text("SELECT 1"))).scalar() == 1
        with caplog.at_level(logging.ERROR):
            await scope.close()
        assert not caplog.records, caplog.text
    finally:
        _current_scope.reset(token)


async def test_a_finished_operation_opens_no_new_session(api):
    runtime = api.app.state.runtime
    scope = OperationScope(runtime, write=lambda: False)
    token = _current_scope.set(scope)
    try:
        await scope.close()
        context = Context(runtime, request=None)
        try:
            async with context.db():
                raise AssertionError("a session was opened after the operation finished")
        except RuntimeError as error:
            assert "finished" in str(error)
        assert scope.session is None
    finally:
        _current_scope.reset(token)


class FailingHook(SchemaExtension):
    """An extension whose hook fails as a broken connection would, outside every resolver."""

    async def on_execute(self):
        raise RuntimeError("(sqlite3.ProgrammingError) Cannot operate on a closed database.")
        yield  # pragma: no cover


async def test_errors_outside_resolvers_are_masked_and_logged(caplog):
    schema = IRSSchema(query=Query, extensions=[FailingHook], config=StrawberryConfig(scalar_map=SCALAR_MAP))
    with caplog.at_level(logging.ERROR, logger="irs.api"):
        result = await schema.execute("{ __typename }")
    [error] = result.errors
    assert error.message.startswith("Internal error (request id ") and "sqlite" not in error.message
    assert error.extensions["code"] == "INTERNAL"
    assert "Cannot operate on a closed database" in caplog.text  # the traceback is in the log


@strawberry.type
class FailingSubscription:
    @strawberry.subscription
    async def ticks(self) -> AsyncGenerator[int, None]:
        raise RuntimeError("(sqlite3.ProgrammingError) Cannot operate on a closed database.")
        yield 0  # pragma: no cover


@pytest.mark.parametrize("start", ["subscribe", "stream"])
async def test_a_subscription_s_unexpected_error_is_masked_however_it_is_started(start):
    schema = IRSSchema(query=Query, subscription=FailingSubscription, config=StrawberryConfig(scalar_map=SCALAR_MAP))
    results = await getattr(schema, start)("subscription { ticks }")
    async with aclosing(results):
        first = await anext(results)
    [error] = first.errors
    assert error.message.startswith("Internal error (request id ") and "sqlite" not in error.message
    assert error.extensions["code"] == "INTERNAL"
