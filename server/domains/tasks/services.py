"""Reception tasks: created with a booking, dispatched to a guide, worked through an SOP, escalated on SLA."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum, StrEnum
from typing import Any, Literal

import sqlalchemy as sa
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ...at_commit import insert_at_commit
from ...db import claim
from ...outbox import emit
from ...prepared import run
from ...unit_of_work import use_case
from ..common.actor import Actor, Role
from ..common.errors import CommonErrorCode as Common
from ..common.errors import DomainError, Forbidden
from ..common.lookup import rows_by_id
from ..common.rows import column_values, new_row, saved_id, table_of
from ..common.validation import Validator, not_found
from ..identity.view import has_any_event, summaries_of
from ..staff.models import StaffUser
from .dispatch import Choice, Need, choose_guide
from .errors import TaskErrorCode as Code
from .models import SopTemplate, Task, TaskHistory, TaskStep
from .sop import DEFAULT_STEPS, CustomerType
from .topics import staff_topic, store_queue_topic

SYSTEM = "system"


class TaskStatus(StrEnum):
    OPEN = "OPEN"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    CANCELLED = "CANCELLED"


# Tasks still to be worked on: they count against a guide's capacity and fill a store's queue.
ACTIVE_STATUSES = (TaskStatus.OPEN.value, TaskStatus.ACKNOWLEDGED.value, TaskStatus.IN_PROGRESS.value)


class TaskPriority(StrEnum):
    HIGH = "HIGH"
    NORMAL = "NORMAL"


class TaskKind(StrEnum):
    RECEPTION = "RECEPTION"


class TaskAction(StrEnum):
    CREATED = "CREATED"
    ASSIGNED = "ASSIGNED"
    QUEUED = "QUEUED"  # no guide could take it: it waits in the store queue
    ACKNOWLEDGED = "ACKNOWLEDGED"
    STARTED = "STARTED"
    STEP_DONE = "STEP_DONE"
    STEP_REOPENED = "STEP_REOPENED"
    DONE = "DONE"
    CANCELLED = "CANCELLED"
    ESCALATED = "ESCALATED"
    REASSIGNED = "REASSIGNED"
    REMINDED = "REMINDED"


@dataclass(frozen=True)
class TaskPolicy:
    ack_sla_minutes: int = 10
    reminder_minutes: int = 60


@dataclass(frozen=True)
class Reception:
    """What a booking tells the task service."""

    booking_id: int
    person_id: int
    store_id: int
    slot_start: datetime
    from_livestream: bool
    need: Need


# --- creation ------------------------------------------------------------------------------------


async def customer_type_of(session: AsyncSession, person_id: int, from_livestream: bool) -> CustomerType:
    if from_livestream:
        return CustomerType.LIVESTREAM_REFERRAL
    summary = (await summaries_of(session, [person_id]))[person_id]
    if summary.purchase_count or summary.last_visit_at:
        return CustomerType.RETURNING_CUSTOMER
    if await has_any_event(session, person_id, ["COMMUNITY_JOIN"]):
        return CustomerType.COMMUNITY_EVENT
    return CustomerType.WALK_IN


async def create_reception(session: AsyncSession, reception: Reception, policy: TaskPolicy, now: datetime) -> Task:
    """The booking's RECEPTION task, dispatched, in the caller's transaction.

    Its rows are written with prebuilt statements, not through the session's unit of work: every booking
    of a surge creates one, and the returned task is not kept in the session (read it again to change it).
    Its steps and history are written when the transaction commits (server.at_commit).
    """
    customer_type = await customer_type_of(session, reception.person_id, reception.from_livestream)
    choice = await choose_guide(session, reception.need)
    task = new_row(
        Task,
        kind=TaskKind.RECEPTION.value,
        store_id=reception.store_id,
        booking_id=reception.booking_id,
        person_id=reception.person_id,
        status=TaskStatus.OPEN.value,
        priority=(TaskPriority.HIGH if reception.from_livestream else TaskPriority.NORMAL).value,
        customer_type=customer_type.value,
        due_at=reception.slot_start,
        created_at=now,
        **_assignment_of(choice, policy, now),
    )
    row = {**column_values(task, exclude="id"), "template_type": customer_type.value}
    task.id, template = (await run(session, _INSERT_TASK, row)).one()
    checklist = DEFAULT_STEPS[customer_type] if template is None else template
    steps = [_step_row(task.id, n, step) for n, step in enumerate(checklist)]
    history = [
        _history_row(task, SYSTEM, TaskAction.CREATED, now, assignee_id=None),
        _assignment_history_row(task, choice, TaskAction.ASSIGNED, now, SYSTEM),
    ]
    # Nothing reads them before the booking commits: written with its commit, with its other such rows.
    insert_at_commit(session, table_of(TaskStep), steps)
    insert_at_commit(session, table_of(TaskHistory), history)
    _announce_assignment(session, task, None, choice, TaskAction.ASSIGNED, now)
    return task


# Built once: every booking writes a task (its steps and history are written at the commit). The task's INSERT
# also returns the steps of HQ's SOP template for her customer type (None: there is none, the default applies).
_INSERT_TASK = sa.insert(table_of(Task)).returning(
    table_of(Task).c.id,
    select(SopTemplate.steps).where(SopTemplate.customer_type == sa.bindparam("template_type")).scalar_subquery(),
)


def _step_row(task_id: int, position: int, step: dict) -> dict:
    return {
        "task_id": task_id,
        "position": position,
        "title": step["title"],
        "guidance": step.get("guidance", ""),
        "required": bool(step.get("required", True)),
        "done_at": None,
        "done_by": None,
    }


async def _assign(
    session: AsyncSession,
    task: Task,
    choice: Choice,
    policy: TaskPolicy,
    now: datetime,
    action: TaskAction,
    actor: str = SYSTEM,
) -> None:
    previous = task.assignee_id
    _apply_choice(task, choice, policy, now)
    _record_assignment(session, task, previous, choice, action, now, actor)
    await session.flush()


def _apply_choice(task: Task, choice: Choice, policy: TaskPolicy, now: datetime) -> None:
    for name, value in _assignment_of(choice, policy, now).items():
        setattr(task, name, value)
    if task.status == TaskStatus.ACKNOWLEDGED.value:
        task.status = TaskStatus.OPEN.value  # the new guide has not acknowledged it yet


def _assignment_of(choice: Choice, policy: TaskPolicy, now: datetime) -> dict[str, Any]:
    """A task's columns that say who has it (None: the store queue) and by when she acknowledges it."""
    assigned = choice.guide_id is not None
    return {
        "assignee_id": choice.guide_id,
        "assignment_reason": choice.reason,
        "updated_at": now,
        "assigned_at": now if assigned else None,
        "ack_due_at": now + timedelta(minutes=policy.ack_sla_minutes) if assigned else None,
    }


