"""Every change of a booking on the feed: in the outbox with the change's transaction, and over a real WebSocket
(bookingChanges with its kind; bookingFeed with the booking as it now is)."""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta

from server.domains.bookings.reception import complete_by_purchase
from server.domains.bookings.topics import ALL_BOOKINGS_TOPIC, livestream_bookings_topic
from server.outbox import OutboxMessage
from tests.live_server import graphql_socket, next_payload, subscribe
from tests.server.assertions import fetch, run_jobs
from tests.server.live import serve
from tests.world import login

from .changes_helpers import (
    CANCEL,
    RESCHEDULE,
    booking_events,
    booking_row,
    create_livestream,
    ok,
    receive_and_complete,
)
from .helpers import BOOK, arrive, book, booking_input, customer, give_shifts, iso, next_local

MONDAY = 0
PAYLOAD_KEYS = {
    "bookingId",
    "storeId",
    "storeName",
    "city",
    "status",
    "slotStart",
    "livestreamId",
    "source",
    "updatedAt",
}
CHANGES = """subscription($l: ID) { bookingChanges(livestreamId: $l) { kind at booking { id status } } }"""
FEED = "subscription { bookingFeed { id status } }"


def row_id(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().split(":")[1])


async def test_each_change_is_in_the_outbox_on_both_topics_and_moves_updated_at(api, db, world, clock, token_for):
    await give_shifts(db, world)
    livestream = await create_livestream(api.data, world, await token_for("ops"), clock)
    first, _ = await customer(api)
    booked = await book(api, first, world, next_local(clock, MONDAY, 15), livestreamId=livestream)
    watched = booked["booking"]["id"]
    clock.advance(minutes=5)
    moved_to = next_local(clock, MONDAY, 16)
    await ok(api.data, RESCHEDULE, {"id": watched, "slot": iso(moved_to)}, first)
    assert (await booking_row(db, row_id(watched))).updated_at == clock.now()
    second, _ = await customer(api, "13912345678")
    cancelled = (await book(api, second, world, next_local(clock, MONDAY, 17)))["booking"]["id"]
    await ok(api.data, CANCEL, {"id": cancelled}, second)
    arrive(clock, moved_to)
    await receive_and_complete(api.data, watched, await token_for("sh.guide"))
    assert (await booking_row(db, row_id(watched))).updated_at == clock.now()

    watched_id, cancelled_id = row_id(watched), row_id(cancelled)
    expected = [(watched_id, "CREATED"), (watched_id, "RESCHEDULED"), (cancelled_id, "CREATED")]
    expected += [(cancelled_id, "CANCELLED"), (watched_id, "CHECKED_IN"), (watched_id, "COMPLETED")]
    assert await booking_events(db, ALL_BOOKINGS_TOPIC) == expected
    only_watched = [event for event in expected if event[0] == watched_id]
    assert await booking_events(db, livestream_bookings_topic(row_id(livestream))) == only_watched
    [last] = [m for m in await fetch(db, OutboxMessage, topic=ALL_BOOKINGS_TOPIC) if m.event == "COMPLETED"]
    assert set(last.payload) == PAYLOAD_KEYS
    assert last.payload | {"updatedAt": None} == {
        "bookingId": watched_id,
        "storeId": world.ids["shanghai"],
        "storeName": "上海店",
        "city": "上海",
        "status": "COMPLETED",
        "slotStart": moved_to.isoformat(),
        "livestreamId": row_id(livestream),
        "source": "LIVESTREAM",
        "updatedAt": None,
    }
    assert last.payload["updatedAt"] == clock.now().isoformat()


