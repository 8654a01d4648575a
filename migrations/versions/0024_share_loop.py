"""share loop: ugc posts and referrals

Customers' posts about their visits (moderated, featured in livestreams), their referral codes,
who brought whom, and the share invitations sent after completed visits.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04 12:40:10.912149
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "referral",
        sa.Column("referred_id", sa.Integer(), nullable=False),
        sa.Column("referrer_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["referred_id"], ["person.id"], name=op.f("fk_referral_referred_id_person")),
        sa.ForeignKeyConstraint(["referrer_id"], ["person.id"], name=op.f("fk_referral_referrer_id_person")),
        sa.PrimaryKeyConstraint("referred_id", name=op.f("pk_referral")),
    )
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referral_referrer_id"), ["referrer_id"], unique=False)

    op.create_table(
        "referral_code",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_referral_code_person_id_person")),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_referral_code")),
        sa.UniqueConstraint("code", name=op.f("uq_referral_code_code")),
    )
    op.create_table(
        "share_invitation",
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["booking_id"], ["booking.id"], name=op.f("fk_share_invitation_booking_id_booking")),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_share_invitation_person_id_person")),
        sa.PrimaryKeyConstraint("booking_id", name=op.f("pk_share_invitation")),
    )
    op.create_table(
        "ugc_post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("store_id", sa.Integer(), nullable=True),
        sa.Column("livestream_id", sa.Integer(), nullable=True),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("image_urls", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("moderated_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("moderated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reject_reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("featured_livestream_id", sa.Integer(), nullable=True),
        sa.Column("featured_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["booking_id"], ["booking.id"], name=op.f("fk_ugc_post_booking_id_booking")),
        sa.ForeignKeyConstraint(
            ["featured_livestream_id"], ["livestream.id"], name=op.f("fk_ugc_post_featured_livestream_id_livestream")
        ),
        sa.ForeignKeyConstraint(
            ["livestream_id"], ["livestream.id"], name=op.f("fk_ugc_post_livestream_id_livestream")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_ugc_post_person_id_person")),
        sa.ForeignKeyConstraint(["store_id"], ["store.id"], name=op.f("fk_ugc_post_store_id_store")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ugc_post")),
    )
    with op.batch_alter_table("ugc_post", schema=None) as batch_op:
        batch_op.create_index("ix_ugc_post_featured", ["featured_livestream_id", "featured_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_ugc_post_livestream_id"), ["livestream_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ugc_post_person_id"), ["person_id"], unique=False)
        batch_op.create_index("ix_ugc_post_status_created", ["status", "created_at"], unique=False)
        batch_op.create_index("ix_ugc_post_store_created", ["store_id", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ugc_post", schema=None) as batch_op:
        batch_op.drop_index("ix_ugc_post_store_created")
        batch_op.drop_index("ix_ugc_post_status_created")
        batch_op.drop_index(batch_op.f("ix_ugc_post_person_id"))
        batch_op.drop_index(batch_op.f("ix_ugc_post_livestream_id"))
        batch_op.drop_index("ix_ugc_post_featured")

    op.drop_table("ugc_post")
    op.drop_table("share_invitation")
    op.drop_table("referral_code")
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_referrer_id"))

    op.drop_table("referral")
