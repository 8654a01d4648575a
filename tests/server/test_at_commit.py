"""Rows written at commit (server/at_commit.py): queued rows of several tables go in one statement on PostgreSQL
just before the use case commits, in the order queued within each table; nothing before the commit, nothing after
a rollback, and a savepoint rolled back takes the rows queued inside it, whatever their table. (The outbox's
messages are such rows: tests/server/test_outbox.py.)"""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
import sqlalchemy as sa

from server.at_commit import insert_at_commit, update_at_commit
from server.outbox import OUTBOX, OutboxMessage, OutboxReceipt
from server.prepared import LISTED_ROWS
from server.unit_of_work import unit_of_work

RECEIPTS = OutboxReceipt.__table__


def _message(event: str, clock) -> dict:
    return {"topic": "t", "event": event, "payload": {"n": event}, "created_at": clock.now(), "published_at": None}


def _receipt(consumer: str, clock, message_id: int = 1) -> dict:
    return {"consumer": consumer, "message_id": message_id, "outcome": None, "received_at": clock.now()}


async def _written(db) -> tuple[list[str], list[str]]:
    async with db.reader() as session:
        events = (await session.exec(sa.select(OutboxMessage.event).order_by(OutboxMessage.id))).scalars()
        consumers = (await session.exec(sa.select(OutboxReceipt.consumer).order_by(OutboxReceipt.consumer))).scalars()
        return list(events), list(consumers)


class _Writes:
    """The INSERT and UPDATE statements the engine runs while active."""

    def __init__(self, db) -> None:
        self.engine, self.seen = db.engine.sync_engine, []

    def _seen(self, _connection, _cursor, statement: str, *_rest) -> None:
        if "INSERT" in statement or "UPDATE" in statement:
            self.seen.append(statement)

    def __enter__(self):
        sa.event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._seen)


async def test_rows_of_several_tables_are_written_at_the_commit_in_one_statement_on_postgresql(db, clock):
    with _Writes(db) as writes:
        async with db.writer() as session, unit_of_work(session):
            insert_at_commit(session, OUTBOX, [_message("FIRST", clock), _message("SECOND", clock)])
            insert_at_commit(session, RECEIPTS, [_receipt("b", clock), _receipt("a", clock)])
            insert_at_commit(session, OUTBOX, [_message("THIRD", clock)])
            assert writes.seen == []  # nothing before the commit: the transaction itself does not see them
            assert (await session.exec(sa.select(sa.func.count()).select_from(OUTBOX))).one()[0] == 0
    assert await _written(db) == (["FIRST", "SECOND", "THIRD"], ["a", "b"])
    assert len(writes.seen) == (2 if db.is_sqlite else 1)  # SQLite: one executemany per table


@pytest.mark.parametrize("watched", [False, True], ids=["asyncpg", "watched"])
@pytest.mark.parametrize("count", [1, LISTED_ROWS, LISTED_ROWS + 1, 3 * LISTED_ROWS])
async def test_few_rows_are_listed_and_many_go_as_arrays_and_both_are_written_in_order_with_their_values(
    db, clock, count, watched
):
    """Watched, the engine sees the statement (and runs it its own way); unwatched, asyncpg runs it (on PostgreSQL)."""
    messages = [{**_message(f"E{n:03}", clock), "created_at": clock.now() + timedelta(seconds=n)} for n in range(count)]
    messages[-1] = {**messages[-1], "payload": {"nested": [1, None, "é"]}, "published_at": clock.now()}
    with _Writes(db) if watched else contextlib.nullcontext() as writes:
        async with db.writer() as session, unit_of_work(session):
            insert_at_commit(session, OUTBOX, messages)
            insert_at_commit(session, RECEIPTS, [_receipt("only", clock)])
    async with db.reader() as session:
        written = (await session.exec(sa.select(OUTBOX).order_by(OUTBOX.c.id))).all()
    assert [(row.event, row.payload, row.created_at, row.published_at) for row in written] == [
        (m["event"], m["payload"], m["created_at"], m["published_at"]) for m in messages
    ]
    if watched:
        assert len(writes.seen) == (2 if db.is_sqlite else 1)
        if not db.is_sqlite:
            assert ("unnest" in writes.seen[0]) == (count > LISTED_ROWS)


async def test_a_rolled_back_use_case_writes_none_of_them_then_or_later(db, clock):
    async with db.writer() as session:
        with pytest.raises(RuntimeError):
            async with unit_of_work(session):
                insert_at_commit(session, OUTBOX, [_message("GONE", clock)])
                insert_at_commit(session, RECEIPTS, [_receipt("gone", clock)])
                raise RuntimeError("refused")
        async with unit_of_work(session):
            insert_at_commit(session, RECEIPTS, [_receipt("later", clock)])
    assert await _written(db) == ([], ["later"])


async def test_a_rolled_back_savepoint_takes_the_rows_queued_inside_it_of_every_table(db, clock):
    async with db.writer() as session, unit_of_work(session):
        insert_at_commit(session, RECEIPTS, [_receipt("before", clock)])
        savepoint = await session.begin_nested()
        insert_at_commit(session, OUTBOX, [_message("INSIDE", clock)])
        insert_at_commit(session, RECEIPTS, [_receipt("inside", clock)])
        await savepoint.rollback()
        released = await session.begin_nested()
        insert_at_commit(session, OUTBOX, [_message("RELEASED", clock)])
        await released.commit()
    assert await _written(db) == (["RELEASED"], ["before"])


