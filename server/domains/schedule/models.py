"""Guide shifts and the slot grid of each store: what bookable capacity a store has when."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ...clock import utcnow
from ...columns import enum_field, utc_field


class SlotSettings(SQLModel, table=True):
    """A store's booking grid; a store without a row uses the defaults."""

    __tablename__ = "store_slot_settings"

    store_id: int = Field(foreign_key="store.id", primary_key=True)
    slot_minutes: int = 30
    guide_capacity: int = Field(default=1, description="customers one guide receives at once")
    lead_minutes: int = Field(default=30, description="how long before a slot booking closes")
    updated_at: datetime = utc_field(default_factory=utcnow)


class ShiftPattern(SQLModel, table=True):
    """A guide's weekly shift: on this weekday, from ``starts`` to ``ends`` (store-local HH:MM)."""

    __tablename__ = "shift_pattern"
    __table_args__ = (sa.Index("ix_shift_pattern_store_weekday", "store_id", "weekday"),)

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff_user.id", index=True)
    store_id: int = Field(foreign_key="store.id")
    weekday: int = Field(description="Monday = 0")
    starts: str = Field(max_length=5)
    ends: str = Field(max_length=5)


class ShiftException(SQLModel, table=True):
    """A dated change to the pattern: LEAVE (the whole day, or from-to) or an EXTRA shift."""

    __tablename__ = "shift_exception"
    __table_args__ = (sa.Index("ix_shift_exception_store_day", "store_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff_user.id", index=True)
    store_id: int = Field(foreign_key="store.id")
    day: date
    kind: str = enum_field()
    starts: str | None = Field(default=None, max_length=5)
    ends: str | None = Field(default=None, max_length=5)
    note: str = Field(default="", max_length=200)
    created_at: datetime = utc_field(default_factory=utcnow)


class CapacityOverride(SQLModel, table=True):
    """Per-slot capacity of a store on one date, instead of what the shifts give."""

    __tablename__ = "slot_capacity_override"

    store_id: int = Field(foreign_key="store.id", primary_key=True)
    day: date = Field(primary_key=True)
    capacity: int
    updated_at: datetime = utc_field(default_factory=utcnow)
