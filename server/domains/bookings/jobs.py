"""Background work on bookings and their tasks, run by the scheduler (server/scheduler.py).

Each job handles one batch in one transaction and claims its rows with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so replicas running the same job at
the same moment never handle a row twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ...db import claim
from ...unit_of_work import use_case
from ..messaging.services import MessageKind, queue
from ..stores.models import Store
from ..tasks import services as tasks
from ..tasks.dispatch import Choice, choose_guide
from . import codes
from .changes import BookingChangeKind, announce_change
from .models import Booking, BookingProduct, BookingStatus
from .reception import close_for_no_show, need_of, slot_of
from .seats import release_customer_place
from .services import reminder_key


@use_case
async def escalate_overdue_tasks(session: AsyncSession, policy: tasks.TaskPolicy, now: datetime) -> int:
    overdue = await tasks.overdue_tasks(session, now)
    for task in overdue:
        await tasks.escalate(session, task, await _next_guide(session, task), policy, now)
    return len(overdue)


async def _next_guide(session: AsyncSession, task) -> Choice:
    booking = await session.get(Booking, task.booking_id) if task.booking_id else None
    store = await session.get(Store, task.store_id)
    assert store is not None, "a task's store_id is a foreign key"
    slot = await slot_of(session, store, booking) if booking else None
    if booking is None or slot is None:  # no booking, no slot
        return Choice(None, "escalated: the slot is no longer on the store's grid")
    products = (
        await session.exec(select(BookingProduct.product_id).where(BookingProduct.booking_id == booking.id))
    ).all()
    need = await need_of(session, booking, store, slot, list(products))
    choice = await choose_guide(session, need, exclude=await tasks.previous_assignees(session, task.id))
    return Choice(choice.guide_id, f"escalated: {choice.reason}")


@use_case
async def mark_no_shows(session: AsyncSession, grace: timedelta, now: datetime) -> int:
    """CONFIRMED bookings whose slot ended more than ``grace`` ago. Cancelled ones are never no-shows."""
    statement = (
        select(Booking)
        .where(Booking.status == BookingStatus.CONFIRMED.value, Booking.slot_end <= now - grace)
        .order_by(col(Booking.slot_end))
        .limit(tasks.CLAIM_BATCH)
    )
    late = list((await session.exec(claim(statement, session))).all())
    for booking in late:
        booking.status, booking.updated_at = BookingStatus.NO_SHOW.value, now
        await release_customer_place(session, booking.person_id)
        await codes.release(session, booking.id)
        await close_for_no_show(session, booking, now)
        await announce_change(session, booking, BookingChangeKind.NO_SHOW, now)
    return len(late)


@use_case
async def remind_guides(session: AsyncSession, policy: tasks.TaskPolicy, now: datetime) -> int:
    """An hour (reminder_minutes) before the slot, the guide holding the task is reminded."""
    due = await tasks.tasks_to_remind(session, now, policy)
    for task in due:
        tasks.remind(session, task, now)
    return len(due)


@use_case
async def remind_customers(session: AsyncSession, policy: tasks.TaskPolicy, brand: str, now: datetime) -> int:
    """An hour (reminder_minutes) before her slot she gets a message: once per slot she is booked
    for (a rescheduled booking is reminded of its new time), whether or not a guide has her task."""
    statement = (
        select(Booking)
        .where(
            Booking.status == BookingStatus.CONFIRMED.value,
            col(Booking.customer_reminded_at).is_(None),
            Booking.slot_start > now,
            Booking.slot_start <= now + timedelta(minutes=policy.reminder_minutes),
        )
        .order_by(col(Booking.slot_start))
        .limit(tasks.CLAIM_BATCH)
    )
    due = list((await session.exec(claim(statement, session))).all())
    for booking in due:
        booking.customer_reminded_at = now
        store = await session.get(Store, booking.store_id)
        assert store is not None, "a booking's store_id is a foreign key"
        await queue(
            session,
            booking.person_id,
            MessageKind.BOOKING_REMINDER,
            reminder_key(booking),
            {
                "bookingId": booking.id,
                "storeName": store.name,
                "timezone": store.timezone,
                "slotStart": booking.slot_start.isoformat(),
                "brand": brand,
            },
            now,
        )
    return len(due)