def _record_assignment(
    session: AsyncSession,
    task: Task,
    previous: int | None,
    choice: Choice,
    action: TaskAction,
    now: datetime,
    actor: str,
) -> None:
    """History, and the news for the new guide, the previous one and the store queue."""
    session.add(TaskHistory(**_assignment_history_row(task, choice, action, now, actor)))
    _announce_assignment(session, task, previous, choice, action, now)


def _assignment_history_row(task: Task, choice: Choice, action: TaskAction, now: datetime, actor: str) -> dict:
    return _history_row(task, actor, action if choice.guide_id else TaskAction.QUEUED, now, note=choice.reason)


def _announce_assignment(
    session: AsyncSession, task: Task, previous: int | None, choice: Choice, action: TaskAction, now: datetime
) -> None:
    event = "CREATED" if action is TaskAction.ASSIGNED else action.value
    if choice.guide_id:
        emit(session, staff_topic(choice.guide_id), event, _message(task), now)
    if previous and previous != choice.guide_id:
        emit(session, staff_topic(previous), "REMOVED", _message(task), now)
    emit(session, store_queue_topic(task.store_id), event, _message(task), now)


def _message(task: Task) -> dict:
    return {
        "taskId": task.id,
        "storeId": task.store_id,
        "assigneeId": task.assignee_id,
        "status": task.status,
        "priority": task.priority,
        "bookingId": task.booking_id,
    }


