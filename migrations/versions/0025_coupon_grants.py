"""coupon grants: a coupon given outside the claim flow, once per reason

A referral reward (and any later grant) is keyed by its reason, so a retried grant gives nothing new.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 13:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "coupon_grant",
        sa.Column("reason_key", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("coupon_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["coupon_id"], ["coupon.id"], name=op.f("fk_coupon_grant_coupon_id_coupon")),
        sa.PrimaryKeyConstraint("reason_key", name=op.f("pk_coupon_grant")),
        sa.UniqueConstraint("coupon_id", name=op.f("uq_coupon_grant_coupon_id")),
    )


def downgrade() -> None:
    op.drop_table("coupon_grant")
