"""More OneID rules: the survivor tie-break, bookings following a merge, the configurable blocked values."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa

from server.domains.identity.identifiers import DEFAULT_BLOCKED_VALUES
from tests.server.bookings.helpers import book, customer, give_shifts, next_local

from .helpers import event, scalar, send
from .test_api_ingest import create_source, ev, ingest, person_id, top_level_code

P1, P2 = "phone:13812345678", "phone:13912345678"
MONDAY, TUESDAY = 0, 1
BOOKING_CUSTOMER = "query($id: ID!) { node(id: $id) { ... on Booking { id customer { id } } } }"
MY_BOOKINGS = "query { myBookings { edges { node { id status } } } }"
CUSTOMER_VIEW = "query($id: ID!) { customer(id: $id) { id identifiers { value } } }"
CANCEL = """mutation($input: BookingCancelInput!) { bookingCancel(input: $input) {
  booking { status } errors { code } } }"""


# --- survivor tie-break --------------------------------------------------------------------------


async def test_persons_created_at_the_same_instant_merge_into_the_lowest_id(db):
    [a] = await send(db, event("e1", "email:ann@example.com"))
    [b] = await send(db, event("e2", "unionid:u-bea"))  # same `now`: the same created_at
    assert a.person_id < b.person_id
    assert await scalar(db, "SELECT count(DISTINCT created_at) FROM person") == 1
    # Bea's identifier comes first and outranks Ann's: still the lower id survives.
    [joined] = await send(db, event("e3", "unionid:u-bea", "email:ann@example.com"))
    assert joined.person_id == a.person_id
    assert await scalar(db, "SELECT merged_into_id FROM person WHERE id = :b", b=b.person_id) == a.person_id
    assert await scalar(db, "SELECT merged_into_id FROM person WHERE id = :a", a=a.person_id) is None
    assert (
        await scalar(
            db,
            "SELECT count(*) FROM person_merge WHERE survivor_id = :a AND merged_id = :b",
            a=a.person_id,
            b=b.person_id,
        )
        == 1
    )


async def test_the_earliest_created_survives_even_with_a_higher_id(db):
    [a] = await send(db, event("e1", P1))
    [b] = await send(db, event("e2", P2))
    async with db.engine.begin() as connection:  # Bea was first seen before Ann (e.g. an import of old data)
        await connection.execute(
            sa.text("UPDATE person SET created_at = :at WHERE id = :b"),
            {"at": datetime(2020, 1, 1, tzinfo=UTC), "b": b.person_id},
        )
    [joined] = await send(db, event("e3", P1, P2))
    assert joined.person_id == b.person_id
    assert await scalar(db, "SELECT merged_into_id FROM person WHERE id = :a", a=a.person_id) == b.person_id


async def test_persons_created_in_one_batch_merge_into_the_lowest_id(db):
    a, b, c = await send(db, event("e1", P1), event("e2", P2), event("e3", "openid:o3"))
    assert a.person_id < b.person_id < c.person_id
    [joined] = await send(db, event("e4", "openid:o3", P2, P1))
    assert joined.person_id == a.person_id
    assert await scalar(db, "SELECT count(*) FROM person WHERE merged_into_id = :a", a=a.person_id) == 2
    assert await scalar(db, "SELECT count(DISTINCT person_id) FROM identifier") == 1


# --- bookings follow a merge ---------------------------------------------------------------------


async def booked_then_linked(api, key, db, world, clock) -> tuple[str, str, str, str]:
    """An older person (openid), then Bea signs in by phone and books; an event joins them.

    Returns (older customer id, Bea's customer id, Bea's token, her booking id)."""
    await give_shifts(db, world)
    older = (await ingest(api, key, ev("old", "openid:o-old")))["results"][0]["customerId"]
    clock.advance(minutes=1)
    token, bea = await customer(api, "13812345678")
    booking = await book(api, token, world, next_local(clock, MONDAY, 15))
    assert booking["errors"] == []
    linked = await ingest(api, key, ev("link", P1, "openid:o-old"))
    assert linked["results"][0]["customerId"] == older != bea
    return older, bea, token, booking["booking"]["id"]


async def upcoming(db, pid: int) -> int:
    return await scalar(db, "SELECT coalesce(sum(upcoming), 0) FROM customer_booking_count WHERE person_id = :p", p=pid)


async def test_a_merged_customers_booking_moves_to_the_survivor(api, key, admin, db, world, clock):
    older, _, _, booking = await booked_then_linked(api, key, db, world, clock)
    assert await scalar(db, "SELECT person_id FROM booking") == person_id(older)
    node = (await api.data(BOOKING_CUSTOMER, {"id": booking}, admin))["node"]
    assert node == {"id": booking, "customer": {"id": older}}


async def test_the_survivor_is_visible_to_the_store_through_the_moved_booking(api, key, token_for, db, world, clock):
    older, _, _, _ = await booked_then_linked(api, key, db, world, clock)
    view = (await api.data(CUSTOMER_VIEW, {"id": older}, await token_for("sh.guide")))["customer"]
    assert view["id"] == older and "+8613812345678" in {i["value"] for i in view["identifiers"]}
    assert top_level_code(await api(CUSTOMER_VIEW, {"id": older}, await token_for("bj.guide"))) == "FORBIDDEN"


async def test_her_old_sign_in_lists_the_moved_booking(api, key, db, world, clock):
    _, _, token, booking = await booked_then_linked(api, key, db, world, clock)
    mine = (await api.data(MY_BOOKINGS, token=token))["myBookings"]["edges"]
    assert [e["node"] for e in mine] == [{"id": booking, "status": "CONFIRMED"}]


async def test_the_upcoming_count_moves_to_the_survivor(api, key, db, world, clock):
    older, bea, _, _ = await booked_then_linked(api, key, db, world, clock)
    assert await upcoming(db, person_id(older)) == 1
    assert await upcoming(db, person_id(bea)) == 0


async def test_upcoming_counts_of_two_booked_customers_add_up_and_cancelling_releases_the_survivors(
    api, key, db, world, clock
):
    await give_shifts(db, world)
    ann_token, ann = await customer(api, "13912345678")
    assert (await book(api, ann_token, world, next_local(clock, MONDAY, 15)))["errors"] == []
    clock.advance(minutes=1)
    bea_token, bea = await customer(api, "13812345678")
    bea_booking = (await book(api, bea_token, world, next_local(clock, TUESDAY, 15)))["booking"]["id"]
    assert (await ingest(api, key, ev("link", P1, P2)))["results"][0]["customerId"] == ann
    assert await upcoming(db, person_id(ann)) == 2 and await upcoming(db, person_id(bea)) == 0
    assert (
        await scalar(db, "SELECT count(*) FROM booking WHERE person_id = :a AND status = 'CONFIRMED'", a=person_id(ann))
        == 2
    )
    cancelled = (await api.data(CANCEL, {"input": {"id": bea_booking}}, bea_token))["bookingCancel"]
    assert cancelled == {"booking": {"status": "CANCELLED"}, "errors": []}
    assert await upcoming(db, person_id(ann)) == 1 and await upcoming(db, person_id(bea)) == 0


# --- configurable blocked values -----------------------------------------------------------------


async def two_with_one_app_id(api, admin) -> tuple[str, str]:
    """Two events with different phones and the same APP_USER_ID "test-user": their customers."""
    key = (await create_source(api, admin))["apiKey"]
    answer = await ingest(api, key, ev("e1", P1, "app:test-user"), ev("e2", P2, "app:test-user"))
    assert [r["status"] for r in answer["results"]] == ["ACCEPTED", "ACCEPTED"]
    return answer["results"][0]["customerId"], answer["results"][1]["customerId"]


async def test_a_value_is_linked_while_it_is_not_blocked(api, admin, db):
    first, second = await two_with_one_app_id(api, admin)
    assert first == second
    assert await scalar(db, "SELECT count(*) FROM identifier WHERE value = 'test-user'") == 1


async def test_a_value_blocked_by_setting_never_links(app_factory, admin, db, monkeypatch):
    blocked = [*DEFAULT_BLOCKED_VALUES, "Test-User"]
    monkeypatch.setenv("IRS_IDENTITY_BLOCKED_VALUES", json.dumps(blocked))
    configured = await app_factory()
    first, second = await two_with_one_app_id(configured, admin)
    assert first != second
    assert await scalar(db, "SELECT count(*) FROM identifier WHERE value = 'test-user'") == 0
    assert await scalar(db, "SELECT count(*) FROM person WHERE merged_into_id IS NULL") == 2
