"""Every change of a booking, announced to the live feed through the outbox (in the change's transaction).

Dashboards hear each change on ``bookings.all`` and, for a livestream's bookings, on
``bookings.livestream:<id>``; after a dropped socket they catch up with the ``bookings``
query (``updatedAfter``), since every change moves ``Booking.updated_at``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from ...outbox import emit
from ..common.rows import row_by_key
from ..stores.models import Store
from .models import Booking
from .topics import ALL_BOOKINGS_TOPIC, livestream_bookings_topic


class BookingChangeKind(StrEnum):
    """The outbox event name of each change: stable, listeners key on it."""

    CREATED = "CREATED"
    RESCHEDULED = "RESCHEDULED"
    CANCELLED = "CANCELLED"
    CHECKED_IN = "CHECKED_IN"
    NO_SHOW = "NO_SHOW"
    COMPLETED = "COMPLETED"


# What a new booking was called before every change was announced: rows a replica of an older
# release wrote may still wait in the outbox during a rolling deploy, so readers take it as CREATED.
LEGACY_CREATED_EVENT = "BOOKED"


def change_kind(event: str) -> BookingChangeKind | None:
    """The change an outbox event names; None for an event this release does not know."""
    if event == LEGACY_CREATED_EVENT:
        return BookingChangeKind.CREATED
    try:
        return BookingChangeKind(event)
    except ValueError:
        return None


def change_message(booking: Booking, store: Store) -> dict[str, Any]:
    """What a dashboard needs to count the change without reading the booking: where, when, from which livestream."""
    return {
        "bookingId": booking.id,
        "storeId": store.id,
        "storeName": store.name,
        "city": store.city,
        "status": booking.status,
        "slotStart": booking.slot_start.isoformat(),
        "livestreamId": booking.livestream_id,
        "source": booking.source,
        "updatedAt": booking.updated_at.isoformat(),
    }


async def announce_change(session: AsyncSession, booking: Booking, kind: BookingChangeKind, now: datetime) -> None:
    """Queue the change for the feed in the caller's transaction (published once it commits)."""
    store = await row_by_key(session, Store, booking.store_id)  # usually in the session already
    assert store is not None, "a booking's store_id is a foreign key"
    message = change_message(booking, store)
    emit(session, ALL_BOOKINGS_TOPIC, kind.value, message, now)
    if booking.livestream_id is not None:
        emit(session, livestream_bookings_topic(booking.livestream_id), kind.value, message, now)
