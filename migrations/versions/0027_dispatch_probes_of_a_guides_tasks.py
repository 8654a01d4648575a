"""dispatch probes of a guide's tasks

Dispatch reads, for each guide on shift, her open tasks at the slot's start, her
tasks that local day and her last assignment ever. Grouped over all her tasks,
that read grew with her history; these two indexes make each an index probe.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05 02:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index("ix_task_assignee_due", ["assignee_id", "due_at"], unique=False)
        batch_op.create_index("ix_task_assignee_assigned", ["assignee_id", "assigned_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index("ix_task_assignee_assigned")
        batch_op.drop_index("ix_task_assignee_due")
