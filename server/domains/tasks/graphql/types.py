"""GraphQL types of tasks and SOP templates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession
from strawberry import relay

from ....api.errors import UserError, user_error_type
from ....api.nodes import load_nodes
from ...bookings.graphql.types import Booking
from ...bookings.models import Booking as BookingRow
from ...bookings.services import bookings_by_ids
from ...common.lookup import rows_and_parents
from ...common.rows import saved_id
from ...common.validation import is_row_id
from ...identity.graphql.types import Customer, open_customer
from ...staff.graphql.types import StaffUser
from ...staff.models import StaffUser as StaffRow
from ...staff.services import staff_by_ids
from ...stores.graphql.types import Store
from ...stores.models import Store as StoreRow
from ...stores.services import stores_by_ids
from .. import services
from ..errors import TaskErrorCode
from ..models import SopTemplate as TemplateRow
from ..models import Task as TaskRow

if TYPE_CHECKING:  # user_error_type builds the class at run time: mypy knows it by its interface
    TaskUserError = UserError
else:
    TaskUserError = user_error_type(
        "Task",
        TaskErrorCode,
        {
            TaskErrorCode.INVALID_STATE: "The task's status does not allow this (e.g. starting a DONE task, or "
            "acknowledging one waiting in the queue).",
            TaskErrorCode.REQUIRED_STEPS_OPEN: "A required SOP step is not ticked yet (the message names them).",
            TaskErrorCode.NOT_ASSIGNED_TO_YOU: "A guide may work only the tasks assigned to her.",
            TaskErrorCode.NOT_A_CANDIDATE: "The new assignee is not an active guide of the task's store.",
            TaskErrorCode.NOT_CHECKED_IN: "The customer is not checked in yet: check her in first.",
        },
    )


@strawberry.enum(description="OPEN → ACKNOWLEDGED → IN_PROGRESS → DONE, or CANCELLED.")
class TaskStatus(Enum):
    OPEN = strawberry.enum_value("OPEN", description="New (or reassigned): to be acknowledged before ackDueAt.")
    ACKNOWLEDGED = strawberry.enum_value("ACKNOWLEDGED", description="Her guide has seen it and will receive her.")
    IN_PROGRESS = strawberry.enum_value("IN_PROGRESS", description="The customer is here: reception under way.")
    DONE = strawberry.enum_value("DONE", description="Reception completed; final.")
    CANCELLED = strawberry.enum_value(
        "CANCELLED", description="Her booking was cancelled or she did not show up; final."
    )


@strawberry.enum(description="How urgent a task is.")
class TaskPriority(Enum):
    HIGH = strawberry.enum_value("HIGH", description="The customer comes from a livestream.")
    NORMAL = strawberry.enum_value("NORMAL", description="Any other booking.")


@strawberry.enum(description="What a task is for.")
class TaskKind(Enum):
    RECEPTION = strawberry.enum_value("RECEPTION", description="Receive a booked customer.")


@strawberry.enum(description="Which SOP a reception follows.")
class CustomerType(Enum):
    LIVESTREAM_REFERRAL = strawberry.enum_value("LIVESTREAM_REFERRAL", description="She booked from a livestream.")
    COMMUNITY_EVENT = strawberry.enum_value(
        "COMMUNITY_EVENT", description="New to the store, and she joined a community (COMMUNITY_JOIN event)."
    )
    RETURNING_CUSTOMER = strawberry.enum_value(
        "RETURNING_CUSTOMER", description="She has bought or visited a store before."
    )
    WALK_IN = strawberry.enum_value("WALK_IN", description="None of the above.")


@strawberry.enum(description="What a change in a task's history was.")
class TaskAction(Enum):
    CREATED = strawberry.enum_value("CREATED", description="The task was created for a booking.")
    ASSIGNED = strawberry.enum_value("ASSIGNED", description="A guide was chosen for it.")
    QUEUED = strawberry.enum_value("QUEUED", description="No guide could take it; it waits in the store queue.")
    ACKNOWLEDGED = strawberry.enum_value("ACKNOWLEDGED", description="Its guide acknowledged it.")
    STARTED = strawberry.enum_value("STARTED", description="Reception began (taskStart or check-in).")
    STEP_DONE = strawberry.enum_value("STEP_DONE", description="An SOP step was ticked (the note names it).")
    STEP_REOPENED = strawberry.enum_value(
        "STEP_REOPENED", description="A step ticked by mistake was unticked (the note names it)."
    )
    DONE = strawberry.enum_value("DONE", description="Reception was completed.")
    CANCELLED = strawberry.enum_value("CANCELLED", description="Her booking was cancelled, or she did not show up.")
    ESCALATED = strawberry.enum_value("ESCALATED", description="Not acknowledged in time: moved on, manager told.")
    REASSIGNED = strawberry.enum_value("REASSIGNED", description="A manager gave it to another guide.")
    REMINDED = strawberry.enum_value("REMINDED", description="Its guide was reminded that the slot starts soon.")


@strawberry.type(description="One step of a task's SOP checklist.")
class TaskStep:
    position: int = strawberry.field(description="Its place in the checklist; pass it to taskStepComplete.")
    title: str = strawberry.field(description="What to do.")
    guidance: str = strawberry.field(description="How to do it; may be empty.")
    required: bool = strawberry.field(description="The task cannot be completed while it is open.")
    done_at: dt.datetime | None = strawberry.field(description="When it was ticked; null while open.")


@strawberry.type(description="One change of a task.")
class TaskHistoryEntry:
    at: dt.datetime = strawberry.field(description="When it happened.")
    actor: str = strawberry.field(description="staff:<id>, customer:<id> or system.")
    action: TaskAction = strawberry.field(description="What happened.")
    status: TaskStatus = strawberry.field(description="The task's status after the change.")
    note: str = strawberry.field(description="Details (a reason, a step's title); may be empty.")
    _assignee_id: strawberry.Private[int | None]

    @strawberry.field(description="Who held the task after the change.")
    def assignee(self, info: strawberry.Info) -> StaffUser | None:
        if self._assignee_id is None:
            return None
        return info.context.row_field(staff_by_ids, self._assignee_id, StaffUser.from_row)


# What a task's card shows beside it (the guide app's inbox): a live event reads them with the task, in one
# statement, and hands them to the loaders its fields would ask.
_CARD_PARENTS = (
    ("booking_id", BookingRow, bookings_by_ids),
    ("assignee_id", StaffRow, staff_by_ids),
    ("store_id", StoreRow, stores_by_ids),
)
_CARD_PARENT_ROWS = tuple((key, model) for key, model, _ in _CARD_PARENTS)  # rows_and_parents' key for its statement


async def _cards(session: AsyncSession, task_ids: Sequence[int]) -> dict[int, tuple[TaskRow, dict[str, Any]]]:
    return await rows_and_parents(session, TaskRow, task_ids, _CARD_PARENT_ROWS)


async def task_for_event(info: strawberry.Info, task_id: object) -> Task | None:
    """The task a live event names, as it is now (None if gone), its booking, guide and store read with it: in one
    statement with the tasks of the other subscriptions the same news woke (a guide's inbox and her store's queue
    read one task once). An id no row can have (junk on the bus) names no task."""
    if not isinstance(task_id, int) or isinstance(task_id, bool) or not is_row_id(task_id):
        return None
    found = await info.context.runtime.live_reads.load(_cards, task_id)
    if found is None:
        return None
    row, parents = found
    for key, _, load in _CARD_PARENTS:
        if parents[key] is not None:
            info.context.loader(load).prime(getattr(row, key), parents[key])
    return Task.from_row(row)


@strawberry.type(description="Work for a guide: receive a booked customer, following an SOP.")
class Task(relay.Node):
    id: relay.NodeID[int]
    kind: TaskKind = strawberry.field(description="What the task is for.")
    status: TaskStatus = strawberry.field(description="Where it is in its life.")
    priority: TaskPriority = strawberry.field(description="HIGH for customers from a livestream.")
    customer_type: CustomerType = strawberry.field(description="Which SOP it follows.")
    due_at: dt.datetime = strawberry.field(description="When the customer is expected (the slot start).")
    ack_due_at: dt.datetime | None = strawberry.field(
        description="Acknowledge before this (10 minutes after assignment unless "
        "IRS_TASK_ACK_SLA_MINUTES says otherwise), or it is escalated; null once acknowledged or while queued.",
    )
    assignment_reason: str = strawberry.field(description="Why this guide, or why it waits in the queue.")
    escalated: bool = strawberry.field(description="Escalated at least once (not acknowledged in time).")
    escalation_count: int = strawberry.field(
        description="How many times it was escalated: each one is an acknowledgement SLA missed."
    )
    assigned_at: dt.datetime | None = strawberry.field(
        description="When its current guide was given it (UTC); null while it waits in the store queue."
    )
    created_at: dt.datetime = strawberry.field(description="When it was created (UTC).")
    updated_at: dt.datetime = strawberry.field(
        description="When it last changed (UTC); pass the latest you saw to myTaskList(updatedAfter:)."
    )
    _row: strawberry.Private[TaskRow]

    @strawberry.field(description="The store where she is received.")
    def store(self, info: strawberry.Info) -> Store:
        return info.context.row_field(stores_by_ids, self._row.store_id, Store.from_row)

    @strawberry.field(description="The guide holding it; null while it waits in the store queue.")
    def assignee(self, info: strawberry.Info) -> StaffUser | None:
        if self._row.assignee_id is None:
            return None
        return info.context.row_field(staff_by_ids, self._row.assignee_id, StaffUser.from_row)

    @strawberry.field(description="The customer's 360° view (masked unless you may see her); null if hidden from you.")
    async def customer(self, info: strawberry.Info) -> Customer | None:
        return await open_customer(info, self._row.person_id, hidden_as_none=True)

    @strawberry.field(description="The booking: slot, livestream (title, talking points), products she wants.")
    def booking(self, info: strawberry.Info) -> Booking | None:
        if self._row.booking_id is None:
            return None
        return info.context.row_field(bookings_by_ids, self._row.booking_id, Booking.from_row)

    @strawberry.field(
        description="When it was last acknowledged (UTC): a task given to another guide is acknowledged again. "
        "Null until then. Compare with assignedAt and ackDueAt for the acknowledgement SLA."
    )
    async def acknowledged_at(self, info: strawberry.Info) -> dt.datetime | None:
        return (await self._timings(info)).acknowledged_at

    @strawberry.field(description="When reception began (UTC: check-in or taskStart); null until then.")
    async def started_at(self, info: strawberry.Info) -> dt.datetime | None:
        return (await self._timings(info)).started_at

    @strawberry.field(description="When it was completed (UTC, DONE); null until then.")
    async def completed_at(self, info: strawberry.Info) -> dt.datetime | None:
        return (await self._timings(info)).completed_at

    async def _timings(self, info: strawberry.Info) -> services.TaskTimings:
        return await info.context.loader(services.timings_by_task, default=services.TaskTimings()).load(self.id)

    @strawberry.field(description="The SOP checklist, in order.")
    async def steps(self, info: strawberry.Info) -> list[TaskStep]:
        rows = await info.context.loader(services.steps_by_task, default=[]).load(self.id)
        return [
            TaskStep(position=r.position, title=r.title, guidance=r.guidance, required=r.required, done_at=r.done_at)
            for r in rows
        ]

    @strawberry.field(description="Every change, oldest first.")
    async def history(self, info: strawberry.Info) -> list[TaskHistoryEntry]:
        rows = await info.context.loader(services.history_by_task, default=[]).load(self.id)
        return [
            TaskHistoryEntry(
                at=r.at,
                actor=r.actor,
                action=TaskAction(r.action),
                status=TaskStatus(r.status),
                note=r.note,
                _assignee_id=r.assignee_id,
            )
            for r in rows
        ]

    @classmethod
    def from_row(cls, row: TaskRow) -> Task:
        return cls(
            id=saved_id(row),
            kind=TaskKind(row.kind),
            status=TaskStatus(row.status),
            priority=TaskPriority(row.priority),
            customer_type=CustomerType(row.customer_type),
            due_at=row.due_at,
            ack_due_at=row.ack_due_at,
            assignment_reason=row.assignment_reason,
            escalated=row.escalations > 0,
            escalation_count=row.escalations,
            assigned_at=row.assigned_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            _row=row,
        )

    @classmethod
    async def resolve_nodes(cls, *, info, node_ids, required=False):
        return await load_nodes(info, services.tasks_by_ids, node_ids, cls.from_row, visible=services.can_read_task)


@strawberry.type(description="One step of an SOP template.")
class SopStep:
    title: str = strawberry.field(description="What to do.")
    guidance: str = strawberry.field(description="How to do it; may be empty.")
    required: bool = strawberry.field(description="A task cannot be completed while this step is open.")


@strawberry.type(description="The checklist guides follow for one type of customer.")
class SopTemplate:
    customer_type: CustomerType = strawberry.field(description="Whose SOP it is.")
    name: str = strawberry.field(description="Its name.")
    steps: list[SopStep] = strawberry.field(description="The checklist, in order.")
    customized: bool = strawberry.field(description="False while the built-in default is used.")

    @classmethod
    def from_steps(cls, customer_type: CustomerType, name: str, steps: list[dict], customized: bool) -> SopTemplate:
        return cls(
            customer_type=customer_type,
            name=name,
            customized=customized,
            steps=[
                SopStep(title=s["title"], guidance=s.get("guidance", ""), required=s.get("required", True))
                for s in steps
            ],
        )

    @classmethod
    def from_row(cls, row: TemplateRow) -> SopTemplate:
        return cls.from_steps(CustomerType(row.customer_type), row.name, row.steps, True)