class _Current(Enum):
    """The default of _history's assignee_id: the task's assignee at the time."""

    ASSIGNEE = "current assignee"


_CURRENT = _Current.ASSIGNEE


def _history(
    session: AsyncSession,
    task: Task,
    actor: str,
    action: TaskAction,
    now: datetime,
    note: str = "",
    assignee_id: int | Literal[_Current.ASSIGNEE] | None = _CURRENT,
) -> None:
    session.add(TaskHistory(**_history_row(task, actor, action, now, note, assignee_id)))


def _history_row(
    task: Task,
    actor: str,
    action: TaskAction,
    now: datetime,
    note: str = "",
    assignee_id: int | Literal[_Current.ASSIGNEE] | None = _CURRENT,
) -> dict:
    return {
        "task_id": saved_id(task),
        "at": now,
        "actor": actor,
        "action": action.value,
        "status": task.status,
        "assignee_id": task.assignee_id if assignee_id is _CURRENT else assignee_id,
        "note": note[:200],
    }


# --- the guide's work ----------------------------------------------------------------------------


async def _task_for_update(session: AsyncSession, task_id: int, path: tuple[str, ...] = ("id",)) -> Task:
    task = await session.get(Task, task_id, with_for_update=True)
    if task is None:
        raise not_found("task", path)
    return task


def _require_assignee(actor: Actor, task: Task, path: tuple[str, ...] = ("id",)) -> None:
    actor.require_store(task.store_id)
    if actor.has_role(Role.GUIDE) and task.assignee_id != actor.id:
        raise DomainError.single(Code.NOT_ASSIGNED_TO_YOU, "this task is assigned to another guide", path)


def _move(
    session, task: Task, actor: Actor, allowed: Sequence[TaskStatus], to: TaskStatus, action: TaskAction, now: datetime
) -> None:
    if task.status not in {s.value for s in allowed}:
        raise DomainError.single(Code.INVALID_STATE, f"a {task.status} task cannot be {action.value.lower()}", ("id",))
    task.status, task.updated_at = to.value, now
    _history(session, task, actor.key, action, now)
    _announce(session, task, action, now)


def _announce(session, task: Task, action: TaskAction, now: datetime) -> None:
    if task.assignee_id:
        emit(session, staff_topic(task.assignee_id), "UPDATED", _message(task) | {"action": action.value}, now)
    emit(session, store_queue_topic(task.store_id), "UPDATED", _message(task) | {"action": action.value}, now)


@use_case
async def acknowledge(session: AsyncSession, actor: Actor, task_id: int, now: datetime) -> Task:
    task = await _task_for_update(session, task_id)
    _require_assignee(actor, task)
    if task.assignee_id is None:
        raise DomainError.single(Code.INVALID_STATE, "a queued task is assigned before it is acknowledged", ("id",))
    _move(session, task, actor, [TaskStatus.OPEN], TaskStatus.ACKNOWLEDGED, TaskAction.ACKNOWLEDGED, now)
    task.ack_due_at = None
    return task


@use_case
async def start(session: AsyncSession, actor: Actor, task_id: int, now: datetime) -> Task:
    """The customer is here: reception begins (check-in does this too)."""
    task = await _task_for_update(session, task_id)
    _require_assignee(actor, task)
    await _begin(session, task, actor, now)
    return task


async def _begin(session: AsyncSession, task: Task, actor: Actor, now: datetime) -> None:
    """IN_PROGRESS within the caller's transaction (a check-in acknowledges on the way)."""
    _move(
        session,
        task,
        actor,
        [TaskStatus.OPEN, TaskStatus.ACKNOWLEDGED],
        TaskStatus.IN_PROGRESS,
        TaskAction.STARTED,
        now,
    )
    task.ack_due_at = None