async def test_no_shows_and_completion_by_purchase_are_announced(api, db, world, clock):
    await give_shifts(db, world)
    first, _ = await customer(api)
    missed = row_id((await book(api, first, world, next_local(clock, MONDAY, 15)))["booking"]["id"])
    second, _ = await customer(api, "13912345678")
    bought = row_id((await book(api, second, world, next_local(clock, MONDAY, 16)))["booking"]["id"])
    clock.current = next_local(clock, MONDAY, 15) + timedelta(hours=1, minutes=1)  # 15:30 slot end + 31 min
    assert (await run_jobs(api))["mark_no_shows"] == 1
    async with db.writer() as session:  # what orders does when her order is paid
        await complete_by_purchase(session, bought, "order:1", clock.now())
        await session.commit()
    # the CREATED events were published more than a day before: the jobs purged them
    assert (await booking_events(db, ALL_BOOKINGS_TOPIC))[-2:] == [(missed, "NO_SHOW"), (bought, "COMPLETED")]
    assert (await booking_row(db, missed)).status == "NO_SHOW"
    assert (await booking_row(db, bought)).updated_at == clock.now()


async def _wait_for_listeners(server, topic: str, count: int) -> None:
    for _ in range(3000):
        if server.app.state.runtime.bus.subscribers(topic) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the subscription to {topic} never arrived")


async def test_booking_changes_and_the_booking_feed_stream_every_change(db, world, api, tmp_root, clock):
    """Over one socket: bookingChanges hears all six kinds in order; bookingFeed, beside it, every change too.

    Check-in closes at the slot's end here (no-show grace 0), so the whole day fits in the ops token's life.
    """
    await give_shifts(db, world)
    noon = next_local(clock, MONDAY, 12)
    clock.current = noon - timedelta(hours=1, minutes=30)  # 10:30
    early, _ = await customer(api, "13712345678")
    missed = (await book(api, early, world, noon - timedelta(hours=1)))["booking"]["id"]  # 11:00-11:30
    clock.current = noon
    url = db.engine.url.render_as_string(hide_password=False)
    ops = await login(api, "ops")
    async with serve(url, tmp_root, clock, no_show_minutes=0) as server, graphql_socket(server.address, ops) as socket_:
        await subscribe(socket_, CHANGES, id_="changes")
        await subscribe(socket_, FEED, id_="feed")
        await _wait_for_listeners(server, ALL_BOOKINGS_TOPIC, 2)
        watched, cancelled = await _a_day_of_changes(server, api, world, clock)
        await server.app.state.scheduler.run_once()  # the 11:00 booking is a no-show
        payloads = [await next_payload(socket_, timeout=30) for _ in range(14)]
    changes = [p["data"]["bookingChanges"] for p in payloads if "bookingChanges" in p["data"]]
    assert [(c["booking"]["id"], c["kind"]) for c in changes] == [
        (watched, "CREATED"),
        (watched, "RESCHEDULED"),
        (cancelled, "CREATED"),
        (cancelled, "CANCELLED"),
        (watched, "CHECKED_IN"),
        (watched, "COMPLETED"),
        (missed, "NO_SHOW"),
    ]
    assert changes[-1]["booking"]["status"] == "NO_SHOW" and changes[-1]["at"] == iso(clock.now())
    feed = [p["data"]["bookingFeed"] for p in payloads if "bookingFeed" in p["data"]]
    assert [(b["id"], b["status"]) for b in feed][-1] == (missed, "NO_SHOW")
    assert [b["id"] for b in feed] == [c["booking"]["id"] for c in changes]


async def _a_day_of_changes(server, api, world, clock) -> tuple[str, str]:
    noon = clock.now()
    first, _ = await customer(api)
    watched = await _book_on(server, first, world, noon + timedelta(hours=1, minutes=30))
    await ok(server.graphql, RESCHEDULE, {"id": watched, "slot": iso(noon + timedelta(minutes=30))}, first)
    second, _ = await customer(api, "13912345678")
    cancelled = await _book_on(server, second, world, noon + timedelta(hours=2))
    await ok(server.graphql, CANCEL, {"id": cancelled}, second)
    await receive_and_complete(server.graphql, watched, await login(api, "sh.guide"))
    return watched, cancelled


async def _book_on(server, token: str, world, slot) -> str:
    """Booked through the live server: its relay publishes the change to its sockets."""
    payload = (await server.graphql(BOOK, {"input": booking_input(world, slot)}, token))["bookingCreate"]
    assert payload["errors"] == [], payload
    return payload["booking"]["id"]
