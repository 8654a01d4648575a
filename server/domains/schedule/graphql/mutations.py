"""Shift and slot-settings mutations (store managers for their store, HQ admins for all)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ....api.errors import mutate
from ....api.mutation_input import Input, deprecated_argument, one_input
from ....api.nodes import local_id
from ....api.permissions import roles
from ...common.actor import Role
from .. import services
from ..services import ExceptionKind, WeeklyShift
from .inputs import (
    ShiftExceptionAddInput,
    ShiftExceptionRemoveInput,
    ShiftsSetInput,
    SlotCapacityOverrideInput,
    SlotSettingsUpdateInput,
    WeeklyShiftInput,
)
from .types import ScheduleUserError, Shift, ShiftException, SlotSettings

MANAGERS = roles(Role.HQ_ADMIN, Role.STORE_MANAGER)


@strawberry.type(description="The answer to shiftsSet.")
class ShiftsSetPayload:
    shifts: list[Shift] | None = strawberry.field(
        default=None, description="The guide's weekly shifts now, by weekday and start; null on errors."
    )
    errors: list[ScheduleUserError] = strawberry.field(
        description="Why nothing was written (NOT_FOUND, NOT_A_GUIDE, INVALID_SHIFT, TOO_MANY, OUT_OF_RANGE); "
        "empty on success."
    )


@strawberry.type(description="The answer to shiftExceptionAdd.")
class ShiftExceptionAddPayload:
    shift_exception: ShiftException | None = strawberry.field(
        default=None, description="The new exception; null on errors."
    )
    errors: list[ScheduleUserError] = strawberry.field(
        description="Why nothing was written (NOT_FOUND, NOT_A_GUIDE, INVALID_SHIFT or an input check); "
        "empty on success."
    )


@strawberry.type(description="The answer to shiftExceptionRemove.")
class ShiftExceptionRemovePayload:
    removed_id: strawberry.ID | None = strawberry.field(
        default=None, description="The id of the removed ShiftException; null on errors."
    )
    errors: list[ScheduleUserError] = strawberry.field(
        description="NOT_FOUND (no such exception) or NOT_A_GUIDE; empty on success."
    )


@strawberry.type(description="The answer to slotSettingsUpdate.")
class SlotSettingsUpdatePayload:
    settings: SlotSettings | None = strawberry.field(
        default=None, description="The store's settings now; null on errors."
    )
    errors: list[ScheduleUserError] = strawberry.field(
        description="Why nothing was written (NOT_FOUND, INVALID_VALUE for slotMinutes, OUT_OF_RANGE); "
        "empty on success."
    )


@strawberry.type(description="The answer to slotCapacityOverrideSet.")
class SlotCapacityOverridePayload:
    ok: bool = strawberry.field(default=False, description="True when the override was set or cleared.")
    errors: list[ScheduleUserError] = strawberry.field(
        description="Why nothing was written (NOT_FOUND, OUT_OF_RANGE); empty on success."
    )


@strawberry.type
class ScheduleMutation:
    @strawberry.mutation(
        extensions=MANAGERS,
        description="Replace a guide's weekly shifts. HQ_ADMIN, or a STORE_MANAGER for her store's guides "
        "(else FORBIDDEN).",
    )
    async def shifts_set(
        self,
        info: strawberry.Info,
        input: Input[ShiftsSetInput] = None,
        staff_id: Annotated[
            strawberry.ID | None, deprecated_argument("The guide (a StaffUser with role GUIDE).")
        ] = None,
        shifts: Annotated[list[WeeklyShiftInput] | None, deprecated_argument("Her whole week.")] = None,
    ) -> ShiftsSetPayload:
        actor = await info.context.viewer()

        async def action(session):
            given = one_input(input, ShiftsSetInput, staff_id=staff_id, shifts=shifts)
            weekly = [WeeklyShift(s.weekday.value, s.starts, s.ends) for s in given.shifts]
            rows = await services.set_weekly_shifts(session, actor, local_id(given.staff_id, "StaffUser"), weekly)
            return {"shifts": [Shift.from_row(r) for r in rows]}

        return await mutate(info, ShiftsSetPayload, ScheduleUserError, action)

    @strawberry.mutation(
        extensions=MANAGERS,
        description="Leave or an extra shift for a guide on one date. HQ_ADMIN, or a STORE_MANAGER for her "
        "store's guides (else FORBIDDEN).",
    )
    async def shift_exception_add(
        self,
        info: strawberry.Info,
        input: Annotated[ShiftExceptionAddInput, strawberry.argument(description="The guide, date and kind.")],
    ) -> ShiftExceptionAddPayload:
        actor = await info.context.viewer()
        now = info.context.runtime.clock.now()

        async def action(session):
            row = await services.add_shift_exception(
                session,
                actor,
                local_id(input.staff_id, "StaffUser"),
                input.day,
                ExceptionKind(input.kind.value),
                input.starts,
                input.ends,
                input.note,
                now,
            )
            return {"shift_exception": ShiftException.from_row(row)}

        return await mutate(info, ShiftExceptionAddPayload, ScheduleUserError, action)

    @strawberry.mutation(
        extensions=MANAGERS,
        description="Remove a shift exception. HQ_ADMIN, or a STORE_MANAGER for her store's guides.",
    )
    async def shift_exception_remove(
        self,
        info: strawberry.Info,
        input: Input[ShiftExceptionRemoveInput] = None,
        id: Annotated[strawberry.ID | None, deprecated_argument("The ShiftException.")] = None,
    ) -> ShiftExceptionRemovePayload:
        actor = await info.context.viewer()

        async def action(session):
            removed = one_input(input, ShiftExceptionRemoveInput, id=id).id
            await services.remove_shift_exception(session, actor, local_id(removed, "ShiftException"))
            return {"removed_id": removed}

        return await mutate(info, ShiftExceptionRemovePayload, ScheduleUserError, action)

    @strawberry.mutation(
        extensions=MANAGERS,
        description="Change how a store's slots are cut and filled. HQ_ADMIN, or a STORE_MANAGER for her "
        "store (else FORBIDDEN).",
    )
    async def slot_settings_update(
        self,
        info: strawberry.Info,
        input: Annotated[
            SlotSettingsUpdateInput, strawberry.argument(description="The store and the settings to change.")
        ],
    ) -> SlotSettingsUpdatePayload:
        actor = await info.context.viewer()
        now = info.context.runtime.clock.now()

        async def action(session):
            row = await services.update_settings(
                session,
                actor,
                local_id(input.store_id, "Store"),
                slot_minutes=input.slot_minutes,
                guide_capacity=input.guide_capacity,
                lead_minutes=input.lead_minutes,
                now=now,
            )
            return {"settings": SlotSettings.from_row(row)}

        return await mutate(info, SlotSettingsUpdatePayload, ScheduleUserError, action)

    @strawberry.mutation(
        extensions=MANAGERS,
        description="Set (or clear) the per-slot capacity of a store on a date. HQ_ADMIN, or a "
        "STORE_MANAGER for her store (else FORBIDDEN).",
    )
    async def slot_capacity_override_set(
        self,
        info: strawberry.Info,
        input: Annotated[SlotCapacityOverrideInput, strawberry.argument(description="The store, date and capacity.")],
    ) -> SlotCapacityOverridePayload:
        actor = await info.context.viewer()
        now = info.context.runtime.clock.now()

        async def action(session):
            await services.set_capacity_override(
                session, actor, local_id(input.store_id, "Store"), input.day, input.capacity, now
            )
            return {"ok": True}

        return await mutate(info, SlotCapacityOverridePayload, ScheduleUserError, action)
