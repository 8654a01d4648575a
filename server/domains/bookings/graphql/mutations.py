"""Booking mutations: customers for themselves, store staff on a customer's behalf."""

from __future__ import annotations

import strawberry

from ....api.errors import mutate
from ....api.nodes import local_id
from ....api.permissions import authenticated, roles
from ...common.actor import Role
from .. import reception, services
from .inputs import (
    BookingCancelInput,
    BookingCheckInInput,
    BookingCreateInput,
    BookingRescheduleInput,
    to_request,
)
from .types import Booking, BookingUserError


@strawberry.type
class BookingCreatePayload:
    booking: Booking | None = None
    errors: list[BookingUserError]


@strawberry.type
class BookingCancelPayload:
    booking: Booking | None = None
    errors: list[BookingUserError]


@strawberry.type
class BookingReschedulePayload:
    booking: Booking | None = None
    errors: list[BookingUserError]


@strawberry.type
class BookingCheckInPayload:
    booking: Booking | None = None
    errors: list[BookingUserError]


@strawberry.type
class BookingMutation:
    @strawberry.mutation(
        extensions=authenticated(),
        description="Book a store visit in a slot with free seats. Calls per customer "
        "are limited (RATE_LIMITED, with retryAfter).",
    )
    async def booking_create(self, info: strawberry.Info, input: BookingCreateInput) -> BookingCreatePayload:
        actor = await info.context.viewer()
        now = info.context.runtime.clock.now()

        async def action(session):
            row = await services.create_booking(
                session,
                actor,
                to_request(input),
                input.idempotency_key,
                now,
                info.context.runtime.limits,
                info.context.runtime.task_policy,
            )
            return {"booking": Booking.from_row(row)}

        return await mutate(info, BookingCreatePayload, BookingUserError, action)

    @strawberry.mutation(
        extensions=authenticated(),
        description="Cancel a confirmed booking (her own, or at your store); the seat is freed.",
    )
    async def booking_cancel(self, info: strawberry.Info, input: BookingCancelInput) -> BookingCancelPayload:
        actor = await info.context.viewer()
        now = info.context.runtime.clock.now()

        async def action(session):
            row = await services.cancel_booking(session, actor, local_id(input.id, "Booking"), input.reason, now)
            return {"booking": Booking.from_row(row)}

        return await mutate(info, BookingCancelPayload, BookingUserError, action)

    @strawberry.mutation(
        extensions=roles(Role.HQ_ADMIN, Role.STORE_MANAGER, Role.GUIDE),
        description="She is here: CONFIRMED → CHECKED_IN, her visit on her timeline, her "
        "reception task started. Open from 60 minutes (IRS_CHECK_IN_OPENS_MINUTES) "
        "before the slot until the no-show time.",
    )
    async def booking_check_in(self, info: strawberry.Info, input: BookingCheckInInput) -> BookingCheckInPayload:
        actor = info.context.require_actor()
        runtime = info.context.runtime

        async def action(session):
            row = await reception.check_in(
                session,
                actor,
                booking_id=local_id(input.booking_id, "Booking"),
                qr_token=input.qr_token,
                tokens=runtime.tokens,
                window=reception.CheckInWindow.from_settings(runtime.settings),
                now=runtime.clock.now(),
            )
            return {"booking": Booking.from_row(row)}

        return await mutate(info, BookingCheckInPayload, BookingUserError, action)

    @strawberry.mutation(
        extensions=authenticated(),
        description="Move a confirmed booking to another slot: the old seat is freed only if the new one is taken.",
    )
    async def booking_reschedule(
        self, info: strawberry.Info, input: BookingRescheduleInput
    ) -> BookingReschedulePayload:
        actor = await info.context.viewer()
        runtime = info.context.runtime

        async def action(session):
            row = await services.reschedule_booking(
                session,
                actor,
                local_id(input.id, "Booking"),
                input.slot_start,
                runtime.task_policy,
                runtime.clock.now(),
            )
            return {"booking": Booking.from_row(row)}

        return await mutate(info, BookingReschedulePayload, BookingUserError, action)
