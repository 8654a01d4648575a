"""customer events without foreign keys

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 07:21:25.413434
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customer_event", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_customer_event_product_id_product"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_customer_event_livestream_id_livestream"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_customer_event_store_id_store"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_customer_event_person_id_person"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_customer_event_home_person_id_person"), type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("customer_event", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_customer_event_home_person_id_person"), "person", ["home_person_id"], ["id"]
        )
        batch_op.create_foreign_key(batch_op.f("fk_customer_event_person_id_person"), "person", ["person_id"], ["id"])
        batch_op.create_foreign_key(batch_op.f("fk_customer_event_store_id_store"), "store", ["store_id"], ["id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_customer_event_livestream_id_livestream"), "livestream", ["livestream_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_customer_event_product_id_product"), "product", ["product_id"], ["id"]
        )
