"""common.rows.as_model: a row of a model built from its columns' values, detached, exactly as SQLAlchemy's
``make_transient_to_detached`` leaves it (as_model sets only the identity key: a new state has nothing else
to change)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import make_transient_to_detached

from server.domains.common.rows import as_model, model_columns
from server.domains.staff.models import StaffUser
from server.domains.stores.models import Store
from tests.server.common.table_models import each_table_model

STATE = ("key", "identity_token", "committed_state", "expired_attributes", "unloaded", "modified", "expired")


def _values(model: Any) -> list[Any]:
    """Distinct values, whatever their type: as_model does not look at them."""
    return [f"value-{n}" for n in range(len(model_columns(model)))]


def _by_sqlalchemy(model: Any, values: list[Any]) -> Any:
    instance = sa.inspect(model).class_manager.new_instance()
    instance.__dict__.update(zip([attribute.key for attribute in sa.inspect(model).column_attrs], values, strict=True))
    make_transient_to_detached(instance)
    return instance


@each_table_model
def test_a_row_is_what_make_transient_to_detached_makes(model):
    values = _values(model)
    built, expected = as_model(model, values), _by_sqlalchemy(model, values)
    assert type(built) is model and built.__dict__.keys() == expected.__dict__.keys()
    assert all(getattr(built, name) == getattr(expected, name) for name in expected.__dict__ if name[0] != "_")
    state, expected_state = sa.inspect(built), sa.inspect(expected)
    assert state.detached and not state.transient and not state.persistent
    assert {name: getattr(state, name) for name in STATE} == {name: getattr(expected_state, name) for name in STATE}


def test_an_outer_joined_row_that_was_not_found_has_a_key_of_none():
    """staff_with_stores joins an HQ account's missing store: all its columns NULL."""
    store = as_model(Store, [None] * len(model_columns(Store)))
    assert store.id is None and sa.inspect(store).key == (Store, (None,), None)


def test_a_row_with_a_column_too_many_or_too_few_is_refused():
    width = len(model_columns(StaffUser))
    for values in ([1] * (width - 1), [1] * (width + 1)):
        with pytest.raises(ValueError):
            as_model(StaffUser, values)


async def test_a_built_row_is_taken_in_by_a_session_as_the_row_it_stands_for(db, world):
    """Detached with its key: merged without a statement of its own, its change is written as an UPDATE."""
    manager = world.ids["sh.manager"]
    async with db.reader() as session:
        columns = (await session.exec(sa.select(*model_columns(StaffUser)).where(StaffUser.id == manager))).one()
    staff = as_model(StaffUser, list(columns))
    async with db.writer() as session:
        session.add(staff)
        assert sa.inspect(staff).persistent and not session.sync_session.dirty
        staff.display_name = "店长 王"
        await session.commit()
    async with db.reader() as session:
        assert (await session.get(StaffUser, manager)).display_name == "店长 王"