async def test_a_commit_of_one_s_own_writes_them_too(db, clock):
    """Not through a use case: the session's commit writes what is left (SQLAlchemy's way)."""
    async with db.writer() as session:
        insert_at_commit(session, RECEIPTS, [_receipt("own", clock)])
        await session.commit()
    assert await _written(db) == ([], ["own"])


async def test_a_row_that_cannot_be_written_fails_the_commit_and_nothing_of_the_transaction_is_written(db, clock):
    """Written late, refused all the same: the same key twice is a unique violation at the commit."""
    with pytest.raises(sa.exc.IntegrityError):
        async with db.writer() as session, unit_of_work(session):
            insert_at_commit(session, OUTBOX, [_message("FINE", clock)])
            insert_at_commit(session, RECEIPTS, [_receipt("twice", clock), _receipt("twice", clock)])
    assert await _written(db) == ([], [])


async def test_a_column_with_a_python_side_default_must_be_given_when_queued(db, clock):
    row = _message("NO TIME", clock)
    del row["created_at"]  # OutboxMessage.created_at defaults to now in Python
    async with db.writer() as session:
        with pytest.raises(TypeError, match="created_at"):
            insert_at_commit(session, OUTBOX, [row])  # here, not at the commit
        await session.commit()
    assert await _written(db) == ([], [])


async def test_a_row_updated_twice_takes_the_later_values_on_both_databases(db, clock):
    async with db.writer() as session, unit_of_work(session):
        insert_at_commit(session, OUTBOX, [_message("ONE", clock)])
    async with db.reader() as session:
        message_id = (await session.exec(sa.select(OutboxMessage.id))).scalar_one()
    for commit_of_its_own in (False, True):
        async with db.writer() as session:
            update_at_commit(session, OUTBOX, [{"id": message_id, "event": "EARLIER", "topic": "kept"}])
            update_at_commit(session, OUTBOX, [{"id": message_id, "event": f"LATER-{commit_of_its_own}"}])
            if commit_of_its_own:
                await session.commit()  # the commit listener writes them
            else:
                async with unit_of_work(session):  # a use case's commit
                    pass
        async with db.reader() as session:
            row = (await session.exec(sa.select(OutboxMessage.event, OutboxMessage.topic))).one()
        assert tuple(row) == (f"LATER-{commit_of_its_own}", "kept")


async def test_rows_queued_late_keep_their_times(db, clock):
    later = clock.now() + timedelta(hours=1)
    async with db.writer() as session, unit_of_work(session):
        insert_at_commit(session, OUTBOX, [{**_message("TIMED", clock), "created_at": later}])
    async with db.reader() as session:
        assert (await session.exec(sa.select(OutboxMessage.created_at))).scalar_one() == later


async def test_rows_written_before_are_updated_by_key_with_the_inserts_in_one_statement_on_postgresql(db, clock):
    async with db.writer() as session, unit_of_work(session):
        insert_at_commit(session, OUTBOX, [_message("FIRST", clock), _message("SECOND", clock)])
    async with db.reader() as session:
        first, second = (await session.exec(sa.select(OutboxMessage.id).order_by(OutboxMessage.id))).scalars()
    published = clock.now() + timedelta(minutes=5)
    with _Writes(db) as writes:
        async with db.writer() as session, unit_of_work(session):
            update_at_commit(session, OUTBOX, [{"id": second, "published_at": published}])
            insert_at_commit(session, RECEIPTS, [_receipt("with it", clock, message_id=second)])
            update_at_commit(session, OUTBOX, [{"id": first, "published_at": published, "event": "RENAMED"}])
    async with db.reader() as session:
        rows = (await session.exec(sa.select(OutboxMessage.event, OutboxMessage.published_at).order_by("id"))).all()
    assert [tuple(row) for row in rows] == [("RENAMED", published), ("SECOND", published)]
    assert await _written(db) == (["RENAMED", "SECOND"], ["with it"])
    assert len(writes.seen) == (3 if db.is_sqlite else 1)  # SQLite: the INSERT, then each shape of UPDATE


async def test_several_rows_updated_with_the_same_columns_go_in_one_statement_on_postgresql(db, clock):
    async with db.writer() as session, unit_of_work(session):
        insert_at_commit(session, OUTBOX, [_message(name, clock) for name in ("A", "B", "C")])
    async with db.reader() as session:
        ids = list((await session.exec(sa.select(OutboxMessage.id).order_by(OutboxMessage.id))).scalars())
    with _Writes(db) as writes:
        async with db.writer() as session, unit_of_work(session):
            update_at_commit(session, OUTBOX, [{"id": i, "event": f"{n}-RENAMED"} for n, i in enumerate(ids[:2])])
            update_at_commit(session, OUTBOX, [{"id": ids[2], "topic": "alone"}])  # columns of its own: one row
    async with db.reader() as session:
        rows = (await session.exec(sa.select(OutboxMessage.event, OutboxMessage.topic).order_by("id"))).all()
    assert [tuple(row) for row in rows] == [("0-RENAMED", "t"), ("1-RENAMED", "t"), ("C", "alone")]
    assert len(writes.seen) == (2 if db.is_sqlite else 1)


async def test_an_update_queued_in_a_savepoint_rolled_back_is_dropped(db, clock):
    async with db.writer() as session, unit_of_work(session):
        insert_at_commit(session, OUTBOX, [_message("KEPT", clock)])
    async with db.writer() as session, unit_of_work(session):
        message_id = (await session.exec(sa.select(OutboxMessage.id))).scalar_one()
        savepoint = await session.begin_nested()
        update_at_commit(session, OUTBOX, [{"id": message_id, "event": "UNDONE"}])
        await savepoint.rollback()
    assert await _written(db) == (["KEPT"], [])
