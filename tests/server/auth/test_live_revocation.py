"""Revocation reaches open subscriptions on every replica: a socket on server A is closed with 4403 within
5 s of its session ending through server B (sign-out everywhere, a role change, deactivation)."""

from __future__ import annotations

import time

import pytest

from server.clock import SystemClock
from server.domains.bookings.topics import ALL_BOOKINGS_TOPIC
from server.domains.tasks.topics import staff_topic, store_queue_topic
from tests.live_server import call_graphql, close_of, graphql_socket, next_payload, subscribe
from tests.server.bookings.helpers import BOOK, booking_input, give_shifts, next_local
from tests.server.live import CUSTOMER_LOGIN, MONDAY, book_through, serve, server_process, until_listening
from tests.world import LOGIN, PASSWORD

STORE_QUEUE = """subscription($store: ID!) { storeQueue(storeId: $store) {
  kind task { customer { phone } booking { id } } } }"""
MY_TASKS = "subscription { myTasks { kind task { customer { phone } booking { id } } } }"
FEED = "subscription { bookingFeed { id } }"
LOGOUT = """mutation($t: String!) { logout(refreshToken: $t, everywhere: true) { revoked } }"""
MOVE = "mutation($input: StaffUpdateInput!) { staffUpdate(input: $input) { errors { code } } }"
DEACTIVATE = "mutation($id: ID!) { staffDeactivate(id: $id) { errors { code } } }"
SESSION_ENDED = (4403, "session ended; sign in again")
WITHIN = 5.0


async def _sign_in(address: str, username: str) -> dict:
    return (await call_graphql(address, LOGIN, {"u": username, "p": PASSWORD}))["staffLogin"]["session"]


async def _revoke(case: str, address: str, world, member: str, session: dict) -> None:
    """End every session of ``member`` through the server at ``address``, as ``case`` does."""
    if case == "logout everywhere":
        assert (await call_graphql(address, LOGOUT, {"t": session["refreshToken"]}))["logout"]["revoked"]
        return
    admin = (await _sign_in(address, "admin"))["accessToken"]
    if case == "made a guide":
        answer = await call_graphql(
            address, MOVE, {"input": {"id": world.gid("StaffUser", member), "role": "GUIDE"}}, admin
        )
        assert answer["staffUpdate"]["errors"] == []
    else:
        answer = await call_graphql(address, DEACTIVATE, {"id": world.gid("StaffUser", member)}, admin)
        assert answer["staffDeactivate"]["errors"] == []


SUBSCRIPTIONS = {  # who subscribes, to what, and which topic carries its events
    "myTasks": ("sh.guide", MY_TASKS, lambda world: staff_topic(world.ids["sh.guide"])),
    "storeQueue": ("sh.manager", STORE_QUEUE, lambda world: store_queue_topic(world.ids["shanghai"])),
    "bookingFeed": ("ops", FEED, lambda world: ALL_BOOKINGS_TOPIC),
}


@pytest.mark.parametrize("subscription", SUBSCRIPTIONS)
async def test_every_subscription_ends_on_every_replica(db, world, tmp_root, clock, subscription, shared_redis):
    """Two servers through Redis: the stream runs on A, her sessions end through B."""
    await give_shifts(db, world)
    member, document, topic_of = SUBSCRIPTIONS[subscription]
    url = db.engine.url.render_as_string(hide_password=False)
    async with serve(url, tmp_root, clock, **shared_redis) as a, serve(url, tmp_root, clock, **shared_redis) as b:
        session = await _sign_in(b.address, member)
        async with graphql_socket(a.address, session["accessToken"]) as socket_:
            await subscribe(
                socket_, document, {"store": world.gid("Store", "shanghai")} if subscription == "storeQueue" else None
            )
            await until_listening(a, topic_of(world))
            await book_through(b.address, world, clock)
            assert (await next_payload(socket_))["data"][subscription]  # it streams
            await _revoke("logout everywhere", b.address, world, member, session)
            assert await close_of(socket_, within=WITHIN) == SESSION_ENDED


@pytest.mark.parametrize("case", ["logout everywhere", "made a guide", "deactivated"])
async def test_a_store_queue_on_one_process_ends_when_revoked_through_another(db, world, tmp_root, case, shared_redis):
    """Two `irs serve` OS processes through Redis: the manager's storeQueue on A, the revocation through B."""
    await give_shifts(db, world)
    url = db.engine.url.render_as_string(hide_password=False)
    now = SystemClock()  # the processes run on the real clock
    async with (
        server_process(url, tmp_root / "a", shared_redis) as a,
        server_process(url, tmp_root / "b", shared_redis) as b,
    ):
        manager = await _sign_in(a, "sh.manager")
        customer = (await call_graphql(b, CUSTOMER_LOGIN))["customerLogin"]["session"]["accessToken"]
        async with graphql_socket(a, manager["accessToken"]) as socket_:
            await subscribe(socket_, STORE_QUEUE, {"store": world.gid("Store", "shanghai")})
            # Nothing outside A tells when its subscription is in place: book until the queue streams
            # (a customer holds at most three upcoming bookings: three tries).
            for hour in (15, 16, 17):
                payload = (
                    await call_graphql(
                        b, BOOK, {"input": booking_input(world, next_local(now, MONDAY, hour))}, customer
                    )
                )["bookingCreate"]
                assert payload["errors"] == [], payload
                try:
                    event = await next_payload(socket_, timeout=3)
                    break
                except TimeoutError:
                    continue
            else:
                raise AssertionError("the store queue never streamed")
            assert event["data"]["storeQueue"]["task"]["customer"]["phone"] == "+8613812345678"
            await _revoke(case, b, world, "sh.manager", manager)
            revoked_at = time.monotonic()
            assert await close_of(socket_, within=WITHIN) == SESSION_ENDED
            assert time.monotonic() - revoked_at < WITHIN
