"""Rows read as plain columns and made the session's own (common.rows.held_by, held_rows): as if the session had
read them, without a statement of its own."""

from __future__ import annotations

import sqlalchemy as sa

from server.domains.common.rows import held_by, held_rows, model_columns, row_by_key, select_columns, table_of
from server.domains.staff.models import StaffUser
from server.domains.stores.models import Store
from server.prepared import run
from tests.server.assertions import SessionWay


def _columns_of(model):
    return select_columns(*model_columns(model)).where(table_of(model).c.id == sa.bindparam("id"))


COLUMNS = {model: _columns_of(model) for model in (Store, StaffUser)}


async def _values(session, model, row_id: int):
    """Read as the hot paths read them: by asyncpg itself on PostgreSQL (aware times, JSON converted so)."""
    return (await run(session, COLUMNS[model], {"id": row_id})).one()


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
        assert not sa.inspect(staff).unloaded
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


async def test_a_column_expired_alone_is_filled_in_and_a_change_made_since_is_kept(db, world):
    store_id = world.ids["shanghai"]
    async with db.writer() as session:
        store = await session.get(Store, store_id)
        expected = store.model_dump()
        session.sync_session.expire(store, ["opening_hours"])
        store.name = "changed before the read"
        values = await _values(session, Store, store_id)
        assert held_by(session, Store, values) is store
        with SessionWay(db.engine, lambda statement: "FROM store" in statement) as calls:
            assert store.opening_hours == expected["opening_hours"]
        assert calls.seen == []
        assert store.name == "changed before the read"  # flushed before the read, as the session does
        await session.rollback()


async def test_a_store_read_so_equals_the_session_s_own_read(db, world):
    """Every field as the session reads it: floats, JSON, aware datetimes."""
    store_id = world.ids["shanghai"]
    async with db.reader() as session:
        expected = (await session.get(Store, store_id)).model_dump()
    async with db.writer() as session:
        assert held_by(session, Store, await _values(session, Store, store_id)).model_dump() == expected
        await session.rollback()


async def test_a_held_loaded_row_is_found_by_key_without_asking_the_session(db, world):
    manager = world.ids["sh.manager"]
    async with db.writer() as session:
        staff = await session.get(StaffUser, manager)

        async def no_get(*_args, **_kwargs):
            raise AssertionError("asked the session (a greenlet hop) for a row it holds")

        session.get = no_get
        assert await row_by_key(session, StaffUser, manager) is staff


async def test_a_row_not_held_or_expired_is_read_as_the_session_reads_it(db, world):
    manager, guide = world.ids["sh.manager"], world.ids["sh.guide"]
    async with db.writer() as session:
        staff = await session.get(StaffUser, manager)
        await session.execute(
            sa.update(table_of(StaffUser)).where(table_of(StaffUser).c.id == manager).values(display_name="改了")
        )
        session.expire(staff)
        with SessionWay(db.engine, lambda statement: "FROM staff_user" in statement) as calls:
            assert await row_by_key(session, StaffUser, manager) is staff
            assert (await row_by_key(session, StaffUser, guide)).id == guide
        assert len(calls.seen) == 2
        assert staff.display_name == "改了"
        assert await row_by_key(session, StaffUser, 10**9) is None
        await session.rollback()
