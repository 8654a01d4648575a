"""Store-visit bookings and the seat count of every slot."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ...clock import utcnow
from ...columns import enum_field, utc_field


class SlotLedger(SQLModel, table=True):
    """Seats taken in one slot of one store: the counter the capacity check updates atomically."""

    __tablename__ = "slot_ledger"
    __table_args__ = (sa.UniqueConstraint("store_id", "slot_start"),)

    id: int | None = Field(default=None, primary_key=True)
    store_id: int = Field(foreign_key="store.id")
    slot_start: datetime = utc_field()
    booked: int = 0


class CustomerBookingCount(SQLModel, table=True):
    """Upcoming (CONFIRMED) bookings of a customer: the counter the per-customer limit updates atomically."""

    __tablename__ = "customer_booking_count"

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    upcoming: int = 0


class Booking(SQLModel, table=True):
    __tablename__ = "booking"
    __table_args__ = (
        sa.Index("ix_booking_store_slot", "store_id", "slot_start"),
        sa.Index("ix_booking_person_slot", "person_id", "slot_start"),
        sa.Index("ix_booking_status_slot_end", "status", "slot_end"),
        sa.Index("ix_booking_status_slot_start", "status", "slot_start"),
        # The dashboards' bookings query and its catch-up: changes in (updated_at, id) order, of
        # every store, of one livestream or of one store (a city's stores are a few store ids).
        sa.Index("ix_booking_updated", "updated_at", "id"),
        sa.Index("ix_booking_livestream_updated", "livestream_id", "updated_at", "id"),
        sa.Index("ix_booking_store_updated", "store_id", "updated_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    store_id: int = Field(foreign_key="store.id")
    slot_start: datetime = utc_field()
    slot_end: datetime = utc_field()
    status: str = enum_field()
    source: str = enum_field(description="LIVESTREAM, DIRECT or STAFF")
    channel: str | None = Field(default=None, max_length=32, description="the livestream's channel")
    livestream_id: int | None = Field(default=None, foreign_key="livestream.id")  # ix_booking_livestream_updated
    service_id: int | None = Field(default=None, foreign_key="service.id")
    note: str = Field(default="", max_length=500)
    qr_nonce: str = Field(
        default_factory=lambda: secrets.token_urlsafe(12),
        max_length=32,
        description="in the signed QR token: a forged or replaced code does not match",
    )
    created_by: str = Field(max_length=64, description="actor key: the customer, or the staff member")
    checked_in_at: datetime | None = utc_field(nullable=True, default=None)
    completed_at: datetime | None = utc_field(nullable=True, default=None)
    customer_reminded_at: datetime | None = utc_field(
        nullable=True, default=None, description="her reminder for the current slot was queued (reset on reschedule)"
    )
    cancelled_at: datetime | None = utc_field(nullable=True, default=None)
    cancelled_by: str | None = Field(default=None, max_length=64)
    cancel_reason: str | None = Field(default=None, max_length=200)
    created_at: datetime = utc_field(default_factory=utcnow)
    updated_at: datetime = utc_field(default_factory=utcnow)


class BookingCheckInCode(SQLModel, table=True):
    """A booking's 6-digit check-in code, typed by a guide where her QR code cannot be scanned.

    Six digits are not unique across bookings: the primary key (store, code) makes each code
    unique among the codes its store holds, and a code is held from booking until the booking
    can no longer be checked in (cancelled, no-show, or its check-in window long closed), so no
    two bookings a store could check in at the same moment share one. Codes are drawn at random
    and claimed with ``INSERT … ON CONFLICT DO NOTHING``: a taken code is drawn again.
    """

    __tablename__ = "booking_check_in_code"

    store_id: int = Field(foreign_key="store.id", primary_key=True)
    code: str = Field(primary_key=True, max_length=6, description="six digits, leading zeros kept")
    booking_id: int = Field(foreign_key="booking.id", unique=True, ondelete="CASCADE")


class BookingProduct(SQLModel, table=True):
    __tablename__ = "booking_product"

    booking_id: int = Field(foreign_key="booking.id", primary_key=True, ondelete="CASCADE")
    product_id: int = Field(foreign_key="product.id", primary_key=True)


BOOKING_EVENT_SOURCE = "bookings"


class BookingStatus(StrEnum):
    CONFIRMED = "CONFIRMED"
    CHECKED_IN = "CHECKED_IN"
    COMPLETED = "COMPLETED"
    NO_SHOW = "NO_SHOW"
    CANCELLED = "CANCELLED"


# Bookings that hold her at a store at their time: no other may overlap them.
HOLDING_STATUSES = (BookingStatus.CONFIRMED.value, BookingStatus.CHECKED_IN.value)


class BookingSource(StrEnum):
    LIVESTREAM = "LIVESTREAM"  # booked from a livestream
    DIRECT = "DIRECT"  # by the customer, outside a livestream
    STAFF = "STAFF"  # by staff on the customer's behalf
