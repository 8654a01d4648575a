"""A guide's socket stays open all day: what it is sent must not stay behind in the server.

graphql-core memoizes each execution's collected sub-fields; a subscription's events used to share
one memo that grew with every event (see server/api/execution.py). Measured with tracemalloc: what
graphql-core's execution still holds after 150 more events, against a few KB of slack (4.3 KB per event before the fix).
"""

from __future__ import annotations

import asyncio
import json
import tracemalloc

from server.api.nodes import local_id
from server.domains.tasks.topics import staff_topic
from tests.live_server import graphql_socket, next_payload, subscribe
from tests.server.bookings.helpers import give_shifts
from tests.server.live import book_through, serve, until_listening
from tests.world import login

MY_TASKS = """subscription { myTasks { kind task { id status priority
  assignee { id username } customer { phone } booking { id store { id name } } steps { title } } } }"""
EVENTS = 150
SLACK = 24 * 1024  # bytes


def _held_by_execution(snapshot: tracemalloc.Snapshot) -> int:
    return sum(
        each.size for each in snapshot.statistics("filename") if "graphql/execution/" in each.traceback[0].filename
    )


async def _events(socket_, bus, topic: str, message: dict, count: int) -> None:
    for _ in range(count):
        await bus.publish(topic, message)
        payload = await next_payload(socket_)
        assert payload.get("errors") is None, payload


async def test_a_subscription_keeps_nothing_per_event(db, world, api, tmp_root, clock):
    await give_shifts(db, world)
    url = db.engine.url.render_as_string(hide_password=False)
    guide_id = world.ids["sh.guide"]
    async with serve(url, tmp_root, clock) as server:
        guide = await login(api, "sh.guide")
        async with graphql_socket(server.address, guide) as socket_:
            await subscribe(socket_, MY_TASKS)
            topic = staff_topic(guide_id)
            await until_listening(server, topic)
            await book_through(server.address, world, clock)
            created = await next_payload(socket_)
            task_id = local_id(created["data"]["myTasks"]["task"]["id"], "Task")
            bus = server.app.state.runtime.bus
            message = {"event": "UPDATED", "taskId": task_id, "assigneeId": guide_id}
            await _events(socket_, bus, topic, message, 20)  # warm: every cache the first events fill
            tracemalloc.start()  # it sees what is allocated from now on
            try:
                await _events(socket_, bus, topic, message, EVENTS)
                held = _held_by_execution(tracemalloc.take_snapshot())
            finally:
                tracemalloc.stop()
    assert held < SLACK, f"graphql-core's execution holds {held} bytes allocated over {EVENTS} events"


SHAPED = """subscription($full: Boolean!) { myTasks { kind task { id ...Card @include(if: $full) } } }
fragment Card on Task { status store { name } }"""


async def _payloads_by_id(socket_, count: int) -> dict[str, list[dict]]:
    seen: dict[str, list[dict]] = {}
    while sum(map(len, seen.values())) < count:
        message = json.loads(await asyncio.wait_for(socket_.recv(), timeout=10))
        if message["type"] == "next":
            seen.setdefault(message["id"], []).append(message["payload"])
    return seen


async def test_what_events_collect_is_kept_per_subscription(db, world, api, tmp_root, clock):
    """One document, two subscriptions with different variables (the parse cache hands both the same nodes): each
    event of each answers its own selection, the first as the later ones."""
    await give_shifts(db, world)
    url = db.engine.url.render_as_string(hide_password=False)
    guide_id = world.ids["sh.guide"]
    async with serve(url, tmp_root, clock) as server:
        guide = await login(api, "sh.guide")
        async with graphql_socket(server.address, guide) as socket_:
            await subscribe(socket_, SHAPED, {"full": True}, id_="full")
            await subscribe(socket_, SHAPED, {"full": False}, id_="bare")
            topic = staff_topic(guide_id)
            await until_listening(server, topic)
            await book_through(server.address, world, clock)
            bus = server.app.state.runtime.bus
            first = await _payloads_by_id(socket_, 2)
            task_id = local_id(first["full"][0]["data"]["myTasks"]["task"]["id"], "Task")
            for _ in range(3):
                await bus.publish(topic, {"event": "UPDATED", "taskId": task_id})
            later = await _payloads_by_id(socket_, 6)
    for payload in first["full"] + later["full"]:
        assert payload["data"]["myTasks"]["task"]["store"] == {"name": "上海店"}, payload
        assert payload["data"]["myTasks"]["task"]["status"] == "OPEN", payload
    for payload in first["bare"] + later["bare"]:
        assert set(payload["data"]["myTasks"]["task"]) == {"id"}, payload
    assert len(later["full"]) == len(later["bare"]) == 3
