"""Store staff book on a customer's behalf and cancel for the store; what they may not do writes nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import count_rows
from tests.server.assertions import assert_forbidden, assert_user_error
from tests.world import gid

from .helpers import BOOK, CANCEL, book, booking_input, customer, give_shifts, next_local

MONDAY = 0
WRITTEN = ("booking", "booking_product", "slot_ledger", "customer_booking_count", "task", "task_history", "outbox")
MY_BOOKINGS = "query { myBookings { edges { node { id status source } } } }"


@pytest.fixture
async def ready(db, world):
    await give_shifts(db, world)
    return world


async def written(db) -> dict[str, int]:
    return {table: await count_rows(db, table) for table in WRITTEN}


async def counters(db) -> tuple[list, list]:
    """(seats booked per slot, upcoming bookings per customer)"""
    async with db.engine.connect() as connection:
        seats = (await connection.execute(sa.text("SELECT booked FROM slot_ledger"))).scalars().all()
        places = (await connection.execute(sa.text("SELECT upcoming FROM customer_booking_count"))).scalars().all()
    return list(seats), list(places)


async def test_a_guide_books_for_a_customer_on_her_behalf(api, db, ready, clock, token_for):
    token, customer_id = await customer(api)
    payload = await book(
        api, await token_for("sh.guide"), ready, next_local(clock, MONDAY, 15), customerId=customer_id, note="电话预约"
    )
    assert payload["errors"] == [] and payload["booking"]["source"] == "STAFF"
    mine = (await api.data(MY_BOOKINGS, token=token))["myBookings"]["edges"]
    assert [e["node"] for e in mine] == [{"id": payload["booking"]["id"], "status": "CONFIRMED", "source": "STAFF"}]
    assert await counters(db) == ([1], [1])
    async with db.engine.connect() as connection:
        created_by = (await connection.execute(sa.text("SELECT created_by FROM booking"))).scalar_one()
    assert created_by == f"staff:{ready.ids['sh.guide']}"


async def test_a_guide_of_another_store_may_not_book_there(api, db, ready, clock, token_for):
    _, customer_id = await customer(api)
    before = await written(db)
    await assert_forbidden(
        api,
        BOOK,
        {"input": booking_input(ready, next_local(clock, MONDAY, 15), customerId=customer_id)},
        await token_for("bj.guide"),
    )
    assert await written(db) == before


@pytest.mark.parametrize(
    "case, code, field",
    [
        ("for nobody", "REQUIRED", ["input", "customerId"]),
        ("for an unknown customer", "NOT_FOUND", ["input", "customerId"]),
        ("an unknown service", "NOT_FOUND", ["input", "serviceId"]),
    ],
)
async def test_staff_bookings_with_bad_input_are_refused_with_nothing_written(
    api, db, ready, clock, token_for, case, code, field
):
    _, customer_id = await customer(api)
    slot = next_local(clock, MONDAY, 15)
    inputs = {
        "for nobody": booking_input(ready, slot),
        "for an unknown customer": booking_input(ready, slot, customerId=gid("Customer", 99999)),
        "an unknown service": booking_input(ready, slot, customerId=customer_id, serviceId=gid("Service", 999)),
    }
    before = await written(db)
    payload = (await api.data(BOOK, {"input": inputs[case]}, await token_for("sh.manager")))["bookingCreate"]
    assert_user_error(payload, code, field, "booking")
    assert await written(db) == before


async def test_a_customer_asking_for_an_unknown_service_books_nothing(api, db, ready, clock):
    token, _ = await customer(api)
    before = await written(db)
    payload = await book(api, token, ready, next_local(clock, MONDAY, 15), serviceId=gid("Service", 999))
    assert_user_error(payload, "NOT_FOUND", ["input", "serviceId"], "booking")
    assert await written(db) == before


async def test_the_store_cancels_with_a_reason_and_frees_the_seat_and_her_place(api, db, ready, clock, token_for):
    token, _ = await customer(api)
    slot = next_local(clock, MONDAY, 15)
    booking_id = (await book(api, token, ready, slot))["booking"]["id"]
    assert await counters(db) == ([1], [1])
    cancelled = (
        await api.data(CANCEL, {"input": {"id": booking_id, "reason": "导购临时请假"}}, await token_for("sh.manager"))
    )["bookingCancel"]
    assert cancelled == {
        "booking": {"id": booking_id, "status": "CANCELLED", "cancelReason": "导购临时请假"},
        "errors": [],
    }
    assert await counters(db) == ([0], [0])
    async with db.engine.connect() as connection:
        by, task = (
            await connection.execute(
                sa.text("SELECT b.cancelled_by, t.status FROM booking b JOIN task t ON t.booking_id = b.id")
            )
        ).one()
    assert (by, task) == (f"staff:{ready.ids['sh.manager']}", "CANCELLED")
    other, _ = await customer(api, "13912345678")
    assert (await book(api, other, ready, slot))["errors"] == []  # the seat is free again


async def test_another_stores_manager_may_not_cancel(api, db, ready, clock, token_for):
    token, _ = await customer(api)
    booking_id = (await book(api, token, ready, next_local(clock, MONDAY, 15)))["booking"]["id"]
    before = (await written(db), await counters(db))
    await assert_forbidden(api, CANCEL, {"input": {"id": booking_id, "reason": "x"}}, await token_for("bj.manager"))
    assert (await written(db), await counters(db)) == before
    async with db.engine.connect() as connection:
        assert (await connection.execute(sa.text("SELECT status FROM booking"))).scalar_one() == "CONFIRMED"
