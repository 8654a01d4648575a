"""Whoever changes both of a booking's counters takes her counter first, then the slot's: a booking and a
cancellation of hers at that slot never wait on each other in a circle (PostgreSQL would end one of them
with a deadlock, which the client would see as an internal error).

Each test holds her counter row from a connection of its own, starts the operation, waits until it is
blocked on that row, and then checks that the slot's row is still free: taken in the other order, the
operation would already hold it while it waits."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.server.assertions import scalar

from .helpers import CANCEL, book, customer, give_shifts, next_local

MONDAY = 0
SLOT_ROW = """SELECT booked FROM slot_ledger WHERE (store_id, slot_start) =
  (SELECT store_id, slot_start FROM booking WHERE id = :booking) FOR UPDATE NOWAIT"""


@pytest.fixture
async def ready(db, world, api):
    if db.is_sqlite:
        pytest.skip("SQLite has one writer at a time: nothing waits on a row")
    await give_shifts(db, world)
    return world


@contextlib.asynccontextmanager
async def her_counter_held(db, person_id: int):
    async with db.engine.connect() as connection:
        await connection.execute(
            sa.text("SELECT upcoming FROM customer_booking_count WHERE person_id = :p FOR UPDATE"), {"p": person_id}
        )
        yield
        await connection.rollback()


async def until_blocked(db, operation: asyncio.Task) -> None:
    waiting = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    for _ in range(500):
        if await scalar(db, waiting):
            return
        assert not operation.done(), operation.result()
        await asyncio.sleep(0.02)
    raise AssertionError("the operation never waited on her counter")


async def slot_row_free(db, booking_id: int) -> bool:
    async with db.engine.connect() as connection:
        try:
            await connection.execute(sa.text(SLOT_ROW), {"booking": booking_id})
        except sa.exc.DBAPIError as error:
            assert "lock" in str(error).lower(), error
            return False
        finally:
            await connection.rollback()
        return True


async def test_a_booking_takes_her_counter_before_the_slot(api, db, ready, clock):
    slot = next_local(clock, MONDAY, 15)  # one seat
    first, _ = await customer(api, "13812345678")
    second, _ = await customer(api, "13912345678")
    assert (await book(api, first, ready, slot))["errors"] == []
    full = await scalar(db, "SELECT id FROM booking")
    assert (await book(api, second, ready, slot + timedelta(minutes=30)))["errors"] == []
    her = await scalar(db, "SELECT person_id FROM booking WHERE id != :full", full=full)
    async with her_counter_held(db, her):
        attempt = asyncio.create_task(book(api, second, ready, slot))
        await until_blocked(db, attempt)
        assert await slot_row_free(db, full)
    assert [e["code"] for e in (await attempt)["errors"]] == ["SLOT_FULL"]


async def test_a_cancellation_takes_her_counter_before_the_slot(api, db, ready, clock):
    token, _ = await customer(api)
    booking = (await book(api, token, ready, next_local(clock, MONDAY, 15)))["booking"]
    booking_id = await scalar(db, "SELECT id FROM booking")
    her = await scalar(db, "SELECT person_id FROM booking")
    async with her_counter_held(db, her):
        cancel = asyncio.create_task(api.data(CANCEL, {"input": {"id": booking["id"], "reason": "改天"}}, token))
        await until_blocked(db, cancel)
        assert await slot_row_free(db, booking_id)
    assert (await cancel)["bookingCancel"]["errors"] == []
    counters = "SELECT (SELECT sum(booked) FROM slot_ledger), (SELECT sum(upcoming) FROM customer_booking_count)"
    assert tuple(await _one(db, counters)) == (0, 0)


async def _one(db, sql: str):
    async with db.engine.connect() as connection:
        return (await connection.execute(sa.text(sql))).one()


async def test_a_booking_refused_by_her_limit_never_waits_on_the_slot(api, db, ready, clock):
    """At her limit she is refused before the seat is tried: a surge's busiest row is not locked for her."""
    token, _ = await customer(api)
    slot = next_local(clock, MONDAY, 15)
    for n in range(3):
        assert (await book(api, token, ready, slot + timedelta(minutes=30 * n)))["errors"] == []
    first = await scalar(db, "SELECT min(id) FROM booking")
    async with db.engine.connect() as holder:
        await holder.execute(sa.text(SLOT_ROW.replace(" NOWAIT", "")), {"booking": first})
        refused = await asyncio.wait_for(book(api, token, ready, slot), 10)  # the slot's row is held meanwhile
        await holder.rollback()
    assert [e["code"] for e in refused["errors"]] == ["TOO_MANY_ACTIVE_BOOKINGS"]
