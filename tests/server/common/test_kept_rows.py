"""Rows kept for an operation's answer (common.rows.keep) are read again once a rollback expired them."""

from __future__ import annotations

from server.domains.common.lookup import rows_by_id
from server.domains.common.rows import keep
from server.domains.stores.models import Store


async def test_a_kept_row_expired_by_a_rollback_is_read_again(db, world):
    shanghai = world.ids["shanghai"]
    async with db.writer() as session:
        keep(session, await session.get(Store, shanghai))
        await session.rollback()  # a refused step: what the session holds is expired
        found = await rows_by_id(session, Store, [shanghai])
        assert found[shanghai].code == "S001"  # read again, not an expired row that cannot load itself
