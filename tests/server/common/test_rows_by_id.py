"""Rows by primary key (common.lookup.rows_by_id, every loader's read): a reader's come as plain columns, run by
asyncpg itself on PostgreSQL, each field as the session would read it; a writer's are the session's own."""

from __future__ import annotations

import sqlalchemy as sa

from server.domains.common.lookup import rows_by_id
from server.domains.staff.models import StaffUser
from server.domains.stores.models import Store
from tests.server.assertions import SessionWay


async def test_a_reader_s_rows_are_read_as_the_session_reads_them_in_one_short_statement(db, world):
    ids = [world.ids["shanghai"], world.ids["beijing"], 999_999]
    async with db.reader() as session:
        expected = {
            row.id: row.model_dump()
            for row in (await session.exec(sa.select(Store).where(Store.id.in_(ids)))).scalars()
        }
    with SessionWay(db.engine, lambda statement: "FROM store" in statement) as calls:
        async with db.reader() as session:
            found = await rows_by_id(session, Store, ids)
            assert await rows_by_id(session, Store, []) == {}  # nothing to read: no statement
            assert not session.sync_session.identity_map  # rows in no session: the reader writes nothing back
    assert {row_id: row.model_dump() for row_id, row in found.items()} == expected  # float, JSON, aware times
    assert sorted(found) == sorted(ids[:2])  # the unknown id is left out
    assert all(sa.inspect(row).detached for row in found.values())
    assert len(calls.seen) == (1 if db.is_sqlite else 0)


async def test_a_writer_s_rows_are_the_session_s_own_for_its_use_case_to_change(db, world):
    manager = world.ids["sh.manager"]
    async with db.writer() as session:
        staff = (await rows_by_id(session, StaffUser, [manager]))[manager]
        assert sa.inspect(staff).persistent and (await rows_by_id(session, StaffUser, [manager]))[manager] is staff
        staff.display_name = "店长 王"
        await session.commit()
    async with db.reader() as session:
        assert (await rows_by_id(session, StaffUser, [manager]))[manager].display_name == "店长 王"
