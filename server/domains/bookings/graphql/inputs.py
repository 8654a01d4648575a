"""GraphQL inputs of bookings."""

from __future__ import annotations

import datetime as dt

import strawberry

from ....api.nodes import local_id, local_ids
from ..services import BookingRequest


@strawberry.input(description="Book a slot. Customers book for themselves; staff give customerId.")
class BookingCreateInput:
    store_id: strawberry.ID
    slot_start: dt.datetime = strawberry.field(description="The start of a slot, as availableSlots gives it.")
    livestream_id: strawberry.ID | None = strawberry.field(default=None, description="The livestream she came from.")
    product_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Products she wants to see (at most 20)."
    )
    service_id: strawberry.ID | None = None
    note: str = strawberry.field(default="", description="At most 500 characters.")
    customer_id: strawberry.ID | None = strawberry.field(default=None, description="Staff only: for whom.")
    idempotency_key: str | None = strawberry.field(
        default=None, description="A retry with the same key returns the same booking."
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


@strawberry.input
class BookingCancelInput:
    id: strawberry.ID
    reason: str | None = strawberry.field(default=None, description="At most 200 characters.")


@strawberry.input(description="Check a customer in: scan her QR code, or look the booking up. Give one.")
class BookingCheckInInput:
    qr_token: str | None = None
    booking_id: strawberry.ID | None = None


@strawberry.input(description="Move a confirmed booking to another slot of the same store.")
class BookingRescheduleInput:
    id: strawberry.ID
    slot_start: dt.datetime
