"""Steps of the booking-change tests: a livestream, a booking's task, moving a booking through its life."""

from __future__ import annotations

from datetime import timedelta

from server.domains.bookings.models import Booking
from server.outbox import OutboxMessage
from tests.server.assertions import fetch

from .helpers import iso

LIVESTREAM_CREATE = """mutation($input: LivestreamCreateInput!) { livestreamCreate(input: $input) {
  livestream { id } errors { code } } }"""
RESCHEDULE = """mutation($id: ID!, $slot: DateTime!) { bookingReschedule(input: {id: $id, slotStart: $slot}) {
  booking { status } errors { code } } }"""
CANCEL = "mutation($id: ID!) { bookingCancel(input: {id: $id}) { errors { code } } }"
CHECK_IN = """mutation($id: ID!) { bookingCheckIn(input: {bookingId: $id}) { errors { code } } }"""
TASK_OF = "query($id: ID!) { node(id: $id) { ... on Booking { task { id } } } }"
STEP = "mutation($id: ID!, $p: Int!) { taskStepComplete(taskId: $id, position: $p) { errors { code } } }"
DONE = "mutation($id: ID!) { taskComplete(id: $id) { errors { code } } }"


async def create_livestream(call, world, ops: str, clock, title: str = "双十一直播") -> str:
    """A livestream made by the ops team, through ``call(query, variables, token) -> data``."""
    start = clock.now() + timedelta(hours=1)
    variables = {
        "input": {
            "title": title,
            "hostName": "Lily",
            "teamId": world.gid("Team", "team"),
            "channel": "DOUYIN",
            "scheduledStart": iso(start),
            "scheduledEnd": iso(start + timedelta(hours=2)),
        }
    }
    created = (await call(LIVESTREAM_CREATE, variables, ops))["livestreamCreate"]
    assert created["errors"] == []
    return created["livestream"]["id"]


async def ok(call, query: str, variables: dict, token: str) -> None:
    """A mutation that must succeed: its payload's errors are empty."""
    [payload] = (await call(query, variables, token)).values()
    assert payload["errors"] == [], payload


async def receive_and_complete(call, booking_id: str, guide: str) -> None:
    """The guide checks her in, ticks the required SOP steps and completes her reception."""
    await ok(call, CHECK_IN, {"id": booking_id}, guide)
    task_id = (await call(TASK_OF, {"id": booking_id}, guide))["node"]["task"]["id"]
    for position in (0, 1, 2):
        await ok(call, STEP, {"id": task_id, "p": position}, guide)
    await ok(call, DONE, {"id": task_id}, guide)


async def booking_events(db, topic: str) -> list[tuple[int, str]]:
    """(booking id, event) of every message on a bookings topic, in the order written."""
    rows = sorted(await fetch(db, OutboxMessage, topic=topic), key=lambda row: row.id)
    return [(row.payload["bookingId"], row.event) for row in rows]


async def booking_row(db, booking_id: int) -> Booking:
    [row] = await fetch(db, Booking, id=booking_id)
    return row
