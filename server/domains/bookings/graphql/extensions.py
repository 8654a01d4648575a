"""Fields bookings adds to lower domains' types: a customer's bookings, a nearby store's next free slot."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ....api.cost import Cost
from ....api.pagination import After, Connection, First, paginate
from ....api.type_extensions import extends
from ...identity.graphql.types import Customer
from ...stores.graphql.types import NearbyStore
from .. import listings, slots
from ..models import Booking as BookingRow
from ..models import BookingStatus as BookingStatusValue
from .types import Booking, BookingStatus, TimeSlot


@extends(
    Customer,
    "bookings",
    description="Her store visits, newest slot first (they follow her through OneID merges). "
    "Store staff see those at their own store.",
)
async def customer_bookings(
    root: Customer,
    info: strawberry.Info,
    first: First = None,
    after: After = None,
    status: Annotated[BookingStatus | None, strawberry.argument(description="Only bookings in this status.")] = None,
) -> Connection[Booking]:
    # Not viewer(): sign-in answers show her before the request has an actor (she is the viewer).
    domain_status = None if status is None else BookingStatusValue(status.name)
    statement = listings.customer_bookings_listing(info.context.actor, root.id, domain_status)
    return await paginate(info, statement, Booking.from_row, first=first, after=after, newest_by=BookingRow.slot_start)


@extends(
    NearbyStore,
    "next_free_slot",
    description="The first slot with a free seat, from now to the 7th store-local day; null if none.",
    directives=[Cost(weight=10)],
)
async def next_free_slot(root: NearbyStore, info: strawberry.Info) -> TimeSlot | None:
    # One loader for every store of the list: its statements do not grow with the stores.
    ask = slots.FreeSlotAsked(root.store.id, root._service_id, info.context.runtime.clock.now())
    free = await info.context.loader(slots.next_free_slots).load(ask)
    return TimeSlot.from_open_slot(free) if free else None


BOOKING_EXTENSIONS = (customer_bookings, next_free_slot)
