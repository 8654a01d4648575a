"""The live booking feeds (livestream ops and dashboards): new bookings, and every change."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator, AsyncIterator
from enum import Enum
from typing import Annotated, Any

import strawberry

from ....api.live import live_messages
from ....api.nodes import local_id
from ....api.permissions import roles
from .. import services
from ..changes import BookingChangeKind as ChangeKindValue
from ..changes import change_kind
from ..listings import CROSS_STORE_READERS
from ..models import Booking as BookingRow
from ..topics import ALL_BOOKINGS_TOPIC, livestream_bookings_topic
from .types import Booking

LivestreamFilter = Annotated[
    strawberry.ID | None, strawberry.argument(description="Only bookings from this Livestream.")
]


@strawberry.enum(description="What happened to a booking.")
class BookingChangeKind(Enum):
    CREATED = strawberry.enum_value("CREATED", description="It was booked (CONFIRMED).")
    RESCHEDULED = strawberry.enum_value("RESCHEDULED", description="It moved to another slot of its store.")
    CANCELLED = strawberry.enum_value("CANCELLED", description="She or the store cancelled it.")
    CHECKED_IN = strawberry.enum_value("CHECKED_IN", description="She arrived and was checked in.")
    NO_SHOW = strawberry.enum_value("NO_SHOW", description="She was not checked in by the no-show time.")
    COMPLETED = strawberry.enum_value("COMPLETED", description="Her reception was completed, or her order paid.")


@strawberry.type(description="A change of a booking, with the booking as it is now.")
class BookingChange:
    kind: BookingChangeKind = strawberry.field(description="What happened.")
    booking: Booking = strawberry.field(description="The booking as it is now (a later change may show already).")
    at: dt.datetime = strawberry.field(description="When it happened (the booking's updatedAt then).")


def _topic(livestream_id: strawberry.ID | None) -> str:
    if livestream_id is None:
        return ALL_BOOKINGS_TOPIC
    return livestream_bookings_topic(local_id(livestream_id, "Livestream"))


async def _changes(
    info: strawberry.Info, topic: str
) -> AsyncIterator[tuple[ChangeKindValue, dict[str, Any], BookingRow]]:
    """Each change announced on ``topic`` that this release knows, with its message and the booking now."""
    async for message in live_messages(info, topic):
        kind = change_kind(message["event"])
        if kind is None:
            continue
        async with info.context.db() as session:
            row = (await services.bookings_by_ids(session, [message["bookingId"]])).get(message["bookingId"])
        if row is not None:
            yield kind, message, row


def _changed_at(message: dict[str, Any], row: BookingRow) -> dt.datetime:
    stamped = message.get("updatedAt")  # absent from a legacy BOOKED message: it was the booking's creation
    return dt.datetime.fromisoformat(stamped) if stamped else row.created_at


@strawberry.type
class BookingSubscription:
    @strawberry.subscription(
        extensions=roles(*CROSS_STORE_READERS),
        description="Every booking change (of one livestream, or all) — created, rescheduled, cancelled, "
        "checked in, no-show, completed — as the booking now is, with its store and city: its status tells what "
        "happened (bookingChanges names the change). HQ_ADMIN, LIVESTREAM_OPS or ANALYST. After a reconnect, "
        "catch up with bookings(updatedAfter:).",
    )
    async def booking_feed(
        self, info: strawberry.Info, livestream_id: LivestreamFilter = None
    ) -> AsyncGenerator[Booking, None]:
        async for _, _, row in _changes(info, _topic(livestream_id)):
            yield Booking.from_row(row)

    @strawberry.subscription(
        extensions=roles(*CROSS_STORE_READERS),
        description="Every change of a booking (of one livestream, or all): created, rescheduled, cancelled, "
        "checked in, no-show, completed. HQ_ADMIN, LIVESTREAM_OPS or ANALYST. Delivery is at least once; after "
        "a reconnect, catch up with bookings(updatedAfter:).",
    )
    async def booking_changes(
        self, info: strawberry.Info, livestream_id: LivestreamFilter = None
    ) -> AsyncGenerator[BookingChange, None]:
        async for kind, message, row in _changes(info, _topic(livestream_id)):
            yield BookingChange(
                kind=BookingChangeKind(kind.value), booking=Booking.from_row(row), at=_changed_at(message, row)
            )
