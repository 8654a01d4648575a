"""common.rows.new_row: a new row built as the model's constructor builds it, for rows a prebuilt statement
writes (the booking and its task), without the constructor's attribute event per column."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from server.domains.bookings.models import Booking
from server.domains.catalog.models import ProductSku
from server.domains.common.rows import column_values, new_row
from server.domains.stores.models import Store
from server.domains.tasks.models import Task
from tests.server.common.table_models import each_table_model

NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
TASK = {
    "kind": "RECEPTION",
    "store_id": 1,
    "booking_id": 2,
    "person_id": 3,
    "assignment_reason": "",
    "status": "OPEN",
    "priority": "HIGH",
    "customer_type": "WALK_IN",
    "due_at": NOW,
    "created_at": NOW,
    "updated_at": NOW,
}


def test_a_new_row_is_what_the_constructor_makes():
    built, constructed = new_row(Task, **TASK), Task(**TASK)
    assert built.model_dump() == constructed.model_dump()
    assert built.escalations == 0 and built.id is None and built.assignee_id is None  # the defaults
    assert sa.inspect(built).transient


def test_each_row_calls_the_default_factories_anew():
    first, second = (
        new_row(
            Booking,
            person_id=1,
            store_id=1,
            slot_start=NOW,
            slot_end=NOW,
            status="CONFIRMED",
            source="DIRECT",
            created_by="customer:1",
        )
        for _ in range(2)
    )
    assert first.qr_nonce and first.qr_nonce != second.qr_nonce
    assert first.created_at.tzinfo is not None


def test_rows_do_not_share_a_mutable_default():
    first, second = (new_row(ProductSku, product_id=1, code=code, price_amount=100, currency="CNY") for code in "AB")
    first.attributes["shade"] = "01"
    assert second.attributes == {}


def test_a_name_that_is_no_column_is_refused():
    with pytest.raises(TypeError, match="no column \\['assignee'\\]"):
        new_row(Task, **TASK, assignee=4)


def test_a_column_without_a_default_left_out_is_refused():
    with pytest.raises(TypeError, match="missing \\['person_id'\\]"):
        new_row(Task, **{name: value for name, value in TASK.items() if name != "person_id"})


async def test_a_new_row_added_to_a_session_is_written(db):
    async with db.writer() as session:
        store = new_row(
            Store,
            code="S900",
            name="新店",
            city="上海",
            address="南京西路 1 号",
            latitude=31.23,
            longitude=121.47,
            timezone="Asia/Shanghai",
            opening_hours=[],
        )
        session.add(store)
        await session.commit()
        store_id = store.id
    async with db.reader() as session:
        written = await session.get(Store, store_id)
        assert (written.code, written.name, written.active, written.opening_hours) == ("S900", "新店", True, [])


@each_table_model
def test_every_default_of_every_table_is_the_constructors(model):
    """Given only its required columns, each model's row has what its constructor fills in: the same values,
    a factory's value of the same type (a nonce, a time: made anew)."""
    required = {name: f"given-{name}" for name, field in model.model_fields.items() if field.is_required()}
    built, constructed = new_row(model, **required), model(**required)
    assert built.__dict__.keys() - {"_sa_instance_state"} == constructed.__dict__.keys() - {"_sa_instance_state"}
    for name, field in model.model_fields.items():
        mine, theirs = getattr(built, name), getattr(constructed, name)
        if field.default_factory is None:
            assert mine == theirs, name
        else:
            assert type(mine) is type(theirs), name
            if isinstance(mine, (list, dict, set)):  # made anew for each row, never one shared value
                assert mine is not getattr(new_row(model, **required), name), name


@each_table_model
def test_a_new_row_s_column_values_are_its_model_dump(model):
    required = {name: f"given-{name}" for name, field in model.model_fields.items() if field.is_required()}
    row = new_row(model, **required)
    assert list(column_values(row).items()) == list(row.model_dump(warnings=False).items())
    assert column_values(row, exclude="id") == row.model_dump(exclude={"id"}, warnings=False)
