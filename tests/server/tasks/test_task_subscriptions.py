"""Real time: a booking reaches the assigned guide's myTasks socket, on one server or across two via Redis;
a store's queue reaches its own manager only."""

from __future__ import annotations

import asyncio

import pytest
from gql import GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError

from server.clock import SystemClock
from server.domains.tasks.topics import staff_topic, store_queue_topic
from tests.live_server import call_graphql
from tests.server.assertions import Statements, scalar
from tests.server.bookings.helpers import BOOK, booking_input, give_shifts, next_local
from tests.server.live import (
    CUSTOMER_LOGIN,
    MONDAY,
    book_on,
    book_through,
    first_event,
    serve,
    server_process,
    socket_for,
    subscribed_then,
    until_listening,
)
from tests.world import LOGIN, PASSWORD, gid, login

MY_TASKS = gql("""subscription { myTasks { kind task { id status priority customer { phone } booking { id } } } }""")
STORE_QUEUE = gql("""subscription($s: ID!) { storeQueue(storeId: $s) {
  kind task { status assignee { username } booking { id } } } }""")


async def test_a_booking_reaches_the_guides_socket(db, world, api, tmp_root, clock):
    await give_shifts(db, world)
    url = db.engine.url.render_as_string(hide_password=False)
    async with serve(url, tmp_root, clock) as server:
        guide = await login(api, "sh.guide")
        booking_id, event = await subscribed_then(
            socket_for(server.address, guide),
            MY_TASKS,
            server,
            staff_topic(world.ids["sh.guide"]),
            lambda: book_through(server.address, world, clock),
        )
    assert event["myTasks"]["kind"] == "CREATED"
    assert event["myTasks"]["task"]["booking"]["id"] == booking_id
    assert event["myTasks"]["task"]["customer"]["phone"] == "+8613812345678"


async def test_across_two_servers_through_redis(db, world, api, tmp_root, clock, shared_redis):
    """The guide is connected to server A; the customer books through server B."""
    await give_shifts(db, world)
    url = db.engine.url.render_as_string(hide_password=False)
    async with serve(url, tmp_root, clock, **shared_redis) as a, serve(url, tmp_root, clock, **shared_redis) as b:
        guide = await login(api, "sh.guide")
        booking_id, event = await subscribed_then(
            socket_for(a.address, guide),
            MY_TASKS,
            a,
            staff_topic(world.ids["sh.guide"]),
            lambda: book_through(b.address, world, clock),
        )
    assert event["myTasks"]["task"]["booking"]["id"] == booking_id


async def test_across_two_server_processes_through_redis(db, world, tmp_root, shared_redis):
    """Two OS processes: the guide's socket is on A, the customer books through B."""
    await give_shifts(db, world)
    url = db.engine.url.render_as_string(hide_password=False)
    now = SystemClock()  # the processes run on the real clock
    async with (
        server_process(url, tmp_root / "a", shared_redis) as a,
        server_process(url, tmp_root / "b", shared_redis) as b,
    ):
        guide = (await call_graphql(a, LOGIN, {"u": "sh.guide", "p": PASSWORD}))["staffLogin"]["session"]["accessToken"]
        customer = (await call_graphql(b, CUSTOMER_LOGIN))["customerLogin"]["session"]["accessToken"]
        listener = asyncio.create_task(first_event(socket_for(a, guide), MY_TASKS))
        booked = []
        # Nothing outside A tells when its subscription is in place: book until the socket hears one
        # (a customer holds at most three upcoming bookings: three tries).
        for hour in (15, 16, 17):
            payload = (
                await call_graphql(b, BOOK, {"input": booking_input(world, next_local(now, MONDAY, hour))}, customer)
            )["bookingCreate"]
            assert payload["errors"] == [], payload
            booked.append(payload["booking"]["id"])
            done, _ = await asyncio.wait({listener}, timeout=10)
            if done:
                break
        event = await asyncio.wait_for(listener, timeout=30)
    assert event["myTasks"]["kind"] == "CREATED" and event["myTasks"]["task"]["booking"]["id"] in booked


