"""shifts bookings tasks messages and outbox

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 08:15:46.209422
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("event", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_published_id", ["published_at", "id"], unique=False)

    op.create_table(
        "sop_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_type", sa.String(length=32), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sop_template")),
        sa.UniqueConstraint("customer_type", name=op.f("uq_sop_template_customer_type")),
    )
    op.create_table(
        "slot_capacity_override",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["store_id"], ["store.id"], name=op.f("fk_slot_capacity_override_store_id_store")),
        sa.PrimaryKeyConstraint("store_id", "day", name=op.f("pk_slot_capacity_override")),
    )
    op.create_table(
        "slot_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("slot_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["store_id"], ["store.id"], name=op.f("fk_slot_ledger_store_id_store")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slot_ledger")),
        sa.UniqueConstraint("store_id", "slot_start", name=op.f("uq_slot_ledger_store_id")),
    )
    op.create_table(
        "store_slot_settings",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.Column("guide_capacity", sa.Integer(), nullable=False),
        sa.Column("lead_minutes", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["store_id"], ["store.id"], name=op.f("fk_store_slot_settings_store_id_store")),
        sa.PrimaryKeyConstraint("store_id", name=op.f("pk_store_slot_settings")),
    )
    op.create_table(
        "shift_exception",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("starts", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
        sa.Column("ends", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_user.id"], name=op.f("fk_shift_exception_staff_id_staff_user")),
        sa.ForeignKeyConstraint(["store_id"], ["store.id"], name=op.f("fk_shift_exception_store_id_store")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shift_exception")),
    )
    with op.batch_alter_table("shift_exception", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shift_exception_staff_id"), ["staff_id"], unique=False)
        batch_op.create_index("ix_shift_exception_store_day", ["store_id", "day"], unique=False)

    op.create_table(
        "shift_pattern",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("starts", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("ends", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_user.id"], name=op.f("fk_shift_pattern_staff_id_staff_user")),
        sa.ForeignKeyConstraint(["store_id"], ["store.id"], name=op.f("fk_shift_pattern_store_id_store")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shift_pattern")),
    )
    with op.batch_alter_table("shift_pattern", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shift_pattern_staff_id"), ["staff_id"], unique=False)
        batch_op.create_index("ix_shift_pattern_store_weekday", ["store_id", "weekday"], unique=False)

    op.create_table(
        "booking",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("slot_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("slot_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("livestream_id", sa.Integer(), nullable=True),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("qr_nonce", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("cancel_reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["livestream_id"], ["livestream.id"], name=op.f("fk_booking_livestream_id_livestream")),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_booking_person_id_person")),
        sa.ForeignKeyConstraint(["service_id"], ["service.id"], name=op.f("fk_booking_service_id_service")),
        sa.ForeignKeyConstraint(["store_id"], ["store.id"], name=op.f("fk_booking_store_id_store")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking")),
    )
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_booking_livestream_id"), ["livestream_id"], unique=False)
        batch_op.create_index("ix_booking_person_slot", ["person_id", "slot_start"], unique=False)
        batch_op.create_index("ix_booking_status_slot_end", ["status", "slot_end"], unique=False)
        batch_op.create_index("ix_booking_store_slot", ["store_id", "slot_start"], unique=False)

    op.create_table(
        "customer_booking_count",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("upcoming", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_customer_booking_count_person_id_person")),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_customer_booking_count")),
    )
    op.create_table(
        "outbound_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("dedupe_key", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_outbound_message_person_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_message")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbound_message_dedupe_key")),
    )
    with op.batch_alter_table("outbound_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbound_message_person_id"), ["person_id"], unique=False)
        batch_op.create_index("ix_outbound_message_status_id", ["status", "id"], unique=False)

    op.create_table(
        "booking_product",
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["booking.id"], name=op.f("fk_booking_product_booking_id_booking"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"], name=op.f("fk_booking_product_product_id_product")),
        sa.PrimaryKeyConstraint("booking_id", "product_id", name=op.f("pk_booking_product")),
    )
    op.create_table(
        "task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assignment_reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("priority", sa.String(length=32), nullable=False),
        sa.Column("customer_type", sa.String(length=32), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ack_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalations", sa.Integer(), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["assignee_id"], ["staff_user.id"], name=op.f("fk_task_assignee_id_staff_user")),
        sa.ForeignKeyConstraint(["booking_id"], ["booking.id"], name=op.f("fk_task_booking_id_booking")),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_task_person_id_person")),
        sa.ForeignKeyConstraint(["store_id"], ["store.id"], name=op.f("fk_task_store_id_store")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_task_booking_id")),
    )
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index("ix_task_assignee_updated", ["assignee_id", "updated_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_person_id"), ["person_id"], unique=False)
        batch_op.create_index("ix_task_status_ack_due", ["status", "ack_due_at"], unique=False)
        batch_op.create_index("ix_task_store_status", ["store_id", "status"], unique=False)

    op.create_table(
        "task_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["staff_user.id"], name=op.f("fk_task_history_assignee_id_staff_user")
        ),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"], name=op.f("fk_task_history_task_id_task")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_history")),
    )
    with op.batch_alter_table("task_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_history_task_id"), ["task_id"], unique=False)

    op.create_table(
        "task_step",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("guidance", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"], name=op.f("fk_task_step_task_id_task"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("task_id", "position", name=op.f("pk_task_step")),
    )


def downgrade() -> None:
    op.drop_table("task_step")
    with op.batch_alter_table("task_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_history_task_id"))

    op.drop_table("task_history")
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index("ix_task_store_status")
        batch_op.drop_index("ix_task_status_ack_due")
        batch_op.drop_index(batch_op.f("ix_task_person_id"))
        batch_op.drop_index("ix_task_assignee_updated")

    op.drop_table("task")
    op.drop_table("booking_product")
    with op.batch_alter_table("outbound_message", schema=None) as batch_op:
        batch_op.drop_index("ix_outbound_message_status_id")
        batch_op.drop_index(batch_op.f("ix_outbound_message_person_id"))

    op.drop_table("outbound_message")
    op.drop_table("customer_booking_count")
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_index("ix_booking_store_slot")
        batch_op.drop_index("ix_booking_status_slot_end")
        batch_op.drop_index("ix_booking_person_slot")
        batch_op.drop_index(batch_op.f("ix_booking_livestream_id"))

    op.drop_table("booking")
    with op.batch_alter_table("shift_pattern", schema=None) as batch_op:
        batch_op.drop_index("ix_shift_pattern_store_weekday")
        batch_op.drop_index(batch_op.f("ix_shift_pattern_staff_id"))

    op.drop_table("shift_pattern")
    with op.batch_alter_table("shift_exception", schema=None) as batch_op:
        batch_op.drop_index("ix_shift_exception_store_day")
        batch_op.drop_index(batch_op.f("ix_shift_exception_staff_id"))

    op.drop_table("shift_exception")
    op.drop_table("store_slot_settings")
    op.drop_table("slot_ledger")
    op.drop_table("slot_capacity_override")
    op.drop_table("sop_template")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_published_id")

    op.drop_table("outbox")
