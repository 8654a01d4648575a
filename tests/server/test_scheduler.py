"""The scheduler's own job (server/scheduler.py): purging what served its purpose."""

from __future__ import annotations

from datetime import timedelta

from server.outbox import OutboxMessage
from tests.conftest import count_rows
from tests.server.assertions import run_jobs


async def test_housekeeping_purges_what_served_its_purpose(api, db, world, clock):
    from server.domains.identity.models import SmsCode

    old, fresh = clock.now() - timedelta(days=2), clock.now()
    async with db.writer() as session:
        session.add_all(
            [
                OutboxMessage(topic="t", event="E", payload={}, created_at=old, published_at=old),
                OutboxMessage(topic="t", event="E", payload={}, created_at=old),  # never published: kept
                OutboxMessage(topic="t", event="E", payload={}, created_at=fresh, published_at=fresh),
                SmsCode(phone="+8613812345678", code_hash="h", created_at=old, expires_at=old),
                SmsCode(
                    phone="+8613812345678", code_hash="h", created_at=fresh, expires_at=fresh + timedelta(minutes=5)
                ),
            ]
        )
        await session.commit()
    assert (await run_jobs(api))["purge_expired"] == 2
    assert await count_rows(db, "outbox") == 2 and await count_rows(db, "sms_code") == 1