async def test_a_manager_hears_of_a_new_booking_on_the_store_queue(server, world, api, clock):
    manager = await login(api, "sh.manager")
    booking_id, event = await subscribed_then(
        socket_for(server.address, manager),
        STORE_QUEUE,
        server,
        store_queue_topic(world.ids["shanghai"]),
        lambda: book_on(server, world, "13812345678", next_local(clock, MONDAY, 15)),
        {"s": world.gid("Store", "shanghai")},
    )
    assert event["storeQueue"] == {
        "kind": "CREATED",
        "task": {"status": "OPEN", "assignee": {"username": "sh.guide"}, "booking": {"id": booking_id}},
    }


async def test_another_stores_manager_is_refused_the_store_queue(server, world, api):
    manager = await login(api, "bj.manager")
    with pytest.raises(TransportQueryError) as refused:
        async with socket_for(server.address, manager) as session:
            request = GraphQLRequest(STORE_QUEUE, variable_values={"s": world.gid("Store", "shanghai")})
            async for _ in session.subscribe(request):
                pytest.fail("a Beijing manager received a Shanghai task event")
    assert [e["extensions"]["code"] for e in refused.value.errors] == ["FORBIDDEN"]
    assert not server.listening(store_queue_topic(world.ids["shanghai"]))


def _session_check(sql: str) -> bool:
    """A socket's check of its token's session (at its connection_init, then now and then), which may run while
    a test counts an event's statements: not the event's."""
    return "refresh_token" in sql


