"""orders and payments

Orders with their lines (each reserving units at its source location) and the
coupons they use; payments (at the counter, or by WeChat Pay / Alipay QR code)
and refunds. CHECK constraints keep quantities in 1..99 and refunds within
what was paid.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sales_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("subtotal", sa.BigInteger(), nullable=False),
        sa.Column("discount", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("refunded_amount", sa.BigInteger(), nullable=False),
        sa.Column("shipping_address", sa.JSON(), nullable=True),
        sa.Column("pickup_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=True),
        sa.Column("guide_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "refunded_amount >= 0 AND refunded_amount <= total", name=op.f("ck_sales_order_refund_within_total")
        ),
        sa.ForeignKeyConstraint(["booking_id"], ["booking.id"], name=op.f("fk_sales_order_booking_id_booking")),
        sa.ForeignKeyConstraint(["guide_id"], ["staff_user.id"], name=op.f("fk_sales_order_guide_id_staff_user")),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_sales_order_person_id_person")),
        sa.ForeignKeyConstraint(["store_id"], ["store.id"], name=op.f("fk_sales_order_store_id_store")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_order")),
    )
    with op.batch_alter_table("sales_order", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sales_order_booking_id"), ["booking_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sales_order_guide_id"), ["guide_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sales_order_person_id"), ["person_id"], unique=False)
        batch_op.create_index("ix_sales_order_store_created", ["store_id", "created_at"], unique=False)
        batch_op.create_index("ix_sales_order_unpaid_expiry", ["status", "expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_sales_order_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "order_coupon",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("coupon_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("discount", sa.BigInteger(), nullable=False),
        sa.Column("line_discounts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["coupon_campaign.id"], name=op.f("fk_order_coupon_campaign_id_coupon_campaign")
        ),
        sa.ForeignKeyConstraint(["coupon_id"], ["coupon.id"], name=op.f("fk_order_coupon_coupon_id_coupon")),
        sa.ForeignKeyConstraint(["order_id"], ["sales_order.id"], name=op.f("fk_order_coupon_order_id_sales_order")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_coupon")),
        sa.UniqueConstraint("order_id", "campaign_id", name=op.f("uq_order_coupon_order_id")),
    )
    with op.batch_alter_table("order_coupon", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_coupon_coupon_id"), ["coupon_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_coupon_order_id"), ["order_id"], unique=False)

    op.create_table(
        "order_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.Column("subtotal", sa.BigInteger(), nullable=False),
        sa.Column("discount", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("fulfillment", sa.String(length=32), nullable=False),
        sa.Column("source_location_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("refunded_quantity", sa.Integer(), nullable=False),
        sa.Column("refunded_amount", sa.BigInteger(), nullable=False),
        sa.Column("carrier", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("tracking_number", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("fulfilled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity BETWEEN 1 AND 99", name=op.f("ck_order_line_quantity_in_range")),
        sa.CheckConstraint(
            "refunded_quantity >= 0 AND refunded_quantity <= quantity",
            name=op.f("ck_order_line_refund_within_quantity"),
        ),
        sa.ForeignKeyConstraint(["order_id"], ["sales_order.id"], name=op.f("fk_order_line_order_id_sales_order")),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"], name=op.f("fk_order_line_product_id_product")),
        sa.ForeignKeyConstraint(["sku_id"], ["product_sku.id"], name=op.f("fk_order_line_sku_id_product_sku")),
        sa.ForeignKeyConstraint(
            ["source_location_id"], ["stock_location.id"], name=op.f("fk_order_line_source_location_id_stock_location")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_line")),
    )
    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_line_order_id"), ["order_id"], unique=False)

    op.create_table(
        "payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("out_trade_no", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("refunded_amount", sa.BigInteger(), nullable=False),
        sa.Column("terminal_reference", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("qr_payload", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=True),
        sa.Column("provider_transaction_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["sales_order.id"], name=op.f("fk_payment_order_id_sales_order")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment")),
        sa.UniqueConstraint("out_trade_no", name=op.f("uq_payment_out_trade_no")),
    )
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_order_id"), ["order_id"], unique=False)
        batch_op.create_index("ix_payment_pending_created", ["status", "created_at"], unique=False)

    op.create_table(
        "refund",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("out_refund_no", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("restock", sa.Boolean(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("provider_refund_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["sales_order.id"], name=op.f("fk_refund_order_id_sales_order")),
        sa.ForeignKeyConstraint(["payment_id"], ["payment.id"], name=op.f("fk_refund_payment_id_payment")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund")),
        sa.UniqueConstraint("out_refund_no", name=op.f("uq_refund_out_refund_no")),
    )
    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refund_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_refund_payment_id"), ["payment_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refund_payment_id"))
        batch_op.drop_index(batch_op.f("ix_refund_order_id"))

    op.drop_table("refund")
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_pending_created")
        batch_op.drop_index(batch_op.f("ix_payment_order_id"))

    op.drop_table("payment")
    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_line_order_id"))

    op.drop_table("order_line")
    with op.batch_alter_table("order_coupon", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_coupon_order_id"))
        batch_op.drop_index(batch_op.f("ix_order_coupon_coupon_id"))

    op.drop_table("order_coupon")
    with op.batch_alter_table("sales_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sales_order_updated_at"))
        batch_op.drop_index("ix_sales_order_unpaid_expiry")
        batch_op.drop_index("ix_sales_order_store_created")
        batch_op.drop_index(batch_op.f("ix_sales_order_person_id"))
        batch_op.drop_index(batch_op.f("ix_sales_order_guide_id"))
        batch_op.drop_index(batch_op.f("ix_sales_order_booking_id"))

    op.drop_table("sales_order")
