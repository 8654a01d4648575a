"""Rows read as plain columns and made the session's own (common.rows.held_by, held_rows): as if the session had
read them, without a statement of its own."""

from __future__ import annotations

import sqlalchemy as sa

from server.domains.common.rows import held_by, held_rows, model_columns, select_columns, table_of
from server.domains.staff.models import StaffUser
from server.domains.stores.models import Store
from tests.server.assertions import SessionWay


def _columns_of(model, row_id: int):
    return select_columns(*model_columns(model)).where(table_of(model).c.id == row_id)


async def _values(session, model, row_id: int):
    return (await session.exec(_columns_of(model, row_id))).one()


async def test_a_row_taken_in_is_found_by_key_without_a_statement_and_its_change_is_committed(db, world):
    manager = world.ids["sh.manager"]
    async with db.writer() as session:
        values = await _values(session, StaffUser, manager)
        staff = held_by(session, StaffUser, values)
        assert sa.inspect(staff).persistent and not session.sync_session.dirty
        with SessionWay(db.engine, lambda statement: "FROM staff_user" in statement) as calls:
            assert await session.get(StaffUser, manager) is staff
        assert calls.seen == []
        staff.display_name = "店长 李"
        await session.commit()
    async with db.reader() as session:
        assert (await session.get(StaffUser, manager)).display_name == "店长 李"


async def test_a_row_the_session_holds_keeps_its_own_values(db, world):
    manager = world.ids["sh.manager"]
    async with db.writer() as session:
        staff = await session.get(StaffUser, manager)
        staff.display_name = "not flushed yet"
        values = await _values(session, StaffUser, manager)
        assert held_by(session, StaffUser, values) is staff
        assert staff.display_name == "not flushed yet"
        await session.rollback()


async def test_a_row_a_rollback_expired_takes_the_values_read(db, world):
    manager = world.ids["sh.manager"]
    async with db.writer() as session:
        staff = await session.get(StaffUser, manager)
        await session.rollback()
        assert sa.inspect(staff).expired
        values = await _values(session, StaffUser, manager)
        assert held_by(session, StaffUser, values) is staff
        assert not sa.inspect(staff).expired
        with SessionWay(db.engine, lambda statement: "FROM staff_user" in statement) as calls:
            assert staff.username == values.username  # no refresh: it would need a statement (and a greenlet)
        assert calls.seen == []
        await session.rollback()


async def test_rows_of_an_outer_join_are_none_where_it_found_none(db, world):
    store_id = world.ids["shanghai"]
    statement = (
        select_columns(*model_columns(Store), *model_columns(StaffUser))
        .select_from(table_of(Store))
        .outerjoin(table_of(StaffUser), table_of(StaffUser).c.id == -1)
        .where(table_of(Store).c.id == store_id)
    )
    async with db.writer() as session:
        store, staff = held_rows(session, (await session.exec(statement)).one(), Store, StaffUser)
        assert staff is None
        assert store.id == store_id and await session.get(Store, store_id) is store
        await session.rollback()
