"""task history by assignee

An index on ``task_history (assignee_id, task_id)``: after a dropped socket the guide app asks
which tasks she held were given away meanwhile (``myRemovedTaskIds``), through her history rows.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 06:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_task_history_assignee_task", "task_history", ["assignee_id", "task_id"])


def downgrade() -> None:
    op.drop_index("ix_task_history_assignee_task", table_name="task_history")
