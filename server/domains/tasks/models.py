"""Guide tasks (a booking's reception), their SOP checklist and history, and HQ's SOP templates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ...clock import utcnow
from ...columns import enum_field, json_field, utc_field


class SopTemplate(SQLModel, table=True):
    """The checklist a guide follows for one type of customer (HQ edits it; one per customer type)."""

    __tablename__ = "sop_template"

    id: int | None = Field(default=None, primary_key=True)
    customer_type: str = enum_field(unique=True)
    name: str = Field(max_length=64)
    # [{"title": str, "guidance": str, "required": bool}], in order
    steps: list[dict[str, Any]] = json_field()
    updated_by: str = Field(max_length=64)
    updated_at: datetime = utc_field(default_factory=utcnow)


class Task(SQLModel, table=True):
    __tablename__ = "task"
    __table_args__ = (
        sa.Index("ix_task_assignee_updated", "assignee_id", "updated_at"),
        sa.Index("ix_task_store_status", "store_id", "status"),
        sa.Index("ix_task_status_ack_due", "status", "ack_due_at"),
        # Dispatch's probes of a guide's tasks: in the slot, that day, her last assignment.
        sa.Index("ix_task_assignee_due", "assignee_id", "due_at"),
        sa.Index("ix_task_assignee_assigned", "assignee_id", "assigned_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = enum_field()
    store_id: int = Field(foreign_key="store.id")
    booking_id: int | None = Field(default=None, foreign_key="booking.id", unique=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    assignee_id: int | None = Field(default=None, foreign_key="staff_user.id")
    assigned_at: datetime | None = utc_field(nullable=True, default=None)
    assignment_reason: str = Field(max_length=200)
    status: str = enum_field()
    priority: str = enum_field()
    customer_type: str = enum_field()
    due_at: datetime = utc_field(description="when the customer is expected (the slot start)")
    ack_due_at: datetime | None = utc_field(nullable=True, default=None)
    escalations: int = 0
    reminded_at: datetime | None = utc_field(nullable=True, default=None)
    created_at: datetime = utc_field(default_factory=utcnow)
    updated_at: datetime = utc_field(default_factory=utcnow)


class TaskStep(SQLModel, table=True):
    __tablename__ = "task_step"

    task_id: int = Field(foreign_key="task.id", primary_key=True, ondelete="CASCADE")
    position: int = Field(primary_key=True)
    title: str = Field(max_length=100)
    guidance: str = Field(default="", max_length=500)
    required: bool = True
    done_at: datetime | None = utc_field(nullable=True, default=None)
    done_by: str | None = Field(default=None, max_length=64)


class TaskHistory(SQLModel, table=True):
    """Every change of a task: who, what, when; escalations and reassignments keep the earlier guide."""

    __tablename__ = "task_history"
    # The catch-up's removals: the tasks a guide held once (listings.my_removed_task_ids).
    __table_args__ = (sa.Index("ix_task_history_assignee_task", "assignee_id", "task_id"),)

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    at: datetime = utc_field()
    actor: str = Field(max_length=64, description="staff:<id>, customer:<id> or system")
    action: str = enum_field()
    status: str = enum_field(description="the status after the change")
    assignee_id: int | None = Field(default=None, foreign_key="staff_user.id")
    note: str = Field(default="", max_length=200)
