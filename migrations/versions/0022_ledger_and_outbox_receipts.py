"""ledger and outbox receipts

The performance engine: the brand's attribution rule, HQ's commission plans, each paid order's
attribution (journey and plans frozen), the append-only ledger and its monthly periods; and the
receipts of durable outbox consumers (each message handled once, whatever the replicas).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 11:57:09.546099
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attribution_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attribution_rule")),
    )
    op.create_table(
        "ledger_period",
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.PrimaryKeyConstraint("period", name=op.f("pk_ledger_period")),
    )
    op.create_table(
        "outbox_receipt",
        sa.Column("consumer", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "message_id", name=op.f("pk_outbox_receipt")),
    )
    op.create_table(
        "commission_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=True),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shares", sa.JSON(), nullable=False),
        sa.Column("rate_basis_points", sa.Integer(), nullable=False),
        sa.Column("category_rates", sa.JSON(), nullable=False),
        sa.Column("referrer_reward_campaign_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["referrer_reward_campaign_id"],
            ["coupon_campaign.id"],
            name=op.f("fk_commission_plan_referrer_reward_campaign_id_coupon_campaign"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commission_plan")),
    )
    with op.batch_alter_table("commission_plan", schema=None) as batch_op:
        batch_op.create_index("ix_commission_plan_scope", ["scope", "scope_id", "effective_from"], unique=False)

    op.create_table(
        "order_attribution",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("guide_id", sa.Integer(), nullable=True),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("livestream_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("referrer_id", sa.Integer(), nullable=True),
        sa.Column("journey", sa.JSON(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["booking_id"], ["booking.id"], name=op.f("fk_order_attribution_booking_id_booking")),
        sa.ForeignKeyConstraint(["guide_id"], ["staff_user.id"], name=op.f("fk_order_attribution_guide_id_staff_user")),
        sa.ForeignKeyConstraint(
            ["livestream_id"], ["livestream.id"], name=op.f("fk_order_attribution_livestream_id_livestream")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["sales_order.id"], name=op.f("fk_order_attribution_order_id_sales_order")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_order_attribution_person_id_person")),
        sa.ForeignKeyConstraint(["referrer_id"], ["person.id"], name=op.f("fk_order_attribution_referrer_id_person")),
        sa.ForeignKeyConstraint(["store_id"], ["store.id"], name=op.f("fk_order_attribution_store_id_store")),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"], name=op.f("fk_order_attribution_team_id_team")),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_order_attribution")),
    )
    with op.batch_alter_table("order_attribution", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_attribution_guide_id"), ["guide_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_attribution_livestream_id"), ["livestream_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_attribution_paid_at"), ["paid_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_attribution_store_id"), ["store_id"], unique=False)

    op.create_table(
        "ledger_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("beneficiary_kind", sa.String(length=32), nullable=False),
        sa.Column("beneficiary_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("revenue", sa.BigInteger(), nullable=False),
        sa.Column("commission", sa.BigInteger(), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("event_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("livestream_id", sa.Integer(), nullable=True),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["line_id"], ["order_line.id"], name=op.f("fk_ledger_entry_line_id_order_line")),
        sa.ForeignKeyConstraint(["order_id"], ["sales_order.id"], name=op.f("fk_ledger_entry_order_id_sales_order")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entry")),
        sa.UniqueConstraint("event_key", "line_id", "beneficiary_kind", "beneficiary_id", name="uq_ledger_entry_part"),
    )
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_entry_beneficiary_time", ["beneficiary_kind", "beneficiary_id", "occurred_at"], unique=False
        )
        batch_op.create_index("ix_ledger_entry_livestream", ["livestream_id"], unique=False)
        batch_op.create_index("ix_ledger_entry_order", ["order_id"], unique=False)
        batch_op.create_index(
            "ix_ledger_entry_period_beneficiary", ["period", "beneficiary_kind", "beneficiary_id"], unique=False
        )
        batch_op.create_index("ix_ledger_entry_store_period", ["store_id", "period"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_entry_store_period")
        batch_op.drop_index("ix_ledger_entry_period_beneficiary")
        batch_op.drop_index("ix_ledger_entry_order")
        batch_op.drop_index("ix_ledger_entry_livestream")
        batch_op.drop_index("ix_ledger_entry_beneficiary_time")

    op.drop_table("ledger_entry")
    with op.batch_alter_table("order_attribution", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_attribution_store_id"))
        batch_op.drop_index(batch_op.f("ix_order_attribution_paid_at"))
        batch_op.drop_index(batch_op.f("ix_order_attribution_livestream_id"))
        batch_op.drop_index(batch_op.f("ix_order_attribution_guide_id"))

    op.drop_table("order_attribution")
    with op.batch_alter_table("commission_plan", schema=None) as batch_op:
        batch_op.drop_index("ix_commission_plan_scope")

    op.drop_table("commission_plan")
    op.drop_table("outbox_receipt")
    op.drop_table("ledger_period")
    op.drop_table("attribution_rule")
