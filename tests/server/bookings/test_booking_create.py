"""bookingCreate: the seat, the checks, idempotency, and what is written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from server.domains.bookings.models import Booking
from server.domains.stores.models import Store
from tests.conftest import count_rows
from tests.server.assertions import assert_user_error, fetch
from tests.world import gid

from .helpers import BOOK, book, booking_input, customer, give_shifts, iso, next_local

MONDAY, SUNDAY = 0, 6
WRITTEN = ("booking", "booking_product", "slot_ledger", "customer_event")


async def written(db) -> dict[str, int]:
    return {t: await count_rows(db, t) for t in WRITTEN}


@pytest.fixture
async def ready(db, world, api):
    await give_shifts(db, world)
    return world


async def test_a_customer_books_a_free_slot(api, db, ready, clock):
    token, _customer_id = await customer(api)
    slot = next_local(clock, MONDAY, 15)
    payload = await book(api, token, ready, slot, note=" 想试色 ", productIds=[ready.gid("Product", "lipstick")])
    assert payload["errors"] == []
    booking = payload["booking"]
    assert booking["status"] == "CONFIRMED" and booking["source"] == "DIRECT" and booking["note"] == "想试色"
    assert booking["slotStart"] == iso(slot) and booking["slotEnd"] == iso(slot + timedelta(minutes=30))
    assert [p["sku"] for p in booking["products"]] == ["LIP-01"] and booking["store"]["code"] == "S001"
    [row] = await fetch(db, Booking)
    assert row.created_by.startswith("customer:") and row.slot_start == slot
    async with db.engine.connect() as connection:
        assert (await connection.execute(sa.text("SELECT booked FROM slot_ledger"))).scalar_one() == 1
        assert (await connection.execute(sa.text("SELECT upcoming FROM customer_booking_count"))).scalar_one() == 1


async def test_the_last_seat_goes_once(api, db, ready, clock):
    slot = next_local(clock, MONDAY, 15)  # one guide on shift, one customer per guide
    first, _ = await customer(api, "13812345678")
    second, _ = await customer(api, "13912345678")
    assert (await book(api, first, ready, slot))["errors"] == []
    before = await written(db)
    assert_user_error(await book(api, second, ready, slot), "SLOT_FULL", ["input", "slotStart"], "booking")
    assert await written(db) == before


async def test_capacity_follows_the_guides_on_shift(api, db, ready, world, clock):
    await give_shifts(db, world, "sh.guide", "10:00", "22:00")  # a second pattern row: still one guide
    slot = next_local(clock, MONDAY, 15)
    tokens = [(await customer(api, f"1381234567{n}"))[0] for n in range(3)]
    results = [await book(api, t, world, slot) for t in tokens]
    assert [r["errors"][0]["code"] if r["errors"] else "OK" for r in results] == ["OK", "SLOT_FULL", "SLOT_FULL"]


async def test_a_livestream_booking_is_marked_and_reaches_her_timeline(api, db, ready, clock, token_for):
    admin = await token_for("admin")
    created = await api.data(
        """mutation($input: LivestreamCreateInput!) { livestreamCreate(input: $input) {
        livestream { id } errors { code } } }""",
        {
            "input": {
                "title": "双十一直播",
                "hostName": "Lily",
                "teamId": ready.gid("Team", "team"),
                "channel": "DOUYIN",
                "scheduledStart": iso(clock.now() + timedelta(hours=1)),
                "scheduledEnd": iso(clock.now() + timedelta(hours=3)),
            }
        },
        admin,
    )
    livestream_id = created["livestreamCreate"]["livestream"]["id"]
    token, _ = await customer(api)
    payload = await book(api, token, ready, next_local(clock, MONDAY, 15), livestreamId=livestream_id)
    assert payload["errors"] == []
    assert payload["booking"]["source"] == "LIVESTREAM" and payload["booking"]["channel"] == "DOUYIN"
    async with db.engine.connect() as connection:
        kinds = (
            await connection.execute(
                sa.text("SELECT type, store_id FROM customer_event WHERE type <> 'CUSTOMER_LOGIN'")
            )
        ).all()
    assert kinds == [("LIVESTREAM_BOOK_CLICK", ready.ids["shanghai"])]


async def test_a_retry_with_the_same_key_returns_the_same_booking(api, db, ready, clock):
    token, _ = await customer(api)
    slot = next_local(clock, MONDAY, 15)
    first = await book(api, token, ready, slot, idempotencyKey="tap-1")
    again = await book(api, token, ready, slot, idempotencyKey="tap-1")
    assert first["booking"]["id"] == again["booking"]["id"]
    assert await count_rows(db, "booking") == 1
    other = await book(api, token, ready, slot + timedelta(minutes=30), idempotencyKey="tap-1")
    assert_user_error(other, "IDEMPOTENCY_KEY_REUSED", ["input", "idempotencyKey"], "booking")


async def test_the_answer_names_the_products_booked_as_stored_and_on_a_retry(api, db, ready, clock):
    """The answer's products are not read back after the booking: they must be the ones stored."""
    token, _ = await customer(api)
    wanted = [ready.gid("Product", "serum"), ready.gid("Product", "lipstick"), ready.gid("Product", "serum")]
    slot = next_local(clock, MONDAY, 15)
    first = await book(api, token, ready, slot, productIds=wanted, idempotencyKey="tap-1")
    again = await book(api, token, ready, slot, productIds=wanted, idempotencyKey="tap-1")
    stored = await api.data(
        "query($id: ID!) { node(id: $id) { ... on Booking { products { sku } } } }",
        {"id": first["booking"]["id"]},
        token,
    )
    skus = sorted(p["sku"] for p in stored["node"]["products"])
    assert len(skus) == 2 and await count_rows(db, "booking_product") == 2
    assert sorted(p["sku"] for p in first["booking"]["products"]) == skus
    assert sorted(p["sku"] for p in again["booking"]["products"]) == skus


