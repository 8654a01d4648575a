"""Which tasks a viewer may list: statements the API pages through (it adds order and limits)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, or_, select
from sqlmodel.sql.expression import SelectOfScalar

from ..common.actor import Actor
from .models import SopTemplate, Task, TaskHistory
from .services import ACTIVE_STATUSES, TaskStatus


def my_task_listing(
    actor: Actor, *, updated_after: datetime | None = None, statuses: Sequence[TaskStatus] = ()
) -> SelectOfScalar[Task]:
    """Tasks assigned to the actor; ``updated_after`` for the catch-up after a dropped socket."""
    statement = select(Task).where(Task.assignee_id == actor.id)
    if updated_after is not None:
        statement = statement.where(Task.updated_at > updated_after)
    if statuses:
        statement = statement.where(col(Task.status).in_([s.value for s in statuses]))
    return statement


def my_removed_task_ids(actor: Actor, updated_after: datetime) -> SelectOfScalar[int]:
    """Tasks the actor held once that changed after ``updated_after`` and are no longer hers: given to
    another guide or back to the store queue (the catch-up's removals, as REMOVED events say live)."""
    held = TaskHistory.task_id  # her history rows, through ix_task_history_assignee_task
    return (
        select(held)
        .distinct()
        .join(Task, col(Task.id) == held)
        .where(TaskHistory.assignee_id == actor.id, Task.updated_at > updated_after)
        .where(or_(col(Task.assignee_id).is_(None), Task.assignee_id != actor.id))
        .order_by(col(held))
    )


def store_task_listing(actor: Actor, store_id: int, *, unassigned_only: bool = False) -> SelectOfScalar[Task]:
    """A store's active tasks, for its own staff and HQ; ``unassigned_only`` for the queue."""
    actor.require_store(store_id)
    statement = select(Task).where(Task.store_id == store_id, col(Task.status).in_(ACTIVE_STATUSES))
    if unassigned_only:
        statement = statement.where(col(Task.assignee_id).is_(None))
    return statement


def sop_template_listing() -> SelectOfScalar[SopTemplate]:
    return select(SopTemplate)
