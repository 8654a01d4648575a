"""money amounts are 64-bit

``product.price_amount`` becomes BIGINT: the API's Money amounts are 64-bit
safe (the MoneyAmount scalar), so the columns that hold them are too.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.alter_column(
            "price_amount", existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.alter_column(
            "price_amount", existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False
        )