async def test_at_most_three_upcoming_bookings(api, db, ready, clock):
    token, _ = await customer(api)
    base = next_local(clock, MONDAY, 15)
    for n in range(3):
        assert (await book(api, token, ready, base + timedelta(minutes=30 * n)))["errors"] == []
    before = await written(db)
    payload = await book(api, token, ready, base + timedelta(hours=3))
    assert_user_error(payload, "TOO_MANY_ACTIVE_BOOKINGS", ["input"], "booking")
    assert await written(db) == before


async def test_a_refused_booking_takes_back_both_counters(api, db, ready, clock):
    """Her place and the seat are taken together (one statement on PostgreSQL): whichever refuses, the other
    is given back, and the first rule checked answers (her limit before a full slot)."""
    counters = "SELECT (SELECT sum(booked) FROM slot_ledger), (SELECT sum(upcoming) FROM customer_booking_count)"
    slot = next_local(clock, MONDAY, 15)  # one seat
    first, _ = await customer(api, "13812345678")
    second, _ = await customer(api, "13912345678")
    for n in range(3):
        assert (await book(api, first, ready, slot + timedelta(minutes=30 * n)))["errors"] == []
    async with db.engine.connect() as connection:
        before = tuple((await connection.execute(sa.text(counters))).one())
    assert before == (3, 3)
    full_for_her = await book(api, first, ready, slot + timedelta(hours=3))  # a free seat, but her limit
    assert_user_error(full_for_her, "TOO_MANY_ACTIVE_BOOKINGS", ["input"], "booking")
    both_refuse = await book(api, first, ready, slot)  # her limit and a full slot: her limit answers
    assert_user_error(both_refuse, "TOO_MANY_ACTIVE_BOOKINGS", ["input"], "booking")
    assert_user_error(await book(api, second, ready, slot), "SLOT_FULL", ["input", "slotStart"], "booking")
    async with db.engine.connect() as connection:
        assert tuple((await connection.execute(sa.text(counters))).one()) == before


async def test_cancelling_frees_the_seat_and_her_place(api, db, ready, clock):
    token, _ = await customer(api)
    other, _ = await customer(api, "13912345678")
    slot = next_local(clock, MONDAY, 15)
    booking = (await book(api, token, ready, slot))["booking"]
    cancelled = (
        await api.data(
            """mutation($input: BookingCancelInput!) { bookingCancel(input: $input) {
        booking { status cancelReason } errors { code } } }""",
            {"input": {"id": booking["id"], "reason": "有事"}},
            token,
        )
    )["bookingCancel"]
    assert cancelled == {"booking": {"status": "CANCELLED", "cancelReason": "有事"}, "errors": []}
    assert (await book(api, other, ready, slot))["errors"] == []
    async with db.engine.connect() as connection:
        counts = dict(
            (await connection.execute(sa.text("SELECT person_id, upcoming FROM customer_booking_count"))).all()
        )
    assert sorted(counts.values()) == [0, 1]


async def test_the_hour_that_repeats_when_the_clocks_go_back_books_only_its_own_instants(api, db, world, clock):
    """Berlin, 25 October 2026: 02:00-03:00 happens twice. A store open 01:00-02:45 (the first time) has a slot at
    02:00 CEST (00:00 UTC); 02:00 CET (01:00 UTC) is after it closed and is refused, not booked as the other."""
    async with db.writer() as session:
        store = await session.get(Store, world.ids["shanghai"])
        store.timezone = "Europe/Berlin"
        store.opening_hours = [{"weekday": SUNDAY, "opens": "01:00", "closes": "02:45"}]
        await session.commit()
    await give_shifts(db, world, "sh.guide", "00:00", "04:00", weekdays=[SUNDAY])
    clock.current = datetime(2026, 10, 20, 12, tzinfo=UTC)
    token, _ = await customer(api)
    before = await written(db)
    second_two_o_clock = datetime(2026, 10, 25, 1, 0, tzinfo=UTC)
    assert_user_error(
        await book(api, token, world, second_two_o_clock), "SLOT_NOT_ALIGNED", ["input", "slotStart"], "booking"
    )
    assert await written(db) == before
    first_two_o_clock = datetime(2026, 10, 25, 0, 0, tzinfo=UTC)
    booked = await book(api, token, world, first_two_o_clock)
    assert booked["errors"] == [] and booked["booking"]["slotStart"] == iso(first_two_o_clock)
    [row] = await fetch(db, Booking)
    assert row.slot_start == first_two_o_clock


