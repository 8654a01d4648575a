"""Booking queries: free slots, a customer's own bookings, a store's bookings, every store's (dashboards)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from ....api.cost import Cost, ListSize
from ....api.errors import query_problem
from ....api.nodes import local_id
from ....api.pagination import After, Connection, First, paginate
from ....api.permissions import authenticated, roles
from ...common.actor import Role
from ...common.errors import DomainError
from .. import listings, slots
from ..listings import CROSS_STORE_READERS, BookingFilter
from ..models import Booking as BookingRow
from ..models import BookingStatus as BookingStatusValue
from .types import Booking, BookingStatus, TimeSlot


def _domain_status(status: BookingStatus | None) -> BookingStatusValue | None:
    return None if status is None else BookingStatusValue(status.name)


STORE_READERS = roles(Role.HQ_ADMIN, Role.STORE_MANAGER, Role.GUIDE, Role.LIVESTREAM_OPS, Role.ANALYST)


@strawberry.type
class BookingQuery:
    @strawberry.field(
        extensions=authenticated(),
        description="Slots of an active store between two store-local dates "
        "(at most 31 days) that can still be booked: not "
        "past, not within the lead time. Full slots are "
        "listed with remaining 0. Any signed-in viewer; a bad range, an unknown store or a service it does "
        "not offer is a BAD_USER_INPUT error.",
        directives=[Cost(weight=20), ListSize(assumed_size=100)],
    )
    async def available_slots(
        self,
        info: strawberry.Info,
        store_id: Annotated[strawberry.ID, strawberry.argument(description="The Store.")],
        from_: Annotated[dt.date, strawberry.argument(name="from", description="First store-local date.")],
        to: Annotated[dt.date, strawberry.argument(description="Last store-local date (included), from + 30 at most.")],
        service_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="A Service the store must offer.")
        ] = None,
    ) -> list[TimeSlot]:
        now = info.context.runtime.clock.now()
        async with info.context.db() as session:
            try:
                found = await slots.available_slots(
                    session, local_id(store_id, "Store"), from_, to, local_id(service_id, "Service"), now
                )
            except DomainError as error:
                raise query_problem(error) from None
        return [TimeSlot.from_open_slot(s) for s in found]

    @strawberry.field(
        extensions=authenticated(),
        description="The signed-in customer's bookings, newest slot first (staff: FORBIDDEN; they use storeBookings).",
    )
    async def my_bookings(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        status: Annotated[
            BookingStatus | None, strawberry.argument(description="Only bookings in this status.")
        ] = None,
    ) -> Connection[Booking]:
        actor = await info.context.viewer()
        statement = listings.my_bookings_listing(actor, _domain_status(status))
        return await paginate(
            info, statement, Booking.from_row, first=first, after=after, newest_by=BookingRow.slot_start
        )

    @strawberry.field(
        extensions=STORE_READERS,
        description="A store's bookings with a slot starting in [from, to), in the order they were made. Staff "
        "roles: HQ roles for any store, STORE_MANAGER and GUIDE for their own (else FORBIDDEN).",
    )
    async def store_bookings(
        self,
        info: strawberry.Info,
        store_id: Annotated[strawberry.ID, strawberry.argument(description="The Store.")],
        from_: Annotated[dt.datetime, strawberry.argument(name="from", description="Slots starting at or after this.")],
        to: Annotated[dt.datetime, strawberry.argument(description="Slots starting before this.")],
        first: First = None,
        after: After = None,
        status: Annotated[
            BookingStatus | None, strawberry.argument(description="Only bookings in this status.")
        ] = None,
    ) -> Connection[Booking]:
        actor = await info.context.viewer()
        store = local_id(store_id, "Store")
        statement = listings.store_bookings_listing(actor, store, from_, to, _domain_status(status))
        return await paginate(info, statement, Booking.from_row, first=first, after=after)

    @strawberry.field(
        extensions=roles(*CROSS_STORE_READERS),
        description="Bookings of every store for the live dashboards, oldest change first (by updatedAt, then id). "
        "After a dropped socket, pass the latest updatedAt you saw as updatedAfter to read what changed since "
        "(each change is stamped when its transaction starts: allow a few seconds' overlap, and key what you "
        "hold on the booking's id). The filters all apply. HQ_ADMIN, LIVESTREAM_OPS or ANALYST (else "
        "FORBIDDEN); an unknown store or livestream, or an empty or overlong city, is a BAD_USER_INPUT error.",
    )
    async def bookings(
        self,
        info: strawberry.Info,
        livestream_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only bookings from this Livestream.")
        ] = None,
        store_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only this Store's bookings.")
        ] = None,
        city: Annotated[
            str | None, strawberry.argument(description="Only bookings at stores of this city (as Store.city).")
        ] = None,
        status: Annotated[
            BookingStatus | None, strawberry.argument(description="Only bookings in this status now.")
        ] = None,
        updated_after: Annotated[
            dt.datetime | None, strawberry.argument(description="Only bookings changed after this instant.")
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[Booking]:
        actor = await info.context.viewer()
        wanted = BookingFilter(
            livestream_id=local_id(livestream_id, "Livestream"),
            store_id=local_id(store_id, "Store"),
            city=city,
            status=_domain_status(status),
            updated_after=updated_after,
        )
        async with info.context.db() as session:
            try:
                await listings.check_booking_filter(session, wanted)
            except DomainError as error:
                raise query_problem(error) from None
        statement = listings.cross_store_bookings_listing(actor, wanted)
        return await paginate(
            info, statement, Booking.from_row, first=first, after=after, oldest_by=BookingRow.updated_at
        )
