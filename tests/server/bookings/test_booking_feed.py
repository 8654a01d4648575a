"""The booking feed over a real WebSocket: every booking for the ops team, one livestream's bookings for it."""

from __future__ import annotations

import base64
from datetime import timedelta

from gql import gql

from server.domains.bookings.topics import ALL_BOOKINGS_TOPIC, livestream_bookings_topic
from tests.live_server import LiveServer
from tests.server.bookings.helpers import give_shifts, iso, next_local
from tests.server.live import MONDAY, book_on, book_through, serve, socket_for, subscribed_then
from tests.world import login

ALL_FEED = gql("""subscription { bookingFeed { id store { city } } }""")
FEED = gql("""subscription($l: ID) { bookingFeed(livestreamId: $l) {
  id source livestream { title } store { city } } }""")
LIVESTREAM_CREATE = """mutation($input: LivestreamCreateInput!) { livestreamCreate(input: $input) {
  livestream { id } errors { code } } }"""


async def create_livestream(server: LiveServer, world, token: str, title: str, clock) -> str:
    start = clock.now() + timedelta(hours=1)
    created = (
        await server.graphql(
            LIVESTREAM_CREATE,
            {
                "input": {
                    "title": title,
                    "hostName": "Lily",
                    "teamId": world.gid("Team", "team"),
                    "channel": "DOUYIN",
                    "scheduledStart": iso(start),
                    "scheduledEnd": iso(start + timedelta(hours=2)),
                }
            },
            token,
        )
    )["livestreamCreate"]
    assert created["errors"] == []
    return created["livestream"]["id"]


def local_id(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().split(":")[1])


async def test_ops_see_the_booking_feed(db, world, api, tmp_root, clock):
    await give_shifts(db, world)
    url = db.engine.url.render_as_string(hide_password=False)
    async with serve(url, tmp_root, clock) as server:
        ops = await login(api, "ops")
        booking_id, event = await subscribed_then(
            socket_for(server.address, ops),
            ALL_FEED,
            server,
            ALL_BOOKINGS_TOPIC,
            lambda: book_through(server.address, world, clock),
        )
    assert event["bookingFeed"] == {"id": booking_id, "store": {"city": "上海"}}


async def test_a_livestreams_booking_feed_carries_only_its_own_bookings(server, world, api, clock):
    ops = await login(api, "ops")
    watched = await create_livestream(server, world, ops, "双十一直播", clock)
    other = await create_livestream(server, world, ops, "新品发布", clock)

    async def three_bookings() -> str:
        await book_on(server, world, "13812345678", next_local(clock, MONDAY, 15), livestreamId=other)
        await book_on(server, world, "13912345678", next_local(clock, MONDAY, 16))  # not from a livestream
        return await book_on(server, world, "13712345678", next_local(clock, MONDAY, 17), livestreamId=watched)

    booking_id, event = await subscribed_then(
        socket_for(server.address, ops),
        FEED,
        server,
        livestream_bookings_topic(local_id(watched)),
        three_bookings,
        {"l": watched},
    )
    assert event["bookingFeed"] == {
        "id": booking_id,
        "source": "LIVESTREAM",
        "livestream": {"title": "双十一直播"},
        "store": {"city": "上海"},
    }
