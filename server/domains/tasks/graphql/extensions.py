"""Fields tasks adds to bookings' type: a booking's reception task and the guide it is assigned to."""

from __future__ import annotations

import strawberry

from ....api.type_extensions import extends
from ...bookings.graphql.types import Booking
from ...staff.graphql.types import StaffUser
from ...staff.services import staff_by_ids
from .. import services
from ..models import Task as TaskRow
from .types import Task


async def _readable_task(root: Booking, info: strawberry.Info) -> TaskRow | None:
    """The booking's task, if the viewer may read it (as node(id:) decides); one loader for a page of bookings."""
    actor = await info.context.viewer()
    row = await info.context.loader(services.tasks_by_booking).load(root.id)
    return row if row is not None and services.can_read_task(actor, row) else None


@extends(
    Booking,
    "task",
    description="Her reception task: its guide, SOP and timings (createdAt, acknowledgedAt, completedAt, SLA "
    "and escalations). For staff who may read it (HQ roles for every store, managers and guides for their own); "
    "null for others, and for a booking without one.",
)
async def booking_task(root: Booking, info: strawberry.Info) -> Task | None:
    row = await _readable_task(root, info)
    return Task.from_row(row) if row else None


@extends(
    Booking,
    "guide",
    description="The guide her reception task is assigned to; null while it waits in the store queue, and for "
    "viewers who may not read the task.",
)
async def booking_guide(root: Booking, info: strawberry.Info) -> StaffUser | None:
    task = await _readable_task(root, info)
    if task is None or task.assignee_id is None:
        return None
    row = await info.context.loader(staff_by_ids).load(task.assignee_id)
    return StaffUser.from_row(row) if row else None


TASK_EXTENSIONS = (booking_task, booking_guide)
