"""Shift and slot-settings queries (staff)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from ....api.nodes import local_id
from ....api.permissions import roles
from ...common.actor import Role
from ...common.errors import Forbidden
from ...staff.models import StaffUser
from .. import services
from .types import Shift, ShiftException, SlotSettings

STAFF = roles(Role.HQ_ADMIN, Role.STORE_MANAGER, Role.GUIDE, Role.LIVESTREAM_OPS, Role.ANALYST)


@strawberry.type(description="A guide's weekly shifts and the dated exceptions in a period.")
class GuideSchedule:
    shifts: list[Shift] = strawberry.field(description="Her weekly shifts, by weekday and start.")
    exceptions: list[ShiftException] = strawberry.field(
        description="Her leave and extra shifts in the period, by date."
    )


@strawberry.type
class ScheduleQuery:
    @strawberry.field(
        extensions=STAFF,
        description="A guide's shifts, and her exceptions between two dates (both included). Staff roles; null "
        "when the guide is unknown or, for store roles, of another store.",
    )
    async def guide_schedule(
        self,
        info: strawberry.Info,
        staff_id: Annotated[strawberry.ID, strawberry.argument(description="The guide (a StaffUser).")],
        from_: Annotated[
            dt.date | None, strawberry.argument(name="from", description="First date; today (UTC) when not given.")
        ] = None,
        to: Annotated[
            dt.date | None, strawberry.argument(description="Last date; from + 14 days when not given.")
        ] = None,
    ) -> GuideSchedule | None:
        actor = await info.context.viewer()
        start = from_ or info.context.runtime.clock.now().date()
        end = to or start + dt.timedelta(days=14)
        async with info.context.db() as session:
            guide = await session.get(StaffUser, local_id(staff_id, "StaffUser"))
            if guide is None:
                return None
            try:
                actor.require_store(guide.store_id)
            except Forbidden:
                return None
            shifts = await services.shifts_of(session, guide.id)
            exceptions = await services.exceptions_of(session, guide.id, start, end)
        return GuideSchedule(
            shifts=[Shift.from_row(r) for r in shifts], exceptions=[ShiftException.from_row(r) for r in exceptions]
        )

    @strawberry.field(
        extensions=STAFF,
        description="How a store's slots are cut and filled (the defaults until changed). Staff roles.",
    )
    async def slot_settings(
        self, info: strawberry.Info, store_id: Annotated[strawberry.ID, strawberry.argument(description="The Store.")]
    ) -> SlotSettings:
        async with info.context.db() as session:
            return SlotSettings.from_row(await services.settings_of(session, local_id(store_id, "Store")))
