"""Which bookings a viewer may list: statements the API pages through (it adds order and limits)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select
from sqlmodel.sql.expression import SelectOfScalar

from ..common.actor import HQ_ROLES, Actor, ActorKind
from ..common.errors import Forbidden
from .models import Booking, BookingStatus


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
