"""shifts slots and bookings

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 08:01:18.293320
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('slot_capacity_override',
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_slot_capacity_override_store_id_store')),
    sa.PrimaryKeyConstraint('store_id', 'day', name=op.f('pk_slot_capacity_override'))
    )
    op.create_table('slot_ledger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('slot_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('booked', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_slot_ledger_store_id_store')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slot_ledger')),
    sa.UniqueConstraint('store_id', 'slot_start', name=op.f('uq_slot_ledger_store_id'))
    )
    op.create_table('store_slot_settings',
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('slot_minutes', sa.Integer(), nullable=False),
    sa.Column('guide_capacity', sa.Integer(), nullable=False),
    sa.Column('lead_minutes', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_store_slot_settings_store_id_store')),
    sa.PrimaryKeyConstraint('store_id', name=op.f('pk_store_slot_settings'))
    )
    op.create_table('shift_exception',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('starts', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
    sa.Column('ends', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_user.id'], name=op.f('fk_shift_exception_staff_id_staff_user')),
    sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_shift_exception_store_id_store')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shift_exception'))
    )
    with op.batch_alter_table('shift_exception', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shift_exception_staff_id'), ['staff_id'], unique=False)
        batch_op.create_index('ix_shift_exception_store_day', ['store_id', 'day'], unique=False)

    op.create_table('shift_pattern',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('starts', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('ends', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_user.id'], name=op.f('fk_shift_pattern_staff_id_staff_user')),
    sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_shift_pattern_store_id_store')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shift_pattern'))
    )
    with op.batch_alter_table('shift_pattern', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shift_pattern_staff_id'), ['staff_id'], unique=False)
        batch_op.create_index('ix_shift_pattern_store_weekday', ['store_id', 'weekday'], unique=False)

    op.create_table('booking',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('slot_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('slot_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('livestream_id', sa.Integer(), nullable=True),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('cancel_reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['livestream_id'], ['livestream.id'], name=op.f('fk_booking_livestream_id_livestream')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_booking_person_id_person')),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_booking_service_id_service')),
    sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_booking_store_id_store')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking'))
    )
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_livestream_id'), ['livestream_id'], unique=False)
        batch_op.create_index('ix_booking_person_slot', ['person_id', 'slot_start'], unique=False)
        batch_op.create_index('ix_booking_status_slot_end', ['status', 'slot_end'], unique=False)
        batch_op.create_index('ix_booking_store_slot', ['store_id', 'slot_start'], unique=False)

    op.create_table('customer_booking_count',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('upcoming', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_customer_booking_count_person_id_person')),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_customer_booking_count'))
    )
    op.create_table('booking_product',
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_booking_product_booking_id_booking'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_booking_product_product_id_product')),
    sa.PrimaryKeyConstraint('booking_id', 'product_id', name=op.f('pk_booking_product'))
    )


def downgrade() -> None:
    op.drop_table('booking_product')
    op.drop_table('customer_booking_count')
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_index('ix_booking_store_slot')
        batch_op.drop_index('ix_booking_status_slot_end')
        batch_op.drop_index('ix_booking_person_slot')
        batch_op.drop_index(batch_op.f('ix_booking_livestream_id'))

    op.drop_table('booking')
    with op.batch_alter_table('shift_pattern', schema=None) as batch_op:
        batch_op.drop_index('ix_shift_pattern_store_weekday')
        batch_op.drop_index(batch_op.f('ix_shift_pattern_staff_id'))

    op.drop_table('shift_pattern')
    with op.batch_alter_table('shift_exception', schema=None) as batch_op:
        batch_op.drop_index('ix_shift_exception_store_day')
        batch_op.drop_index(batch_op.f('ix_shift_exception_staff_id'))

    op.drop_table('shift_exception')
    op.drop_table('store_slot_settings')
    op.drop_table('slot_ledger')
    op.drop_table('slot_capacity_override')