@pytest.mark.parametrize(
    "case, code, field",
    [
        ("past", "SLOT_IN_PAST", ["input", "slotStart"]),
        ("too soon", "SLOT_TOO_SOON", ["input", "slotStart"]),
        ("not aligned", "SLOT_NOT_ALIGNED", ["input", "slotStart"]),
        ("closed day", "STORE_CLOSED", ["input", "slotStart"]),
        ("after hours", "STORE_CLOSED", ["input", "slotStart"]),
        ("no guide", "SLOT_FULL", ["input", "slotStart"]),
        ("unknown store", "NOT_FOUND", ["input", "storeId"]),
        ("unknown product", "NOT_FOUND", ["input", "productIds"]),
        ("unknown livestream", "NOT_FOUND", ["input", "livestreamId"]),
        ("service not offered", "SERVICE_NOT_OFFERED", ["input", "serviceId"]),
        ("long note", "TOO_LONG", ["input", "note"]),
    ],
)
async def test_bad_requests_are_refused_with_nothing_written(api, db, ready, clock, case, code, field):
    clock.current = next_local(clock, MONDAY, 12, 50)  # a Monday afternoon, store-local
    token, _ = await customer(api)  # only the Shanghai guide has shifts
    monday = next_local(clock, MONDAY, 15)
    inputs = {
        "past": booking_input(ready, clock.now() - timedelta(minutes=20)),
        "too soon": booking_input(ready, clock.now() + timedelta(minutes=10)),
        "not aligned": booking_input(ready, monday + timedelta(minutes=10)),
        "closed day": booking_input(ready, next_local(clock, SUNDAY, 15)),
        "after hours": booking_input(ready, next_local(clock, MONDAY, 22)),
        "no guide": booking_input(ready, monday, storeId=ready.gid("Store", "beijing")),
        "unknown store": booking_input(ready, monday, storeId=gid("Store", 999)),
        "unknown product": booking_input(ready, monday, productIds=[gid("Product", 999)]),
        "unknown livestream": booking_input(ready, monday, livestreamId=gid("Livestream", 999)),
        "service not offered": booking_input(
            ready, monday, storeId=ready.gid("Store", "beijing"), serviceId=ready.gid("Service", "trial")
        ),
        "long note": booking_input(ready, monday, note="很" * 501),
    }
    before = await written(db)
    payload = (await api.data(BOOK, {"input": inputs[case]}, token))["bookingCreate"]
    assert_user_error(payload, code, field, "booking")
    assert await written(db) == before


RESCHEDULE = """mutation($input: BookingRescheduleInput!) { bookingReschedule(input: $input) {
  booking { slotStart status } errors { code field } } }"""


async def seats(db) -> dict:
    async with db.engine.connect() as connection:
        rows = (await connection.execute(sa.text("SELECT slot_start, booked FROM slot_ledger"))).all()
    return {str(start)[:16]: booked for start, booked in rows}


async def test_rescheduling_moves_the_seat_and_the_task(api, db, ready, clock):
    token, _ = await customer(api)
    old = next_local(clock, MONDAY, 15)
    booking = (await book(api, token, ready, old))["booking"]
    new = old + timedelta(hours=2)
    moved = await api.data(RESCHEDULE, {"input": {"id": booking["id"], "slotStart": iso(new)}}, token)
    assert moved["bookingReschedule"] == {"booking": {"slotStart": iso(new), "status": "CONFIRMED"}, "errors": []}
    assert sorted((await seats(db)).values()) == [0, 1]
    async with db.engine.connect() as connection:
        due = (await connection.execute(sa.text("SELECT due_at FROM task"))).scalar_one()
    assert str(due)[:16] == str(new.replace(tzinfo=None))[:16] or due == new


async def test_a_reschedule_to_a_full_slot_keeps_the_old_seat(api, db, ready, clock):
    token, _ = await customer(api)
    other, _ = await customer(api, "13912345678")
    old, full = next_local(clock, MONDAY, 15), next_local(clock, MONDAY, 16)
    booking = (await book(api, token, ready, old))["booking"]
    assert (await book(api, other, ready, full))["errors"] == []
    before = await seats(db)
    moved = await api.data(RESCHEDULE, {"input": {"id": booking["id"], "slotStart": iso(full)}}, token)
    assert_user_error(moved["bookingReschedule"], "SLOT_FULL", ["input", "slotStart"], "booking")
    assert await seats(db) == before
    [row] = [b for b in await fetch(db, Booking) if b.slot_start == old]
    assert row.status == "CONFIRMED"
