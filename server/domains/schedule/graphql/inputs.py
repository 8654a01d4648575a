"""GraphQL inputs of shifts and slot settings."""

from __future__ import annotations

import datetime as dt

import strawberry

from ...stores.graphql.types import Weekday
from .types import ShiftExceptionKind


@strawberry.input(description="One weekly shift, in store-local time.")
class WeeklyShiftInput:
    weekday: Weekday = strawberry.field(description="The weekday; shifts of one weekday may not overlap.")
    starts: dt.time = strawberry.field(description="Store-local start, whole minutes on a 5-minute grid.")
    ends: dt.time = strawberry.field(description="Store-local end, on a 5-minute grid, after starts.")


@strawberry.input(description="Leave or an extra shift for one guide on one date.")
class ShiftExceptionAddInput:
    staff_id: strawberry.ID = strawberry.field(description="The guide (a StaffUser with role GUIDE).")
    day: dt.date = strawberry.field(description="Store-local date.")
    kind: ShiftExceptionKind = strawberry.field(description="Leave or an extra shift.")
    starts: dt.time | None = strawberry.field(
        default=None,
        description="Store-local start on a 5-minute grid; required for EXTRA. LEAVE without times is the whole day.",
    )
    ends: dt.time | None = strawberry.field(
        default=None, description="Store-local end on a 5-minute grid, after starts; given with starts."
    )
    note: str = strawberry.field(default="", description="At most 200 characters; line breaks allowed.")


@strawberry.input(description="New slot settings of a store; fields left out (or null) stay as they are.")
class SlotSettingsUpdateInput:
    store_id: strawberry.ID = strawberry.field(description="The Store (a manager only her own).")
    slot_minutes: int | None = strawberry.field(
        default=None, description="Length of a slot: 15, 20, 30, 45, 60, 90 or 120 minutes."
    )
    guide_capacity: int | None = strawberry.field(
        default=None, description="Customers one guide on shift receives in a slot, 1 to 10."
    )
    lead_minutes: int | None = strawberry.field(
        default=None, description="Booking closes this many minutes before a slot starts, 0 to 10080 (7 days)."
    )


@strawberry.input(description="A per-slot capacity for one store on one date, in place of what the shifts give.")
class SlotCapacityOverrideInput:
    store_id: strawberry.ID = strawberry.field(description="The Store (a manager only her own).")
    day: dt.date = strawberry.field(description="Store-local date.")
    capacity: int | None = strawberry.field(
        default=None, description="Seats per slot, 0 to 1000 (0 closes booking that day); null goes back to shifts."
    )


@strawberry.input(description="A guide's whole week of shifts.")
class ShiftsSetInput:
    staff_id: strawberry.ID = strawberry.field(description="The guide (a StaffUser with role GUIDE).")
    shifts: list[WeeklyShiftInput] = strawberry.field(description="Her whole week: at most 21 shifts; [] clears it.")


@strawberry.input(description="The shift exception to remove.")
class ShiftExceptionRemoveInput:
    id: strawberry.ID = strawberry.field(description="The ShiftException.")
