"""A timeline event written with the commit (``record_person_event(at_commit=True)``, a booking's click): on her
timeline once the transaction commits, on none if it rolls back; an event her profile is projected from is
written at once all the same, so the projection sees it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from server.domains.identity.events import EventType, RawEvent
from server.domains.identity.services import record_person_event
from server.unit_of_work import unit_of_work

from .helpers import T0, event, scalar, send

NOW = T0 + timedelta(hours=2)


async def _her(db) -> int:
    await send(db, event("e1", "phone:13812345678"))
    return await scalar(db, "SELECT id FROM person")


def _click(kind: EventType = EventType.LIVESTREAM_BOOK_CLICK, **fields) -> RawEvent:
    return RawEvent(event_id=f"test:{kind.value}", type=kind, occurred_at=NOW, identifiers=[], **fields)


async def _count(db, kind: EventType) -> int:
    return await scalar(db, "SELECT count(*) FROM customer_event WHERE type = :type", type=kind.value)


async def test_an_event_written_with_the_commit_is_on_her_timeline_after_it(db):
    person_id = await _her(db)
    seen: list[str] = []

    def _seen(_connection, _cursor, statement: str, *_rest) -> None:
        if "INSERT INTO customer_event" in statement:
            seen.append(statement)

    sa.event.listen(db.engine.sync_engine, "before_cursor_execute", _seen)
    try:
        async with db.writer() as session, unit_of_work(session):
            await record_person_event(session, person_id, "test", _click(), NOW, at_commit=True)
            assert seen == []  # not yet
    finally:
        sa.event.remove(db.engine.sync_engine, "before_cursor_execute", _seen)
    assert len(seen) == 1
    assert await _count(db, EventType.LIVESTREAM_BOOK_CLICK) == 1


async def test_a_rolled_back_transaction_leaves_no_event(db):
    person_id = await _her(db)
    with pytest.raises(RuntimeError):
        async with db.writer() as session, unit_of_work(session):
            await record_person_event(session, person_id, "test", _click(), NOW, at_commit=True)
            raise RuntimeError("the booking was refused after all")
    assert await _count(db, EventType.LIVESTREAM_BOOK_CLICK) == 0


async def test_an_event_her_profile_is_projected_from_is_written_at_once(db):
    person_id = await _her(db)
    update = _click(EventType.PROFILE_UPDATE, properties={"city": "Hangzhou"})
    async with db.writer() as session, unit_of_work(session):
        await record_person_event(session, person_id, "test", update, NOW, at_commit=True)
    city = await scalar(db, "SELECT value FROM person_trait WHERE person_id = :id AND name = 'city'", id=person_id)
    assert "Hangzhou" in str(city)
