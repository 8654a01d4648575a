"""Which bookings a viewer may list: statements the API pages through (it adds order and limits)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from ..common.actor import HQ_ROLES, Actor, ActorKind, Role
from ..common.errors import CommonErrorCode as Common
from ..common.errors import Forbidden
from ..common.validation import Validator
from ..livestreams.models import Livestream
from ..stores.models import Store
from ..stores.services import store_ids_in_city
from .models import Booking, BookingStatus

# Who reads bookings across every store (the live dashboards and their catch-up).
CROSS_STORE_READERS = (Role.HQ_ADMIN, Role.LIVESTREAM_OPS, Role.ANALYST)
MAX_CITY = 50  # as Store.city


def _with_status(statement: SelectOfScalar[Booking], status: BookingStatus | None) -> SelectOfScalar[Booking]:
    return statement if status is None else statement.where(Booking.status == status.value)


def customer_bookings_listing(
    viewer: Actor | None, person_id: int, status: BookingStatus | None = None
) -> SelectOfScalar[Booking]:
    """A customer's bookings as ``viewer`` may see them: store staff only those at their own store.
    No viewer: the customer signing in, shown to herself."""
    statement = select(Booking).where(Booking.person_id == person_id)
    if viewer is not None and viewer.kind is ActorKind.STAFF and not viewer.has_role(*HQ_ROLES):
        statement = statement.where(Booking.store_id == viewer.store_id)
    return _with_status(statement, status)


def my_bookings_listing(actor: Actor, status: BookingStatus | None = None) -> SelectOfScalar[Booking]:
    """The signed-in customer's own bookings."""
    if actor.kind is not ActorKind.CUSTOMER:
        raise Forbidden("myBookings is for customers; staff use storeBookings")
    return _with_status(select(Booking).where(Booking.person_id == actor.id), status)


def store_bookings_listing(
    actor: Actor, store_id: int, start: datetime, end: datetime, status: BookingStatus | None = None
) -> SelectOfScalar[Booking]:
    """A store's bookings with a slot in [start, end), for its own staff and HQ."""
    actor.require_store(store_id)
    statement = select(Booking).where(
        Booking.store_id == store_id, Booking.slot_start >= start, Booking.slot_start < end
    )
    return _with_status(statement, status)


@dataclass(frozen=True)
class BookingFilter:
    """Which bookings a dashboard lists; every part is optional and they all apply."""

    livestream_id: int | None = None
    store_id: int | None = None
    city: str | None = None
    status: BookingStatus | None = None
    updated_after: datetime | None = None


async def check_booking_filter(session: AsyncSession, wanted: BookingFilter) -> None:
    """NOT_FOUND for a store or livestream that does not exist, INVALID_VALUE for an empty or long city."""
    check = Validator()
    if wanted.city is not None:
        check.text(("city",), wanted.city, max_length=MAX_CITY)
    if wanted.store_id is not None and await session.get(Store, wanted.store_id) is None:
        check.add(Common.NOT_FOUND, "store not found", ("storeId",))
    if wanted.livestream_id is not None and await session.get(Livestream, wanted.livestream_id) is None:
        check.add(Common.NOT_FOUND, "livestream not found", ("livestreamId",))
    check.raise_if_any()


def cross_store_bookings_listing(actor: Actor, wanted: BookingFilter) -> SelectOfScalar[Booking]:
    """Bookings of every store for HQ, livestream ops and analysts, narrowed by ``wanted``;
    ``updated_after`` for the catch-up after a dropped socket (changed strictly after it)."""
    actor.require_role(*CROSS_STORE_READERS)
    statement = select(Booking)
    if wanted.livestream_id is not None:
        statement = statement.where(Booking.livestream_id == wanted.livestream_id)
    if wanted.store_id is not None:
        statement = statement.where(Booking.store_id == wanted.store_id)
    if wanted.city is not None:
        statement = statement.where(col(Booking.store_id).in_(store_ids_in_city(wanted.city.strip())))
    if wanted.updated_after is not None:
        statement = statement.where(Booking.updated_at > wanted.updated_after)
    return _with_status(statement, wanted.status)
