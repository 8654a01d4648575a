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
    shifts: list[Shift]
    exceptions: list[ShiftException]


@strawberry.type
class ScheduleQuery:
    @strawberry.field(
        extensions=STAFF,
        description="A guide's shifts; exceptions between two local dates (default: the next 14 days).",
    )
    async def guide_schedule(
        self,
        info: strawberry.Info,
        staff_id: strawberry.ID,
        from_: Annotated[dt.date | None, strawberry.argument(name="from")] = None,
        to: dt.date | None = None,
    ) -> GuideSchedule | None:
        actor = info.context.require_actor()
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

    @strawberry.field(extensions=STAFF, description="How a store's slots are cut and filled.")
    async def slot_settings(self, info: strawberry.Info, store_id: strawberry.ID) -> SlotSettings:
        async with info.context.db() as session:
            return SlotSettings.from_row(await services.settings_of(session, local_id(store_id, "Store")))