@use_case
async def complete_step(session: AsyncSession, actor: Actor, task_id: int, position: int, now: datetime) -> Task:
    task = await _task_for_update(session, task_id, ("taskId",))  # taskStepComplete(taskId:, position:)
    _require_assignee(actor, task, ("taskId",))
    if task.status in (TaskStatus.DONE.value, TaskStatus.CANCELLED.value):
        raise DomainError.single(Code.INVALID_STATE, f"the task is {task.status}", ("taskId",))
    step = await session.get(TaskStep, (task.id, position))
    if step is None:
        raise not_found("step", ("position",))
    if task.status == TaskStatus.OPEN.value:
        _acknowledge_by_working(session, task, actor, now)
    if step.done_at is None:
        step.done_at, step.done_by = now, actor.key
        task.updated_at = now
        _history(session, task, actor.key, TaskAction.STEP_DONE, now, note=step.title)
        _announce(session, task, TaskAction.STEP_DONE, now)
    return task


@use_case
async def reopen_step(session: AsyncSession, actor: Actor, task_id: int, position: int, now: datetime) -> Task:
    """Untick a step ticked by mistake, while the task is still being worked (again is a no-op)."""
    task = await _task_for_update(session, task_id, ("taskId",))
    _require_assignee(actor, task, ("taskId",))
    if task.status not in (TaskStatus.ACKNOWLEDGED.value, TaskStatus.IN_PROGRESS.value):
        raise DomainError.single(Code.INVALID_STATE, f"the task is {task.status}", ("taskId",))
    step = await session.get(TaskStep, (task.id, position))
    if step is None:
        raise not_found("step", ("position",))
    if step.done_at is not None:
        step.done_at, step.done_by = None, None
        task.updated_at = now
        _history(session, task, actor.key, TaskAction.STEP_REOPENED, now, note=step.title)
        _announce(session, task, TaskAction.STEP_REOPENED, now)
    return task


def _acknowledge_by_working(session, task: Task, actor: Actor, now: datetime) -> None:
    """Whoever ticks a step of an OPEN task is handling it: it is acknowledged on the way (so it is not
    escalated away from them), as check-in does. A queued task has nobody to acknowledge it."""
    if task.assignee_id is None:
        raise DomainError.single(
            Code.INVALID_STATE, "a queued task is assigned before its steps are ticked", ("taskId",)
        )
    _move(session, task, actor, [TaskStatus.OPEN], TaskStatus.ACKNOWLEDGED, TaskAction.ACKNOWLEDGED, now)
    task.ack_due_at = None


@use_case
async def complete(session: AsyncSession, actor: Actor, task_id: int, now: datetime) -> Task:
    """DONE once every required step is ticked. A booked reception completes through
    ``bookings.reception.complete_reception``, which runs this and completes her booking with it."""
    task = await _task_for_update(session, task_id)
    _require_assignee(actor, task)
    open_steps = (
        await session.exec(
            select(TaskStep.title)
            .where(TaskStep.task_id == task.id, TaskStep.required, col(TaskStep.done_at).is_(None))
            .order_by(col(TaskStep.position))
        )
    ).all()
    if open_steps:
        raise DomainError.single(
            Code.REQUIRED_STEPS_OPEN, f"required steps still open: {', '.join(open_steps)}", ("id",)
        )
    _move(session, task, actor, [TaskStatus.IN_PROGRESS], TaskStatus.DONE, TaskAction.DONE, now)
    return task


async def cancel_for_booking(session: AsyncSession, booking_id: int, actor_key: str, now: datetime) -> None:
    """The booking was cancelled: so is its task (in the caller's transaction)."""
    task = (await session.exec(select(Task).where(Task.booking_id == booking_id).with_for_update())).first()
    if task is None or task.status in (TaskStatus.DONE.value, TaskStatus.CANCELLED.value):
        return
    task.status, task.updated_at, task.ack_due_at = TaskStatus.CANCELLED.value, now, None
    _history(session, task, actor_key, TaskAction.CANCELLED, now)
    _announce(session, task, TaskAction.CANCELLED, now)


