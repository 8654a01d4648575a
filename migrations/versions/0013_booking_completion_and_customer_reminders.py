"""booking completion and customer reminders per slot

Bookings record when their reception was completed, and whether her reminder of
the current slot was queued (reset when the booking moves). Reminders queued
before this revision were keyed "booking:<id>:remind": those bookings are
marked reminded, so nobody gets the same reminder twice after the upgrade; bookings
whose reception task was already DONE become COMPLETED.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27 14:15:01.637265
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.add_column(sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("customer_reminded_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_booking_status_slot_start", ["status", "slot_start"], unique=False)
    op.execute(
        sa.text(
            "UPDATE booking SET customer_reminded_at = (SELECT m.created_at FROM outbound_message m "
            "WHERE m.dedupe_key = 'booking:' || booking.id || :suffix) WHERE status = 'CONFIRMED'"
        ).bindparams(suffix=":remind")
    )
    # Receptions finished before this revision left their booking CHECKED_IN: complete them.
    op.execute(
        "UPDATE booking SET status = 'COMPLETED', completed_at = (SELECT max(t.updated_at) FROM task t "
        "WHERE t.booking_id = booking.id AND t.status = 'DONE') WHERE status = 'CHECKED_IN' AND EXISTS "
        "(SELECT 1 FROM task t WHERE t.booking_id = booking.id AND t.status = 'DONE')"
    )


def downgrade() -> None:
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_index("ix_booking_status_slot_start")
        batch_op.drop_column("customer_reminded_at")
        batch_op.drop_column("completed_at")
