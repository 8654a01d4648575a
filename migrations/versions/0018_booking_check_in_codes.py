"""booking check-in codes

A booking's 6-digit code, typed by a guide where her QR code cannot be scanned
(bookingCheckIn's checkInCode). The primary key (store, code) keeps a code unique
among those its store holds. Bookings CONFIRMED before this revision get a code
here, drawn at random and distinct per store, so every booking that can still be
checked in has one; the others (checked in, completed, cancelled, no-shows) need none.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 10:00:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    codes = op.create_table(
        "booking_check_in_code",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["booking_id"], ["booking.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["store_id"], ["store.id"]),
        sa.PrimaryKeyConstraint("store_id", "code"),
        sa.UniqueConstraint("booking_id"),
    )
    connection = op.get_bind()
    confirmed = connection.execute(
        sa.text("SELECT id, store_id FROM booking WHERE status = 'CONFIRMED' ORDER BY id")
    ).all()
    taken: dict[int, set[str]] = {}
    rows = []
    for booking_id, store_id in confirmed:
        held = taken.setdefault(store_id, set())
        code = f"{secrets.randbelow(10**6):06d}"
        while code in held:
            code = f"{secrets.randbelow(10**6):06d}"
        held.add(code)
        rows.append({"store_id": store_id, "code": code, "booking_id": booking_id})
    if rows:
        op.bulk_insert(codes, rows)


def downgrade() -> None:
    op.drop_table("booking_check_in_code")