async def complete_for_booking(session: AsyncSession, booking_id: int, actor_key: str, now: datetime) -> None:
    """She bought: her reception is DONE whatever steps were left open (in the caller's transaction)."""
    task = (await session.exec(select(Task).where(Task.booking_id == booking_id).with_for_update())).first()
    if task is None or task.status in (TaskStatus.DONE.value, TaskStatus.CANCELLED.value):
        return
    task.status, task.updated_at, task.ack_due_at = TaskStatus.DONE.value, now, None
    _history(session, task, actor_key, TaskAction.DONE, now)
    _announce(session, task, TaskAction.DONE, now)


@use_case
async def reassign(
    session: AsyncSession, actor: Actor, task_id: int, guide_id: int, policy: TaskPolicy, now: datetime
) -> Task:
    """A manager gives the task to another guide of the store."""
    actor.require_role(Role.HQ_ADMIN, Role.STORE_MANAGER)
    task = await _task_for_update(session, task_id)
    actor.require_store(task.store_id)
    guide = await session.get(StaffUser, guide_id)
    if guide is None or not guide.active or guide.role != Role.GUIDE.value or guide.store_id != task.store_id:
        raise DomainError.single(
            Code.NOT_A_CANDIDATE, "the new assignee must be an active guide of the store", ("guideId",)
        )
    if task.status in (TaskStatus.DONE.value, TaskStatus.CANCELLED.value):
        raise DomainError.single(Code.INVALID_STATE, f"a {task.status} task cannot be reassigned", ("id",))
    await _assign(
        session, task, Choice(guide.id, f"reassigned by {actor.key}"), policy, now, TaskAction.REASSIGNED, actor.key
    )
    return task


# --- reads ---------------------------------------------------------------------------------------


async def tasks_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Task]:
    return await rows_by_id(session, Task, ids)


async def steps_by_task(session: AsyncSession, task_ids: Sequence[int]) -> dict[int, list[TaskStep]]:
    rows = await session.exec(
        select(TaskStep)
        .where(col(TaskStep.task_id).in_(list(task_ids)))
        .order_by(col(TaskStep.task_id), col(TaskStep.position))
    )
    result: dict[int, list[TaskStep]] = {i: [] for i in task_ids}
    for row in rows:
        result[row.task_id].append(row)
    return result


async def history_by_task(session: AsyncSession, task_ids: Sequence[int]) -> dict[int, list[TaskHistory]]:
    rows = await session.exec(
        select(TaskHistory)
        .where(col(TaskHistory.task_id).in_(list(task_ids)))
        .order_by(col(TaskHistory.task_id), col(TaskHistory.id))
    )
    result: dict[int, list[TaskHistory]] = {i: [] for i in task_ids}
    for row in rows:
        result[row.task_id].append(row)
    return result


async def tasks_by_booking(session: AsyncSession, booking_ids: Sequence[int]) -> dict[int, Task]:
    """Each booking's reception task (a booking has at most one), by booking id."""
    rows = await session.exec(select(Task).where(col(Task.booking_id).in_(list(booking_ids))))
    return {row.booking_id: row for row in rows if row.booking_id is not None}


@dataclass(frozen=True)
class TaskTimings:
    """When a task was last acknowledged, started and completed (its history says; None if never)."""

    acknowledged_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None


_TIMED_ACTIONS = {
    TaskAction.ACKNOWLEDGED.value: "acknowledged_at",
    TaskAction.STARTED.value: "started_at",
    TaskAction.DONE.value: "completed_at",
}


