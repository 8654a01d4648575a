"""product SKUs and images

A product's sellable variants (shade, size) with barcode and price: stock and
orders count SKUs. Every product stored before this revision gets one SKU
with its own code and price, so nothing on sale loses its way to be sold.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "product_sku",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("barcode", sqlmodel.sql.sqltypes.AutoString(length=13), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("price_amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"], name=op.f("fk_product_sku_product_id_product")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_sku")),
        sa.UniqueConstraint("barcode", name=op.f("uq_product_sku_barcode")),
        sa.UniqueConstraint("code", name=op.f("uq_product_sku_code")),
    )
    with op.batch_alter_table("product_sku", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_sku_product_id"), ["product_id"], unique=False)
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.add_column(sa.Column("images", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.alter_column("images", server_default=None)
    op.execute(
        "INSERT INTO product_sku (product_id, code, barcode, attributes, price_amount, currency, active,"
        " created_at, updated_at)"
        " SELECT id, sku, NULL, '{}', price_amount, currency, active, created_at, updated_at FROM product"
    )


def downgrade() -> None:
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_column("images")
    with op.batch_alter_table("product_sku", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_sku_product_id"))
    op.drop_table("product_sku")
