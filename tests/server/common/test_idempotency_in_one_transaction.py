"""A key's result is written with the commit (server.at_commit): the same key used again in the same transaction
still answers with the first result, not with the record's placeholder."""

from __future__ import annotations

import sqlalchemy as sa

from server.domains.common.idempotency import IdempotencyRecord, create_once
from server.outbox import OutboxMessage
from server.unit_of_work import unit_of_work


async def test_a_key_used_twice_in_one_transaction_answers_with_its_first_result(db, clock):
    made: list[OutboxMessage] = []

    async with db.writer() as session, unit_of_work(session):

        async def create() -> OutboxMessage:
            message = OutboxMessage(topic="t", event=f"MADE-{len(made)}", payload={}, created_at=clock.now())
            session.add(message)
            made.append(message)
            return message

        asked = {"actor": "staff:1", "scope": "test", "key": "tap-1", "payload": {"a": 1}, "model": OutboxMessage}
        first = await create_once(session, create=create, **asked)
        again = await create_once(session, create=create, **asked)
    assert again.id == first.id and len(made) == 1
    async with db.reader() as session:
        recorded = (await session.exec(sa.select(IdempotencyRecord.result_id))).scalars().all()
    assert recorded == [first.id]
