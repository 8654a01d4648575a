"""The live booking feed (livestream ops and dashboards)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from ....api.live import live_messages
from ....api.nodes import local_id
from ....api.permissions import roles
from ...common.actor import Role
from .. import services
from ..topics import ALL_BOOKINGS_TOPIC, livestream_bookings_topic
from .types import Booking


@strawberry.type
class BookingSubscription:
    @strawberry.subscription(
        extensions=roles(Role.HQ_ADMIN, Role.LIVESTREAM_OPS, Role.ANALYST),
        description="Every new booking (of one livestream, or all), with its store and city. HQ_ADMIN, "
        "LIVESTREAM_OPS or ANALYST.",
    )
    async def booking_feed(
        self,
        info: strawberry.Info,
        livestream_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only bookings from this Livestream.")
        ] = None,
    ) -> AsyncGenerator[Booking, None]:
        topic = (
            livestream_bookings_topic(local_id(livestream_id, "Livestream")) if livestream_id else ALL_BOOKINGS_TOPIC
        )
        async for message in live_messages(info, topic):
            async with info.context.db() as session:
                row = (await services.bookings_by_ids(session, [message["bookingId"]])).get(message["bookingId"])
            if row is not None:
                yield Booking.from_row(row)
