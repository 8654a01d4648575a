"""GraphQL types of bookings and slots."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING

import strawberry
from strawberry import relay

from ....api.errors import UserError, user_error_type
from ....api.nodes import load_nodes
from ...catalog.graphql.types import Product, Service
from ...catalog.services import products_by_ids, services_by_ids
from ...common.actor import ActorKind
from ...common.errors import Forbidden
from ...common.rows import saved_id
from ...identity.graphql.types import Customer, open_customer
from ...livestreams.graphql.types import Livestream
from ...livestreams.services import livestreams_by_ids
from ...stores.graphql.types import Store
from ...stores.services import stores_by_ids
from .. import codes, reception, services
from ..errors import BookingErrorCode
from ..models import Booking as BookingRow
from ..slots import OpenSlot

if TYPE_CHECKING:  # user_error_type builds the class at run time: mypy knows it by its interface
    BookingUserError = UserError
else:
    BookingUserError = user_error_type(
        "Booking",
        BookingErrorCode,
        {
            BookingErrorCode.SLOT_FULL: "Every seat of the slot is taken: pick another slot.",
            BookingErrorCode.SLOT_IN_PAST: "The slot has started or passed.",
            BookingErrorCode.SLOT_TOO_SOON: "Booking for the slot has closed (SlotSettings.leadMinutes before it).",
            BookingErrorCode.SLOT_NOT_ALIGNED: "slotStart is not the start of one of the store's slots.",
            BookingErrorCode.STORE_CLOSED: "The store is closed at that time.",
            BookingErrorCode.SERVICE_NOT_OFFERED: "The store does not offer the service.",
            BookingErrorCode.TOO_MANY_ACTIVE_BOOKINGS: "She already has 3 upcoming bookings (CONFIRMED, not "
            "checked in).",
            BookingErrorCode.INVALID_STATE: "The booking's status does not allow this (e.g. cancelling a "
            "COMPLETED one).",
            BookingErrorCode.INVALID_QR_TOKEN: "The QR code is not a booking code of this brand, has expired, or no "
            "longer matches its booking.",
            BookingErrorCode.ALREADY_CHECKED_IN: "She is checked in already.",
            BookingErrorCode.RATE_LIMITED: "Too many bookingCreate calls for this customer, or too many check-in codes "
            "that matched no booking (per staff member or per store); wait retryAfter seconds.",
            BookingErrorCode.OVERLAPPING_BOOKING: "She already has a booking at that time.",
            BookingErrorCode.CHECK_IN_TOO_EARLY: "Check-in is not open yet (the message says when it opens).",
            BookingErrorCode.CHECK_IN_TOO_LATE: "Check-in has closed (the no-show time has passed).",
            BookingErrorCode.INVALID_CHECK_IN_CODE: "The check-in code is not 6 digits, or no booking of the store "
            "whose check-in window is open now has it; nothing was checked in.",
        },
    )


@strawberry.enum(description="CONFIRMED → CHECKED_IN → COMPLETED, or NO_SHOW, or CANCELLED.")
class BookingStatus(Enum):
    CONFIRMED = strawberry.enum_value("CONFIRMED", description="Booked: her seat is held.")
    CHECKED_IN = strawberry.enum_value("CHECKED_IN", description="She arrived and was checked in.")
    COMPLETED = strawberry.enum_value("COMPLETED", description="Her reception was completed; final.")
    NO_SHOW = strawberry.enum_value(
        "NO_SHOW",
        description="Not checked in by the no-show time (30 minutes after the slot ends unless IRS_NO_SHOW_MINUTES "
        "says otherwise); final.",
    )
    CANCELLED = strawberry.enum_value("CANCELLED", description="Cancelled by her or the store; final.")


@strawberry.enum(description="Where a booking came from.")
class BookingSource(Enum):
    LIVESTREAM = strawberry.enum_value("LIVESTREAM", description="The customer booked from a livestream.")
    DIRECT = strawberry.enum_value("DIRECT", description="The customer booked outside a livestream.")
    STAFF = strawberry.enum_value("STAFF", description="Staff booked on the customer's behalf.")


@strawberry.type(description="A bookable slot of a store.")
class TimeSlot:
    start: dt.datetime = strawberry.field(description="When it starts; pass it as slotStart to book it.")
    end: dt.datetime = strawberry.field(description="When it ends.")
    local_date: dt.date = strawberry.field(description="The store-local date.")
    local_time: dt.time = strawberry.field(description="The store-local start time.")
    capacity: int = strawberry.field(
        description="Seats in the slot: guides on shift × per-guide capacity, unless the store set it for the day."
    )
    remaining: int = strawberry.field(description="Seats still free.")

    @classmethod
    def from_open_slot(cls, open_slot: OpenSlot) -> TimeSlot:
        slot = open_slot.slot.slot
        return cls(
            start=slot.start,
            end=slot.end,
            local_date=slot.day,
            local_time=slot.local_start,
            capacity=open_slot.slot.capacity,
            remaining=open_slot.remaining,
        )


def _visible(actor, row: BookingRow) -> bool:
    if actor.kind is ActorKind.CUSTOMER:
        return row.person_id == actor.id
    try:
        actor.require_store(row.store_id)
    except Forbidden:
        return False
    return True


@strawberry.type(description="A customer's visit to a store in one slot.")
class Booking(relay.Node):
    id: relay.NodeID[int]
    status: BookingStatus = strawberry.field(description="Where it is in its life.")
    source: BookingSource = strawberry.field(description="Where it came from.")
    channel: str | None = strawberry.field(description="The livestream's channel, for livestream bookings.")
    slot_start: dt.datetime = strawberry.field(description="When her slot starts.")
    slot_end: dt.datetime = strawberry.field(description="When her slot ends.")
    note: str = strawberry.field(description="Her note to the store; may be empty.")
    checked_in_at: dt.datetime | None = strawberry.field(description="When she was checked in; null before.")
    completed_at: dt.datetime | None = strawberry.field(description="When her reception was completed.")
    cancelled_at: dt.datetime | None = strawberry.field(description="When it was cancelled; null unless CANCELLED.")
    cancel_reason: str | None = strawberry.field(description="Why, if the canceller said.")
    created_at: dt.datetime = strawberry.field(description="When it was booked (UTC).")
    updated_at: dt.datetime = strawberry.field(description="When it last changed (UTC).")
    _row: strawberry.Private[BookingRow]

    @strawberry.field(
        description="For her only, while the booking is CONFIRMED: the signed code the guide "
        "scans at check-in (single use)."
    )
    async def qr_token(self, info: strawberry.Info) -> str | None:
        actor = await info.context.viewer()
        if (
            actor.kind is not ActorKind.CUSTOMER
            or actor.id != self._row.person_id
            or self._row.status != BookingStatus.CONFIRMED.value
        ):
            return None
        return reception.qr_token_of(self._row, info.context.runtime.tokens)

    @strawberry.field(
        description="For her only, while the booking is CONFIRMED: 6 digits to show the guide when her QR code "
        "cannot be scanned (bookingCheckIn's checkInCode; valid at her store during the check-in window). Null "
        "for others, and for the rare booking that got none."
    )
    async def check_in_code(self, info: strawberry.Info) -> str | None:
        actor = await info.context.viewer()
        if (
            actor.kind is not ActorKind.CUSTOMER
            or actor.id != self._row.person_id
            or self._row.status != BookingStatus.CONFIRMED.value
        ):
            return None
        return await info.context.loader(codes.codes_by_booking).load(self._row.id)

    @strawberry.field(description="The store she visits.")
    async def store(self, info: strawberry.Info) -> Store:
        return Store.from_row(await info.context.loader(stores_by_ids).load(self._row.store_id))

    @strawberry.field(description="The customer, as you may see her (masked for store staff without a relationship).")
    async def customer(self, info: strawberry.Info) -> Customer | None:
        return await open_customer(info, self._row.person_id, hidden_as_none=True)

    @strawberry.field(description="The livestream she came from; null for other bookings.")
    async def livestream(self, info: strawberry.Info) -> Livestream | None:
        if self._row.livestream_id is None:
            return None
        row = await info.context.loader(livestreams_by_ids).load(self._row.livestream_id)
        return Livestream.from_row(row) if row else None

    @strawberry.field(description="The service she booked; null if none.")
    async def service(self, info: strawberry.Info) -> Service | None:
        if self._row.service_id is None:
            return None
        row = await info.context.loader(services_by_ids).load(self._row.service_id)
        return Service.from_row(row) if row else None

    @strawberry.field(description="Products she wants to see (at most 20), e.g. from the livestream.")
    async def products(self, info: strawberry.Info) -> list[Product]:
        ids = await info.context.loader(services.product_ids_by_booking, default=[]).load(self.id)
        rows = await info.context.loader(products_by_ids).load_many(ids)
        return [Product.from_row(r) for r in rows if r]

    @classmethod
    def from_row(cls, row: BookingRow) -> Booking:
        return cls(
            id=saved_id(row),
            status=BookingStatus(row.status),
            source=BookingSource(row.source),
            channel=row.channel,
            slot_start=row.slot_start,
            slot_end=row.slot_end,
            note=row.note,
            checked_in_at=row.checked_in_at,
            completed_at=row.completed_at,
            cancelled_at=row.cancelled_at,
            cancel_reason=row.cancel_reason,
            created_at=row.created_at,
            updated_at=row.updated_at,
            _row=row,
        )

    @classmethod
    async def resolve_nodes(cls, *, info, node_ids, required=False):
        return await load_nodes(info, services.bookings_by_ids, node_ids, cls.from_row, visible=_visible)
