"""GraphQL types of shifts and slot settings."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING

import strawberry
from strawberry import relay

from ....api.errors import UserError, user_error_type
from ....api.nodes import load_nodes
from ...common.errors import Forbidden
from ...common.rows import saved_id
from ...stores.graphql.types import Weekday
from ...stores.opening_hours import parse_hhmm
from ..errors import ScheduleErrorCode
from ..models import ShiftException as ExceptionRow
from ..models import ShiftPattern
from ..models import SlotSettings as SettingsRow
from ..services import exceptions_by_ids

if TYPE_CHECKING:  # user_error_type builds the class at run time: mypy knows it by its interface
    ScheduleUserError = UserError
else:
    ScheduleUserError = user_error_type(
        "Schedule",
        ScheduleErrorCode,
        {
            ScheduleErrorCode.INVALID_SHIFT: "A shift without both times, with an offset, off the 5-minute grid, not "
            "starting before it ends, or overlapping another of its weekday.",
            ScheduleErrorCode.NOT_A_GUIDE: "The staff member is not a guide of a store: shifts are for guides.",
        },
    )


@strawberry.enum(description="A dated change to a guide's weekly shifts.")
class ShiftExceptionKind(Enum):
    LEAVE = strawberry.enum_value("LEAVE", description="Off duty: the whole day, or between starts and ends.")
    EXTRA = strawberry.enum_value("EXTRA", description="An extra shift between starts and ends.")


@strawberry.type(description="A guide's weekly shift, in store-local time.")
class Shift:
    weekday: Weekday = strawberry.field(description="The weekday it repeats on.")
    starts: dt.time = strawberry.field(description="Store-local start.")
    ends: dt.time = strawberry.field(description="Store-local end.")

    @classmethod
    def from_row(cls, row: ShiftPattern) -> Shift:
        return cls(weekday=Weekday(row.weekday), starts=parse_hhmm(row.starts), ends=parse_hhmm(row.ends))


@strawberry.type(description="Leave (the whole day when it has no times) or an extra shift on one date.")
class ShiftException(relay.Node):
    id: relay.NodeID[int]
    day: dt.date = strawberry.field(description="Store-local date.")
    kind: ShiftExceptionKind = strawberry.field(description="Leave or an extra shift.")
    starts: dt.time | None = strawberry.field(description="Store-local start; null for a whole day of leave.")
    ends: dt.time | None = strawberry.field(description="Store-local end; null for a whole day of leave.")
    note: str = strawberry.field(description="Free text; may be empty.")

    @classmethod
    def from_row(cls, row: ExceptionRow) -> ShiftException:
        return cls(
            id=saved_id(row),
            day=row.day,
            kind=ShiftExceptionKind(row.kind),
            starts=parse_hhmm(row.starts) if row.starts else None,
            ends=parse_hhmm(row.ends) if row.ends else None,
            note=row.note,
        )

    @classmethod
    async def resolve_nodes(cls, *, info, node_ids, required=False):
        return await load_nodes(
            info,
            exceptions_by_ids,
            node_ids,
            cls.from_row,
            visible=lambda actor, row: actor.is_staff and _sees_store(actor, row.store_id),
        )


def _sees_store(actor, store_id: int) -> bool:
    try:
        actor.require_store(store_id)
    except Forbidden:
        return False
    return True


@strawberry.type(description="How a store's bookable slots are cut and filled.")
class SlotSettings:
    slot_minutes: int = strawberry.field(description="Length of a slot, in minutes (30 by default).")
    guide_capacity: int = strawberry.field(
        description="Customers one guide on shift receives in a slot (1 by default)."
    )
    lead_minutes: int = strawberry.field(
        description="Booking closes this many minutes before a slot starts (30 by default)."
    )

    @classmethod
    def from_row(cls, row: SettingsRow) -> SlotSettings:
        return cls(slot_minutes=row.slot_minutes, guide_capacity=row.guide_capacity, lead_minutes=row.lead_minutes)