async def timings_by_task(session: AsyncSession, task_ids: Sequence[int]) -> dict[int, TaskTimings]:
    """The timings of many tasks in one statement: the latest of each timed action in their history
    (a task given to another guide is acknowledged again, by her)."""
    statement = (
        select(TaskHistory.task_id, TaskHistory.action, func.max(TaskHistory.at))
        .where(col(TaskHistory.task_id).in_(list(task_ids)), col(TaskHistory.action).in_(list(_TIMED_ACTIONS)))
        .group_by(col(TaskHistory.task_id), col(TaskHistory.action))
    )
    moments: dict[int, dict[str, datetime]] = {task_id: {} for task_id in task_ids}
    for task_id, action, at in await session.exec(statement):
        moments[task_id][_TIMED_ACTIONS[action]] = at
    return {task_id: TaskTimings(**found) for task_id, found in moments.items()}


def can_read_task(actor: Actor, task: Task) -> bool:
    try:
        actor.require_store(task.store_id)
    except Forbidden:
        return False
    return actor.is_staff


# --- SOP templates (HQ) --------------------------------------------------------------------------

MAX_SOP_STEPS = 20


@use_case
async def set_sop_template(
    session: AsyncSession, actor: Actor, customer_type: CustomerType, name: str, steps: Sequence[dict], now: datetime
) -> SopTemplate:
    """Replace the SOP of a customer type; tasks created from now on follow it."""
    actor.require_role(Role.HQ_ADMIN)
    check = Validator()
    name = check.text(("name",), name, max_length=64)
    if not steps:
        check.add(Common.REQUIRED, "an SOP has at least one step", ("steps",))
    check.count(("steps",), steps, MAX_SOP_STEPS)
    clean = []
    for index, raw in enumerate(steps):
        path = ("steps", str(index))
        title = check.text((*path, "title"), raw["title"], max_length=100)
        guidance = check.text(
            (*path, "guidance"), raw.get("guidance", ""), max_length=500, min_length=0, required=False, multiline=True
        )
        clean.append({"title": title, "guidance": guidance or "", "required": bool(raw.get("required", True))})
    check.raise_if_any()
    template = (await session.exec(select(SopTemplate).where(SopTemplate.customer_type == customer_type.value))).first()
    if template is None:
        template = SopTemplate(
            customer_type=customer_type.value, name=name, steps=clean, updated_by=actor.key, updated_at=now
        )
    else:
        template.name, template.steps, template.updated_by, template.updated_at = name, clean, actor.key, now
    session.add(template)
    return template


async def start_for_booking(session: AsyncSession, booking_id: int, actor: Actor, now: datetime) -> None:
    """She was checked in: her reception is under way (in the caller's transaction)."""
    task = (await session.exec(select(Task).where(Task.booking_id == booking_id).with_for_update())).first()
    if task is None or task.status not in (TaskStatus.OPEN.value, TaskStatus.ACKNOWLEDGED.value):
        return
    if task.assignee_id is None and actor.has_role(Role.GUIDE):  # from the store queue: she is his now
        await _assign(
            session,
            task,
            Choice(actor.id, "checked her in from the store queue"),
            TaskPolicy(),
            now,
            TaskAction.ASSIGNED,
            actor.key,
        )
    await _begin(session, task, actor, now)


# --- jobs (called by the scheduler, one transaction per batch) -----------------------------------

CLAIM_BATCH = 200


async def overdue_tasks(session: AsyncSession, now: datetime) -> list[Task]:
    """Assigned tasks nobody acknowledged in time."""
    statement = (
        select(Task)
        .where(
            Task.status == TaskStatus.OPEN.value,
            col(Task.assignee_id).is_not(None),
            col(Task.ack_due_at).is_not(None),
            col(Task.ack_due_at) <= now,
        )
        .order_by(col(Task.ack_due_at))
        .limit(CLAIM_BATCH)
    )
    return list((await session.exec(claim(statement, session))).all())


