"""dispatch probes of a guide's tasks

Dispatch reads, for each guide on shift, her open tasks at the slot's start, her
tasks that local day and her last assignment ever. Grouped over all her tasks,
that read grew with her history; these two indexes make each an index probe.

On PostgreSQL they are built CONCURRENTLY, outside the migration's transaction:
a plain CREATE INDEX would block every write to `task`, and so every booking,
while it reads a large table. A build that failed half way left an INVALID index
of that name: it is dropped and built again.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


INDEXES = {
    "ix_task_assignee_due": ["assignee_id", "due_at"],
    "ix_task_assignee_assigned": ["assignee_id", "assigned_at"],
}


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            for name, columns in INDEXES.items():
                if _left_invalid(name):  # a build that stopped half way (a cancelled deploy, a timeout)
                    op.drop_index(name, table_name="task", postgresql_concurrently=True)
                op.create_index(name, "task", columns, postgresql_concurrently=True, if_not_exists=True)
        return
    with op.batch_alter_table("task", schema=None) as batch_op:
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def _left_invalid(name: str) -> bool:
    """Whether an index of that name exists but is INVALID: what a CONCURRENTLY build that failed leaves."""
    statement = sa.text(
        "SELECT NOT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = :name"
    )
    return bool(op.get_bind().execute(statement, {"name": name}).scalar())


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            for name in reversed(INDEXES):
                op.drop_index(name, table_name="task", postgresql_concurrently=True, if_exists=True)
        return
    with op.batch_alter_table("task", schema=None) as batch_op:
        for name in reversed(INDEXES):
            batch_op.drop_index(name)
