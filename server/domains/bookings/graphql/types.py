"""GraphQL types of bookings and slots."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry import relay

from ....api.errors import user_error_type
from ....api.nodes import load_nodes
from ...catalog.graphql.types import Product, Service
from ...catalog.services import products_by_ids, services_by_ids
from ...common.actor import ActorKind
from ...common.errors import Forbidden
from ...identity.graphql.types import Customer, open_customer
from ...livestreams.graphql.types import Livestream
from ...livestreams.services import livestreams_by_ids
from ...stores.graphql.types import Store
from ...stores.services import stores_by_ids
from .. import reception, services
from ..errors import BookingErrorCode
from ..models import Booking as BookingRow
from ..slots import OpenSlot

BookingUserError = user_error_type("Booking", BookingErrorCode)


@strawberry.enum(description="CONFIRMED → CHECKED_IN → COMPLETED, or NO_SHOW, or CANCELLED.")
class BookingStatus(Enum):
    CONFIRMED = "CONFIRMED"
    CHECKED_IN = "CHECKED_IN"
    COMPLETED = "COMPLETED"
    NO_SHOW = "NO_SHOW"
    CANCELLED = "CANCELLED"


@strawberry.enum(description="Where a booking came from.")
class BookingSource(Enum):
    LIVESTREAM = strawberry.enum_value("LIVESTREAM", description="The customer booked from a livestream.")
    DIRECT = strawberry.enum_value("DIRECT", description="The customer booked outside a livestream.")
    STAFF = strawberry.enum_value("STAFF", description="Staff booked on the customer's behalf.")


@strawberry.type(description="A bookable slot of a store.")
class TimeSlot:
    start: dt.datetime
    end: dt.datetime
    local_date: dt.date = strawberry.field(description="The store-local date.")
    local_time: dt.time = strawberry.field(description="The store-local start time.")
    capacity: int = strawberry.field(description="Seats in the slot: guides on shift × per-guide capacity.")
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
    status: BookingStatus
    source: BookingSource
    channel: str | None = strawberry.field(description="The livestream's channel, for livestream bookings.")
    slot_start: dt.datetime
    slot_end: dt.datetime
    note: str
    checked_in_at: dt.datetime | None
    completed_at: dt.datetime | None = strawberry.field(description="When her reception was completed.")
    cancelled_at: dt.datetime | None
    cancel_reason: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
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

    @strawberry.field
    async def store(self, info: strawberry.Info) -> Store:
        return Store.from_row(await info.context.loader(stores_by_ids).load(self._row.store_id))

    @strawberry.field(description="The customer, as you may see her (masked for store staff without a relationship).")
    async def customer(self, info: strawberry.Info) -> Customer | None:
        return await open_customer(info, self._row.person_id, hidden_as_none=True)

    @strawberry.field
    async def livestream(self, info: strawberry.Info) -> Livestream | None:
        if self._row.livestream_id is None:
            return None
        row = await info.context.loader(livestreams_by_ids).load(self._row.livestream_id)
        return Livestream.from_row(row) if row else None

    @strawberry.field
    async def service(self, info: strawberry.Info) -> Service | None:
        if self._row.service_id is None:
            return None
        row = await info.context.loader(services_by_ids).load(self._row.service_id)
        return Service.from_row(row) if row else None

    @strawberry.field(description="Products she wants to see, from the livestream.")
    async def products(self, info: strawberry.Info) -> list[Product]:
        ids = await info.context.loader(services.product_ids_by_booking, default=[]).load(self.id)
        rows = await info.context.loader(products_by_ids).load_many(ids)
        return [Product.from_row(r) for r in rows if r]

    @classmethod
    def from_row(cls, row: BookingRow) -> Booking:
        return cls(
            id=row.id,
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
