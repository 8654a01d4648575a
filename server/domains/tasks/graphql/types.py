"""GraphQL types of tasks and SOP templates."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry import relay

from ....api.errors import user_error_type
from ....api.nodes import load_nodes
from ...bookings.graphql.types import Booking
from ...bookings.services import bookings_by_ids
from ...identity.graphql.types import Customer, open_customer
from ...staff.graphql.types import StaffUser
from ...staff.services import staff_by_ids
from ...stores.graphql.types import Store
from ...stores.services import stores_by_ids
from .. import services
from ..errors import TaskErrorCode
from ..models import SopTemplate as TemplateRow
from ..models import Task as TaskRow

TaskUserError = user_error_type("Task", TaskErrorCode)


@strawberry.enum(description="OPEN → ACKNOWLEDGED → IN_PROGRESS → DONE, or CANCELLED.")
class TaskStatus(Enum):
    OPEN = "OPEN"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    CANCELLED = "CANCELLED"


@strawberry.enum
class TaskPriority(Enum):
    HIGH = strawberry.enum_value("HIGH", description="The customer comes from a livestream.")
    NORMAL = "NORMAL"


@strawberry.enum
class TaskKind(Enum):
    RECEPTION = strawberry.enum_value("RECEPTION", description="Receive a booked customer.")


@strawberry.enum(description="Which SOP a reception follows.")
class CustomerType(Enum):
    LIVESTREAM_REFERRAL = "LIVESTREAM_REFERRAL"
    COMMUNITY_EVENT = "COMMUNITY_EVENT"
    RETURNING_CUSTOMER = "RETURNING_CUSTOMER"
    WALK_IN = "WALK_IN"


@strawberry.enum
class TaskAction(Enum):
    CREATED = "CREATED"
    ASSIGNED = "ASSIGNED"
    QUEUED = strawberry.enum_value("QUEUED", description="No guide could take it; it waits in the store queue.")
    ACKNOWLEDGED = "ACKNOWLEDGED"
    STARTED = "STARTED"
    STEP_DONE = "STEP_DONE"
    DONE = "DONE"
    CANCELLED = "CANCELLED"
    ESCALATED = strawberry.enum_value("ESCALATED", description="Not acknowledged in time: moved on, manager told.")
    REASSIGNED = "REASSIGNED"
    REMINDED = "REMINDED"


@strawberry.type(description="One step of a task's SOP checklist.")
class TaskStep:
    position: int
    title: str
    guidance: str
    required: bool
    done_at: dt.datetime | None


@strawberry.type(description="One change of a task.")
class TaskHistoryEntry:
    at: dt.datetime
    actor: str = strawberry.field(description="staff:<id>, customer:<id> or system.")
    action: TaskAction
    status: TaskStatus
    note: str
    _assignee_id: strawberry.Private[int | None]

    @strawberry.field(description="Who held the task after the change.")
    async def assignee(self, info: strawberry.Info) -> StaffUser | None:
        if self._assignee_id is None:
            return None
        row = await info.context.loader(staff_by_ids).load(self._assignee_id)
        return StaffUser.from_row(row) if row else None


@strawberry.type(description="Work for a guide: receive a booked customer, following an SOP.")
class Task(relay.Node):
    id: relay.NodeID[int]
    kind: TaskKind
    status: TaskStatus
    priority: TaskPriority
    customer_type: CustomerType
    due_at: dt.datetime = strawberry.field(description="When the customer is expected (the slot start).")
    ack_due_at: dt.datetime | None = strawberry.field(description="Acknowledge before this, or it is escalated.")
    assignment_reason: str = strawberry.field(description="Why this guide, or why it waits in the queue.")
    escalated: bool = strawberry.field(description="Escalated at least once (not acknowledged in time).")
    created_at: dt.datetime
    updated_at: dt.datetime
    _row: strawberry.Private[TaskRow]

    @strawberry.field
    async def store(self, info: strawberry.Info) -> Store:
        return Store.from_row(await info.context.loader(stores_by_ids).load(self._row.store_id))

    @strawberry.field(description="The guide holding it; null while it waits in the store queue.")
    async def assignee(self, info: strawberry.Info) -> StaffUser | None:
        if self._row.assignee_id is None:
            return None
        row = await info.context.loader(staff_by_ids).load(self._row.assignee_id)
        return StaffUser.from_row(row) if row else None

    @strawberry.field(description="The customer's 360° view.")
    async def customer(self, info: strawberry.Info) -> Customer | None:
        return await open_customer(info, self._row.person_id, hidden_as_none=True)

    @strawberry.field(description="The booking: slot, livestream (title, talking points), products she wants.")
    async def booking(self, info: strawberry.Info) -> Booking | None:
        if self._row.booking_id is None:
            return None
        row = await info.context.loader(bookings_by_ids).load(self._row.booking_id)
        return Booking.from_row(row) if row else None

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
            id=row.id,
            kind=TaskKind(row.kind),
            status=TaskStatus(row.status),
            priority=TaskPriority(row.priority),
            customer_type=CustomerType(row.customer_type),
            due_at=row.due_at,
            ack_due_at=row.ack_due_at,
            assignment_reason=row.assignment_reason,
            escalated=row.escalations > 0,
            created_at=row.created_at,
            updated_at=row.updated_at,
            _row=row,
        )

    @classmethod
    async def resolve_nodes(cls, *, info, node_ids, required=False):
        return await load_nodes(info, services.tasks_by_ids, node_ids, cls.from_row, visible=services.can_read_task)


@strawberry.type(description="One step of an SOP template.")
class SopStep:
    title: str
    guidance: str
    required: bool


@strawberry.type(description="The checklist guides follow for one type of customer.")
class SopTemplate:
    customer_type: CustomerType
    name: str
    steps: list[SopStep]
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
