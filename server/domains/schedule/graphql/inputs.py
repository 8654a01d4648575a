"""GraphQL inputs of shifts and slot settings."""

from __future__ import annotations

import datetime as dt

import strawberry

from ...stores.graphql.types import Weekday
from .types import ShiftExceptionKind


@strawberry.input(description="One weekly shift, in store-local time.")
class WeeklyShiftInput:
    weekday: Weekday
    starts: dt.time
    ends: dt.time


@strawberry.input
class ShiftExceptionAddInput:
    staff_id: strawberry.ID
    day: dt.date = strawberry.field(description="Store-local date.")
    kind: ShiftExceptionKind
    starts: dt.time | None = strawberry.field(default=None, description="LEAVE without times is the whole day.")
    ends: dt.time | None = None
    note: str = ""


@strawberry.input
class SlotSettingsUpdateInput:
    store_id: strawberry.ID
    slot_minutes: int | None = None
    guide_capacity: int | None = None
    lead_minutes: int | None = None


@strawberry.input
class SlotCapacityOverrideInput:
    store_id: strawberry.ID
    day: dt.date = strawberry.field(description="Store-local date.")
    capacity: int | None = strawberry.field(default=None, description="Seats per slot; null goes back to shifts.")
