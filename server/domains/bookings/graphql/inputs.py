"""GraphQL inputs of bookings."""

from __future__ import annotations

import datetime as dt

import strawberry

from ....api.nodes import local_id, local_ids
from ..reception import CheckInTarget
from ..services import BookingRequest


@strawberry.input(description="Book a slot. Customers book for themselves; staff give customerId.")
class BookingCreateInput:
    store_id: strawberry.ID = strawberry.field(description="An active Store (staff: their own store).")
    slot_start: dt.datetime = strawberry.field(description="The start of a slot, as availableSlots gives it.")
    livestream_id: strawberry.ID | None = strawberry.field(
        default=None, description="The Livestream she came from; makes the booking LIVESTREAM and its task HIGH."
    )
    product_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Products she wants to see (at most 20)."
    )
    service_id: strawberry.ID | None = strawberry.field(
        default=None, description="An active Service the store offers, if she books one."
    )
    note: str = strawberry.field(default="", description="At most 500 characters; line breaks allowed.")
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="Staff only, and required for them: the Customer it is for."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="1-128 characters: a retry with the same key by you returns the same booking and writes nothing.",
    )


def to_request(data: BookingCreateInput) -> BookingRequest:
    return BookingRequest(
        store_id=local_id(data.store_id, "Store"),
        slot_start=data.slot_start,
        livestream_id=local_id(data.livestream_id, "Livestream"),
        product_ids=tuple(local_ids(data.product_ids, "Product") or ()),
        service_id=local_id(data.service_id, "Service"),
        note=data.note,
        customer_id=local_id(data.customer_id, "Customer"),
    )


@strawberry.input(description="Cancel a CONFIRMED booking.")
class BookingCancelInput:
    id: strawberry.ID = strawberry.field(description="The Booking.")
    reason: str | None = strawberry.field(default=None, description="At most 200 characters; line breaks allowed.")


@strawberry.input(
    description="Check a customer in: scan her QR code, type the 6-digit code she shows, or name the booking "
    "(e.g. from her task). Give exactly one of qrToken, bookingId and checkInCode."
)
class BookingCheckInInput:
    qr_token: str | None = strawberry.field(default=None, description="The code scanned from her Booking.qrToken.")
    booking_id: strawberry.ID | None = strawberry.field(default=None, description="The Booking, looked up by hand.")
    check_in_code: str | None = strawberry.field(
        default=None,
        description="The 6 digits of her Booking.checkInCode (spaces and dashes between them are ignored), looked "
        "up among the store's bookings whose check-in window is open now.",
    )
    store_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Only with checkInCode: the Store to look it up in. Store staff may leave it out (their store); "
        "HQ_ADMIN, who has no store, must give it (REQUIRED).",
    )


def to_check_in_target(data: BookingCheckInInput) -> CheckInTarget:
    return CheckInTarget(
        booking_id=local_id(data.booking_id, "Booking"),
        qr_token=data.qr_token,
        check_in_code=data.check_in_code,
        store_id=local_id(data.store_id, "Store"),
    )


@strawberry.input(description="Move a confirmed booking to another slot of the same store.")
class BookingRescheduleInput:
    id: strawberry.ID = strawberry.field(description="The CONFIRMED Booking.")
    slot_start: dt.datetime = strawberry.field(
        description="The start of the new slot, as availableSlots gives it; the same start changes nothing."
    )