async def previous_assignees(session: AsyncSession, task_id: int) -> set[int]:
    rows = await session.exec(
        select(TaskHistory.assignee_id)
        .where(TaskHistory.task_id == task_id, col(TaskHistory.assignee_id).is_not(None))
        .distinct()
    )
    return {assignee_id for assignee_id in rows.all() if assignee_id is not None}  # the WHERE drops NULLs already


async def escalate(session: AsyncSession, task: Task, choice: Choice, policy: TaskPolicy, now: datetime) -> None:
    """Not acknowledged in time: the store's managers hear of it (storeQueue) and the next candidate
    gets it, or the store queue when there is none. The earlier guide stays in the history."""
    late = task.assignee_id
    task.escalations += 1
    _history(session, task, SYSTEM, TaskAction.ESCALATED, now, note=f"not acknowledged by staff:{late}")
    await _assign(session, task, choice, policy, now, TaskAction.ESCALATED)  # tells the store queue too


async def tasks_to_remind(session: AsyncSession, now: datetime, policy: TaskPolicy) -> list[Task]:
    """Assigned tasks whose customer is due within the reminder lead and that were not reminded yet."""
    statement = (
        select(Task)
        .where(
            col(Task.status).in_([TaskStatus.OPEN.value, TaskStatus.ACKNOWLEDGED.value]),
            col(Task.assignee_id).is_not(None),
            col(Task.reminded_at).is_(None),
            Task.due_at > now,
            Task.due_at <= now + timedelta(minutes=policy.reminder_minutes),
        )
        .order_by(col(Task.due_at))
        .limit(CLAIM_BATCH)
    )
    return list((await session.exec(claim(statement, session))).all())


def remind(session: AsyncSession, task: Task, now: datetime) -> None:
    task.reminded_at = task.updated_at = now  # updated: a guide offline now catches up with updatedAfter
    _history(session, task, SYSTEM, TaskAction.REMINDED, now)
    assert task.assignee_id is not None, "tasks_to_remind picks assigned tasks"
    emit(session, staff_topic(task.assignee_id), "REMINDER", _message(task), now)


async def cancel_for_no_show(session: AsyncSession, booking_id: int, now: datetime) -> None:
    task = (await session.exec(select(Task).where(Task.booking_id == booking_id))).first()
    if task is None or task.status in (TaskStatus.DONE.value, TaskStatus.CANCELLED.value):
        return
    task.status, task.updated_at, task.ack_due_at = TaskStatus.CANCELLED.value, now, None
    _history(session, task, SYSTEM, TaskAction.CANCELLED, now, note="no-show")
    _announce(session, task, TaskAction.CANCELLED, now)


async def move_reception(
    session: AsyncSession, booking_id: int, need: Need, policy: TaskPolicy, now: datetime, actor_key: str
) -> None:
    """Her booking moved to another slot: the task is due then; its guide stays if on shift with a free
    seat then, else dispatch chooses again (in the caller's transaction)."""
    task = (await session.exec(select(Task).where(Task.booking_id == booking_id).with_for_update())).first()
    if task is None or task.status in (TaskStatus.DONE.value, TaskStatus.CANCELLED.value):
        return
    task.due_at, task.updated_at, task.reminded_at = need.slot_start, now, None
    if task.assignee_id is not None and task.assignee_id in need.candidates:
        busy = await _tasks_in_slot_excluding(session, task.assignee_id, need.slot_start, saved_id(task))
        if busy < need.guide_capacity:
            _history(session, task, actor_key, TaskAction.REASSIGNED, now, note="moved to another slot")
            _announce(session, task, TaskAction.REASSIGNED, now)
            return
    await _assign(session, task, await choose_guide(session, need), policy, now, TaskAction.REASSIGNED, actor_key)


async def _tasks_in_slot_excluding(session: AsyncSession, guide_id: int, slot_start: datetime, task_id: int) -> int:
    rows = await session.exec(
        select(Task.id).where(
            Task.assignee_id == guide_id,
            Task.due_at == slot_start,
            Task.id != task_id,
            col(Task.status).in_(ACTIVE_STATUSES),
        )
    )
    return len(rows.all())
