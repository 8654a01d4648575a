"""Bookings' background jobs on a frozen clock: SLA escalation, reminders and customer messages, no-shows."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import count_rows
from tests.server.assertions import run_jobs, scalar

from .helpers import SHANGHAI, book, customer, iso, next_local

MONDAY = 0


async def rows(db, sql: str, **params) -> list:
    async with db.engine.connect() as connection:
        return list((await connection.execute(sa.text(sql), params)).all())


async def test_an_unacknowledged_task_moves_to_the_next_guide_then_to_the_queue(api, db, two_guides, clock):
    token, _ = await customer(api)
    assert (await book(api, token, two_guides, next_local(clock, MONDAY, 15)))["errors"] == []
    first = await scalar(db, "SELECT assignee_id FROM task")
    clock.advance(minutes=9)
    assert (await run_jobs(api))["escalate_overdue_tasks"] == 0
    clock.advance(minutes=2)
    assert (await run_jobs(api))["escalate_overdue_tasks"] == 1
    second = await scalar(db, "SELECT assignee_id FROM task")
    assert second != first and second in (two_guides.ids["sh.guide"], two_guides.ids["sh.guide2"])
    assert await scalar(db, "SELECT escalations FROM task") == 1
    clock.advance(minutes=11)
    await run_jobs(api)
    assert await scalar(db, "SELECT assignee_id FROM task") is None  # both tried: the store queue
    history = await rows(db, "SELECT action, assignee_id FROM task_history ORDER BY id")
    assert [a for a, _ in history] == ["CREATED", "ASSIGNED", "ESCALATED", "ESCALATED", "ESCALATED", "QUEUED"]
    escalations = await rows(db, "SELECT topic FROM outbox WHERE event = 'ESCALATED' AND topic LIKE 'tasks.store:%'")
    assert len(escalations) == 2  # the store's managers heard of both


async def test_an_acknowledged_task_is_not_escalated(api, db, two_guides, clock, token_for):
    token, _ = await customer(api)
    await book(api, token, two_guides, next_local(clock, MONDAY, 15))
    guide_id = await scalar(db, "SELECT assignee_id FROM task")
    username = next(name for name, id_ in two_guides.ids.items() if id_ == guide_id)
    if username == "sh.guide2":
        pytest.skip("only sh.guide has a password in the test world")  # dispatch is deterministic: never here
    task_id = await scalar(db, "SELECT id FROM task")
    from tests.world import gid

    ack = "mutation($id: ID!) { taskAcknowledge(id: $id) { errors { code } } }"
    assert (await api.data(ack, {"id": gid("Task", task_id)}, await token_for("sh.guide")))["taskAcknowledge"][
        "errors"
    ] == []
    clock.advance(minutes=30)
    assert (await run_jobs(api))["escalate_overdue_tasks"] == 0


async def test_an_hour_before_the_guide_is_reminded_and_she_gets_a_message(api, db, two_guides, clock):
    token, _ = await customer(api)
    slot = next_local(clock, MONDAY, 15)
    await book(api, token, two_guides, slot)
    await _acknowledge_all(db)
    clock.current = slot - timedelta(minutes=61)
    ran = await run_jobs(api)
    assert (ran["remind_guides"], ran["remind_customers"]) == (0, 0)
    clock.current = slot - timedelta(minutes=59)
    ran = await run_jobs(api)
    assert (ran["remind_guides"], ran["remind_customers"]) == (1, 1)
    assert await rows(db, "SELECT event FROM outbox WHERE event = 'REMINDER'") == [("REMINDER",)]
    assert (await run_jobs(api))["send_customer_messages"] == 0  # sent in the same run, once
    assert await rows(db, "SELECT kind, status, channel FROM outbound_message") == [("BOOKING_REMINDER", "SENT", "DEV")]
    [(recipient, message)] = api.app.state.message_channels[0].sent
    assert recipient.phone == "+8613812345678" and "上海店" in message.text and "15:00" in message.text
    await run_jobs(api)
    assert await count_rows(db, "outbound_message") == 1


RESCHEDULE = """mutation($input: BookingRescheduleInput!) { bookingReschedule(input: $input) {
  booking { slotStart } errors { code } } }"""
CANCEL = """mutation($input: BookingCancelInput!) { bookingCancel(input: $input) { errors { code } } }"""


async def test_a_rescheduled_booking_is_reminded_of_its_new_time(api, db, two_guides, clock):
    token, _ = await customer(api)
    first, later = next_local(clock, MONDAY, 15), next_local(clock, MONDAY, 17)
    booking_id = (await book(api, token, two_guides, first))["booking"]["id"]
    clock.current = first - timedelta(minutes=59)
    await run_jobs(api)  # reminded of 15:00, and sent
    token, _ = await customer(api)  # signed in again: days went by on the test clock
    moved = await api.data(RESCHEDULE, {"input": {"id": booking_id, "slotStart": iso(later)}}, token)
    assert moved["bookingReschedule"]["errors"] == []
    clock.current = later - timedelta(minutes=59)
    assert (await run_jobs(api))["remind_customers"] == 1
    sent = [message.text for _, message in api.app.state.message_channels[0].sent]
    assert len(sent) == 2 and "15:00" in sent[0] and "17:00" in sent[1]
    await run_jobs(api)
    assert await count_rows(db, "outbound_message") == 2


async def test_a_reminder_not_sent_yet_is_withdrawn_when_the_booking_moves_or_is_cancelled(api, db, two_guides, clock):
    token, _ = await customer(api)
    first, later = next_local(clock, MONDAY, 15), next_local(clock, MONDAY, 17)
    moving = (await book(api, token, two_guides, first))["booking"]["id"]
    other, _ = await customer(api, "13912345678")
    cancelled = (await book(api, other, two_guides, first))["booking"]["id"]
    clock.current = first - timedelta(minutes=59)
    async with db.writer() as session:  # queue the reminders without sending them
        from server.domains.bookings.jobs import remind_customers
        from server.domains.tasks.services import TaskPolicy

        assert await remind_customers(session, TaskPolicy(), "Elegance", clock.now()) == 2
    token, _ = await customer(api)  # signed in again: days went by on the test clock
    other, _ = await customer(api, "13912345678")
    assert (await api.data(RESCHEDULE, {"input": {"id": moving, "slotStart": iso(later)}}, token))["bookingReschedule"][
        "errors"
    ] == []
    assert (await api.data(CANCEL, {"input": {"id": cancelled, "reason": "改天"}}, other))["bookingCancel"][
        "errors"
    ] == []
    assert (await run_jobs(api))["send_customer_messages"] == 0
    assert api.app.state.message_channels[0].sent == []
    assert await count_rows(db, "outbound_message") == 0


async def test_a_booking_moved_away_and_back_before_its_reminder_went_out_is_reminded(api, db, two_guides, clock):
    token, _ = await customer(api)
    first, later = next_local(clock, MONDAY, 15), next_local(clock, MONDAY, 17)
    booking = (await book(api, token, two_guides, first))["booking"]["id"]
    clock.current = first - timedelta(minutes=59)
    async with db.writer() as session:  # her 15:00 reminder is queued, not sent yet
        from server.domains.bookings.jobs import remind_customers
        from server.domains.tasks.services import TaskPolicy

        assert await remind_customers(session, TaskPolicy(), "Elegance", clock.now()) == 1
    token, _ = await customer(api)
    for slot in (later, first):
        moved = await api.data(RESCHEDULE, {"input": {"id": booking, "slotStart": iso(slot)}}, token)
        assert moved["bookingReschedule"]["errors"] == []
    ran = await run_jobs(api)
    assert (ran["remind_customers"], ran["send_customer_messages"]) == (1, 1)
    [(_, message)] = api.app.state.message_channels[0].sent
    assert "15:00" in message.text


async def test_a_customer_waiting_in_the_store_queue_is_reminded_too(api, db, world, clock, token_for):
    slot = next_local(clock, MONDAY, 15)
    day = slot.astimezone(SHANGHAI).date().isoformat()
    override = """mutation($input: SlotCapacityOverrideInput!) { slotCapacityOverrideSet(input: $input) {
      ok errors { code } } }"""  # seats, but no guide on shift: her task waits in the store queue
    assert (
        await api.data(
            override,
            {"input": {"storeId": world.gid("Store", "shanghai"), "day": day, "capacity": 1}},
            await token_for("sh.manager"),
        )
    )["slotCapacityOverrideSet"]["ok"]
    token, _ = await customer(api)
    assert (await book(api, token, world, slot))["errors"] == []
    assert await scalar(db, "SELECT assignee_id FROM task") is None
    clock.current = slot - timedelta(minutes=59)
    ran = await run_jobs(api)
    assert (ran["remind_guides"], ran["remind_customers"]) == (0, 1)
    assert await rows(db, "SELECT status FROM outbound_message") == [("SENT",)]


async def test_replicas_running_the_jobs_at_once_handle_each_task_once(api, db, two_guides, clock):
    """Three schedulers (as three replicas would) escalate six overdue tasks: each exactly once."""
    for phone in ("13812345678", "13912345678"):  # two guides: two seats a slot
        token, _ = await customer(api, phone)
        for hour in (15, 16, 17):
            assert (await book(api, token, two_guides, next_local(clock, MONDAY, hour)))["errors"] == []
    clock.advance(minutes=11)
    scheduler = api.app.state.scheduler
    runs = await asyncio.gather(*(scheduler.run_once() for _ in range(3)))
    assert sum(run["escalate_overdue_tasks"] for run in runs) == 6
    assert await rows(db, "SELECT DISTINCT escalations FROM task") == [(1,)]
    assert await scalar(db, "SELECT count(*) FROM task_history WHERE note LIKE 'not acknowledged by%'") == 6


async def _acknowledge_all(db) -> None:
    async with db.writer() as session:
        await session.exec(sa.text("UPDATE task SET status = 'ACKNOWLEDGED', ack_due_at = NULL WHERE status = 'OPEN'"))
        await session.commit()


async def test_unchecked_bookings_become_no_shows_and_cancelled_ones_do_not(api, db, two_guides, clock):
    first, _ = await customer(api)
    second, _ = await customer(api, "13912345678")
    slot = next_local(clock, MONDAY, 15)
    kept = (await book(api, first, two_guides, slot))["booking"]["id"]
    dropped = (await book(api, second, two_guides, slot))["booking"]["id"]
    cancel = "mutation($id: ID!) { bookingCancel(input: {id: $id}) { errors { code } } }"
    await api.data(cancel, {"id": dropped}, second)
    await _acknowledge_all(db)
    clock.current = slot + timedelta(minutes=30 + 29)  # slot end + 29 min
    assert (await run_jobs(api))["mark_no_shows"] == 0
    clock.advance(minutes=2)
    assert (await run_jobs(api))["mark_no_shows"] == 1
    statuses = sorted(s for (s,) in await rows(db, "SELECT status FROM booking"))
    assert statuses == ["CANCELLED", "NO_SHOW"]
    assert sorted(s for (s,) in await rows(db, "SELECT status FROM task")) == ["CANCELLED", "CANCELLED"]
    assert await scalar(db, "SELECT sum(upcoming) FROM customer_booking_count") == 0
    assert kept
