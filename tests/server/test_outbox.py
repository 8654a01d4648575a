"""The outbox (server/outbox.py): what a transaction emits is written when, and only if, it commits, in
the order emitted; a savepoint rolled back takes its own messages with it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from server.outbox import OutboxMessage, OutboxReceipt, emit
from server.unit_of_work import unit_of_work
from tests.server.assertions import SessionWay


async def _written(db) -> list[str]:
    async with db.reader() as session:
        rows = await session.exec(sa.select(OutboxMessage.event).order_by(OutboxMessage.id))
        return list(rows.scalars())


async def test_what_a_transaction_emits_is_written_at_its_commit_in_order(db, clock):
    async with db.writer() as session:
        for event in ("FIRST", "SECOND", "THIRD"):
            emit(session, "t", event, {"n": event}, clock.now())
        assert await _written(db) == []  # nothing before the commit
        await session.commit()
    assert await _written(db) == ["FIRST", "SECOND", "THIRD"]
    async with db.reader() as session:
        payload = (await session.exec(sa.select(OutboxMessage.payload).limit(1))).scalar_one()
    assert payload == {"n": "FIRST"}


async def test_a_rolled_back_savepoint_drops_what_it_emitted_and_nothing_else(db, clock):
    async with db.writer() as session:
        emit(session, "t", "BEFORE", {}, clock.now())
        savepoint = await session.begin_nested()
        emit(session, "t", "INSIDE", {}, clock.now())
        await savepoint.rollback()
        emit(session, "t", "AFTER", {}, clock.now())
        await session.commit()
    assert await _written(db) == ["BEFORE", "AFTER"]


async def test_a_released_savepoint_inside_one_rolled_back_goes_with_it(db, clock):
    async with db.writer() as session:
        emit(session, "t", "BEFORE", {}, clock.now())
        outer = await session.begin_nested()
        emit(session, "t", "OUTER", {}, clock.now())
        inner = await session.begin_nested()
        emit(session, "t", "INNER", {}, clock.now())
        await inner.commit()
        await outer.rollback()
        released = await session.begin_nested()
        emit(session, "t", "RELEASED", {}, clock.now())
        await released.commit()
        await session.commit()
    assert await _written(db) == ["BEFORE", "RELEASED"]


async def test_a_rolled_back_transaction_writes_nothing_then_or_later(db, clock):
    async with db.writer() as session:
        emit(session, "t", "LOST", {}, clock.now())
        await session.exec(sa.select(1))
        await session.rollback()
        emit(session, "t", "KEPT", {}, clock.now())
        await session.commit()
    async with db.writer() as session:
        emit(session, "t", "CLOSED", {}, clock.now())  # the session closes without committing
    async with db.writer() as session:
        await session.commit()
    assert await _written(db) == ["KEPT"]


async def test_a_savepoint_undone_by_a_failed_flush_drops_what_it_emitted(db, clock):
    """The flush's failure rolls the savepoint back without a rollback of its own (it is closed)."""
    async with db.writer() as session:
        session.add(OutboxReceipt(consumer="c", message_id=1))
        await session.commit()
    async with db.writer() as session:
        emit(session, "t", "BEFORE", {}, clock.now())
        with pytest.raises(IntegrityError):
            async with session.begin_nested():
                emit(session, "t", "INSIDE", {}, clock.now())
                session.add(OutboxReceipt(consumer="c", message_id=1))  # taken: the flush fails
                await session.flush()
        emit(session, "t", "AFTER", {}, clock.now())
        await session.commit()
    assert await _written(db) == ["BEFORE", "AFTER"]


async def test_a_message_emitted_first_thing_goes_with_a_rollback(db, clock):
    """Emitting begins the transaction (as adding a row would): a rollback right after forgets it, and
    the session's next transaction does not write it."""
    async with db.writer() as session:
        emit(session, "t", "LOST", {}, clock.now())
        await session.rollback()
        emit(session, "t", "KEPT", {}, clock.now())
        await session.commit()
    assert await _written(db) == ["KEPT"]


async def test_commit_listeners_are_told_what_was_emitted(db, clock):
    told: list = []
    db.commit_listeners.append(told.extend)
    try:
        async with db.writer() as session:
            emit(session, "t", "TOLD", {"x": 1}, clock.now())
            await session.commit()
    finally:
        db.commit_listeners.remove(told.extend)
    assert [(m.topic, m.event, m.payload) for m in told] == [("t", "TOLD", {"x": 1})]


# A use case (server.unit_of_work) writes its messages just before it commits, by asyncpg on PostgreSQL;
# what the commit listener writes is what is left: a savepoint still open then, or a commit of one's own.


async def test_a_use_case_writes_what_it_emitted_before_its_commit_not_through_sqlalchemy_s_cursor(db, clock):
    with SessionWay(db.engine, lambda statement: "INSERT INTO outbox" in statement) as calls:
        async with db.writer() as session, unit_of_work(session):
            for event in ("FIRST", "SECOND", "THIRD"):
                emit(session, "t", event, {"n": event}, clock.now())
    assert await _written(db) == ["FIRST", "SECOND", "THIRD"]
    assert len(calls.seen) == (1 if db.is_sqlite else 0)


async def test_a_savepoint_still_open_at_a_use_case_s_commit_is_written_with_the_rest(db, clock):
    async with db.writer() as session, unit_of_work(session):
        emit(session, "t", "BEFORE", {}, clock.now())
        await session.begin_nested()
        emit(session, "t", "INSIDE", {}, clock.now())
    assert await _written(db) == ["BEFORE", "INSIDE"]


async def test_a_savepoint_rolled_back_in_a_use_case_takes_only_its_own(db, clock):
    async with db.writer() as session, unit_of_work(session):
        emit(session, "t", "BEFORE", {}, clock.now())
        savepoint = await session.begin_nested()
        emit(session, "t", "INSIDE", {}, clock.now())
        await savepoint.rollback()
        emit(session, "t", "AFTER", {}, clock.now())
    assert await _written(db) == ["BEFORE", "AFTER"]


async def test_a_message_that_cannot_be_written_fails_its_use_case_and_nothing_is_written(db, clock):
    with pytest.raises(sa.exc.StatementError):
        async with db.writer() as session, unit_of_work(session):
            emit(session, "t", "FINE", {}, clock.now())
            emit(session, "t", "BAD", {"not json": object()}, clock.now())
    assert await _written(db) == []