async def _outbox_published(db) -> None:
    """Wait until the relay has published what was written (news sent before a socket listens reaches none)."""
    for _ in range(500):
        if await scalar(db, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0:
            return
        await asyncio.sleep(0.02)


def _selects_of(runtime) -> Statements:
    """The SELECTs the server sends meanwhile (on both its engines), the sockets' session checks left out."""
    engines = {runtime.db.engine.sync_engine, (runtime.db.live_engine or runtime.db.engine).sync_engine}
    return Statements(
        counted=lambda sql: sql.lstrip().upper().startswith("SELECT") and not _session_check(sql), engines=engines
    )


CARD = gql("""subscription { myTasks { kind task {
  id status assignee { username } store { name } booking { id slotStart } } } }""")


async def test_an_event_reads_the_task_with_its_booking_guide_and_store_in_one_statement(
    db, world, api, tmp_root, clock
):
    """What a task's card shows beside it is read with the task: one statement per event, not one per field."""
    await give_shifts(db, world)
    url = db.engine.url.render_as_string(hide_password=False)
    async with serve(url, tmp_root, clock) as server:
        booking_id = await book_through(server.address, world, clock)
        task_id = await scalar(db, "SELECT id FROM task")
        await _outbox_published(db)  # the booking's own events: only ours reaches the socket
        runtime = server.app.state.runtime
        guide = await login(api, "sh.guide")
        listener = asyncio.create_task(first_event(socket_for(server.address, guide), CARD))
        await until_listening(server, staff_topic(world.ids["sh.guide"]))
        with _selects_of(runtime) as statements:
            await runtime.bus.publish(staff_topic(world.ids["sh.guide"]), {"event": "UPDATED", "taskId": task_id})
            event = await asyncio.wait_for(listener, timeout=30)
    task = event["myTasks"]["task"]
    assert (task["assignee"]["username"], task["store"]["name"]) == ("sh.guide", "上海店")
    assert task["booking"]["id"] == booking_id and task["booking"]["slotStart"]
    seen = statements.seen
    assert len(seen) == 1 and "JOIN booking" in seen[0] and "JOIN staff_user" in seen[0], seen


QUEUE_CARD = gql("""subscription($s: ID!) { storeQueue(storeId: $s) { kind task {
  id assignee { username } store { name } booking { id } } } }""")


@pytest.mark.parametrize("tasks", ["one task", "two tasks"])
async def test_news_that_reaches_several_subscriptions_at_once_is_read_in_one_statement(
    db, world, api, tmp_root, clock, tasks
):
    """One bus batch wakes the guide's inbox and her store's queue: what their messages name (one task, or one
    each) is read once for both, not once per subscription; each still gets its own task."""
    await give_shifts(db, world)
    url = db.engine.url.render_as_string(hide_password=False)
    async with serve(url, tmp_root, clock) as server:
        await book_on(server, world, "13812345678", next_local(clock, MONDAY, 15))
        await book_on(server, world, "13812345679", next_local(clock, MONDAY, 16))
        first, second = await scalar(db, "SELECT min(id) FROM task"), await scalar(db, "SELECT max(id) FROM task")
        await _outbox_published(db)  # the bookings' own events are out before the sockets listen
        runtime = server.app.state.runtime
        guide, manager = await login(api, "sh.guide"), await login(api, "sh.manager")
        inbox = asyncio.create_task(first_event(socket_for(server.address, guide), CARD))
        queue = asyncio.create_task(
            first_event(socket_for(server.address, manager), QUEUE_CARD, {"s": world.gid("Store", "shanghai")})
        )
        await until_listening(server, staff_topic(world.ids["sh.guide"]))
        await until_listening(server, store_queue_topic(world.ids["shanghai"]))
        queued = first if tasks == "one task" else second
        with _selects_of(runtime) as statements:
            await runtime.bus.publish_many(
                [
                    (staff_topic(world.ids["sh.guide"]), {"event": "UPDATED", "taskId": first}),
                    (store_queue_topic(world.ids["shanghai"]), {"event": "UPDATED", "taskId": queued}),
                ]
            )
            inbox_event, queue_event = await asyncio.wait_for(asyncio.gather(inbox, queue), timeout=30)
    assert inbox_event["myTasks"]["task"]["id"] == gid("Task", first)
    assert queue_event["storeQueue"]["task"]["id"] == gid("Task", queued)
    assert queue_event["storeQueue"]["task"]["store"]["name"] == "上海店"
    seen = statements.seen
    assert len(seen) == 1 and "JOIN booking" in seen[0], seen


async def test_junk_on_the_bus_ends_no_subscription_woken_with_it(db, world, api, tmp_root, clock):
    """A message naming no possible task, in the batch that carries real news: the guide's inbox skips it (and
    hears her next event), and her store's queue still gets its task."""
    await give_shifts(db, world)
    url = db.engine.url.render_as_string(hide_password=False)
    async with serve(url, tmp_root, clock) as server:
        await book_on(server, world, "13812345678", next_local(clock, MONDAY, 15))
        task_id = await scalar(db, "SELECT id FROM task")
        guide, manager = await login(api, "sh.guide"), await login(api, "sh.manager")
        inbox = asyncio.create_task(first_event(socket_for(server.address, guide), CARD))
        queue = asyncio.create_task(
            first_event(socket_for(server.address, manager), QUEUE_CARD, {"s": world.gid("Store", "shanghai")})
        )
        inbox_topic, queue_topic = staff_topic(world.ids["sh.guide"]), store_queue_topic(world.ids["shanghai"])
        await until_listening(server, inbox_topic)
        await until_listening(server, queue_topic)
        bus = server.app.state.runtime.bus
        junk: list = ["1; DROP TABLE task", 2**63, None, [task_id], True, -1]
        await bus.publish_many(
            [(inbox_topic, {"event": "UPDATED", "taskId": each}) for each in junk]
            + [(queue_topic, {"event": "UPDATED", "taskId": task_id})]
        )
        queue_event = await asyncio.wait_for(queue, timeout=30)
        await bus.publish(inbox_topic, {"event": "UPDATED", "taskId": task_id})
        inbox_event = await asyncio.wait_for(inbox, timeout=30)
    assert queue_event["storeQueue"]["task"]["id"] == gid("Task", task_id)
    assert inbox_event["myTasks"] == {"kind": "UPDATED", "task": inbox_event["myTasks"]["task"]}
    assert inbox_event["myTasks"]["task"]["id"] == gid("Task", task_id)
