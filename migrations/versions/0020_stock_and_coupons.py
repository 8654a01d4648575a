"""stock and coupons

Inventory: stock locations (one per store, made here for the stores there are, plus warehouses), levels per SKU and
location whose CHECK constraints forbid negative or over-reserved stock, and the
append-only movements whose sum is on hand. Coupons: livestream campaigns, the
per-customer claim counters, and the coupons claimed.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stock_location",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=True),
        sa.Column("city", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["store_id"], ["store.id"], name=op.f("fk_stock_location_store_id_store")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_location")),
        sa.UniqueConstraint("code", name=op.f("uq_stock_location_code")),
        sa.UniqueConstraint("store_id", name=op.f("uq_stock_location_store_id")),
    )
    op.create_table(
        "coupon_campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("livestream_id", sa.Integer(), nullable=False),
        sa.Column("discount_kind", sa.String(length=32), nullable=False),
        sa.Column("amount_off", sa.BigInteger(), nullable=False),
        sa.Column("percent_off", sa.Integer(), nullable=False),
        sa.Column("max_discount", sa.BigInteger(), nullable=False),
        sa.Column("min_spend", sa.BigInteger(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("total_stock", sa.Integer(), nullable=False),
        sa.Column("claimed", sa.Integer(), nullable=False),
        sa.Column("per_customer_limit", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("product_ids", sa.JSON(), nullable=False),
        sa.Column("category_ids", sa.JSON(), nullable=False),
        sa.Column("store_ids", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "claimed >= 0 AND claimed <= total_stock", name=op.f("ck_coupon_campaign_claimed_within_stock")
        ),
        sa.ForeignKeyConstraint(
            ["livestream_id"], ["livestream.id"], name=op.f("fk_coupon_campaign_livestream_id_livestream")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupon_campaign")),
    )
    with op.batch_alter_table("coupon_campaign", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coupon_campaign_livestream_id"), ["livestream_id"], unique=False)

    op.create_table(
        "coupon",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("redeemed_order_id", sa.Integer(), nullable=True),
        sa.Column("redeemed_store_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["coupon_campaign.id"], name=op.f("fk_coupon_campaign_id_coupon_campaign")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_coupon_person_id_person")),
        sa.ForeignKeyConstraint(["redeemed_store_id"], ["store.id"], name=op.f("fk_coupon_redeemed_store_id_store")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupon")),
        sa.UniqueConstraint("code", name=op.f("uq_coupon_code")),
    )
    with op.batch_alter_table("coupon", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coupon_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_coupon_person_id"), ["person_id"], unique=False)

    op.create_table(
        "coupon_claim_count",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("claimed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["coupon_campaign.id"], name=op.f("fk_coupon_claim_count_campaign_id_coupon_campaign")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_coupon_claim_count_person_id_person")),
        sa.PrimaryKeyConstraint("campaign_id", "person_id", name=op.f("pk_coupon_claim_count")),
    )
    with op.batch_alter_table("coupon_claim_count", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coupon_claim_count_person_id"), ["person_id"], unique=False)

    op.create_table(
        "stock_level",
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.Integer(), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("on_hand >= 0", name=op.f("ck_stock_level_on_hand_not_negative")),
        sa.CheckConstraint(
            "reserved >= 0 AND reserved <= on_hand", name=op.f("ck_stock_level_reserved_within_on_hand")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["stock_location.id"], name=op.f("fk_stock_level_location_id_stock_location")
        ),
        sa.ForeignKeyConstraint(["sku_id"], ["product_sku.id"], name=op.f("fk_stock_level_sku_id_product_sku")),
        sa.PrimaryKeyConstraint("location_id", "sku_id", name=op.f("pk_stock_level")),
    )
    with op.batch_alter_table("stock_level", schema=None) as batch_op:
        batch_op.create_index("ix_stock_level_sku_location", ["sku_id", "location_id"], unique=False)

    op.create_table(
        "stock_movement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"], ["stock_location.id"], name=op.f("fk_stock_movement_location_id_stock_location")
        ),
        sa.ForeignKeyConstraint(["sku_id"], ["product_sku.id"], name=op.f("fk_stock_movement_sku_id_product_sku")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_movement")),
    )
    with op.batch_alter_table("stock_movement", schema=None) as batch_op:
        batch_op.create_index("ix_stock_movement_location_sku", ["location_id", "sku_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_stock_movement_sku_id"), ["sku_id"], unique=False)

    op.execute(
        "INSERT INTO stock_location (code, name, kind, store_id, city, latitude, longitude, active, created_at)"
        " SELECT 'STORE-' || code, name, 'STORE', id, city, latitude, longitude, active, created_at FROM store"
    )


def downgrade() -> None:
    with op.batch_alter_table("stock_movement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stock_movement_sku_id"))
        batch_op.drop_index("ix_stock_movement_location_sku")

    op.drop_table("stock_movement")
    with op.batch_alter_table("stock_level", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_level_sku_location")

    op.drop_table("stock_level")
    with op.batch_alter_table("coupon_claim_count", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coupon_claim_count_person_id"))

    op.drop_table("coupon_claim_count")
    with op.batch_alter_table("coupon", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coupon_person_id"))
        batch_op.drop_index(batch_op.f("ix_coupon_campaign_id"))

    op.drop_table("coupon")
    with op.batch_alter_table("coupon_campaign", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coupon_campaign_livestream_id"))

    op.drop_table("coupon_campaign")
    op.drop_table("stock_location")
