"""sessions checked by refresh-token family

Access tokens now name their session (the refresh-token family) and every
request checks that the session was not ended, so the per-account
``sessions_revoked_at`` timestamp (which let a token issued in the same instant
as the revocation through) is no longer needed.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 08:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REVOKED = sa.text("revoked_at IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("refresh_token", schema=None) as batch_op:
        batch_op.create_index(
            "ix_refresh_token_revoked_family",
            ["family_id"],
            unique=False,
            postgresql_where=REVOKED,
            sqlite_where=REVOKED,
        )
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.drop_column("sessions_revoked_at")


def downgrade() -> None:
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sessions_revoked_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("refresh_token", schema=None) as batch_op:
        batch_op.drop_index("ix_refresh_token_revoked_family", postgresql_where=REVOKED, sqlite_where=REVOKED)
