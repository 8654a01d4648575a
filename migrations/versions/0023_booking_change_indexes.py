"""booking change indexes

The dashboards' ``bookings`` query reads bookings in (updated_at, id) order, of
every store, of one livestream or of one store, from an instant on (the catch-up
after a dropped socket). The (livestream_id, updated_at, id) index also serves
lookups by livestream alone, so it replaces ix_booking_livestream_id.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.create_index("ix_booking_updated", ["updated_at", "id"], unique=False)
        batch_op.create_index("ix_booking_livestream_updated", ["livestream_id", "updated_at", "id"], unique=False)
        batch_op.create_index("ix_booking_store_updated", ["store_id", "updated_at", "id"], unique=False)
        batch_op.drop_index("ix_booking_livestream_id")


def downgrade() -> None:
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.create_index("ix_booking_livestream_id", ["livestream_id"], unique=False)
        batch_op.drop_index("ix_booking_store_updated")
        batch_op.drop_index("ix_booking_livestream_updated")
        batch_op.drop_index("ix_booking_updated")
