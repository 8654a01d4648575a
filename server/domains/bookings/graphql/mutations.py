"""Booking mutations: customers for themselves, store staff on a customer's behalf."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ....api.errors import mutate
from ....api.nodes import local_id
from ....api.permissions import authenticated, roles
from ...common.actor import Role
from ...common.rows import saved_id
from .. import reception, services
from .inputs import (
    BookingCancelInput,
    BookingCheckInInput,
    BookingCreateInput,
    BookingRescheduleInput,
    to_check_in_target,
    to_request,
)
from .types import Booking, BookingUserError


@strawberry.type(description="The answer to bookingCreate.")
class BookingCreatePayload:
    booking: Booking | None = strawberry.field(
        default=None, description="The new CONFIRMED booking (or the one a retry's key names); null on errors."
    )
    errors: list[BookingUserError] = strawberry.field(
        description="Why nothing was written (see bookingCreate); empty on success."
    )


@strawberry.type(description="The answer to bookingCancel.")
class BookingCancelPayload:
    booking: Booking | None = strawberry.field(default=None, description="The booking, now CANCELLED; null on errors.")
    errors: list[BookingUserError] = strawberry.field(
        description="NOT_FOUND, INVALID_STATE (not CONFIRMED) or an input check on reason; empty on success."
    )


@strawberry.type(description="The answer to bookingReschedule.")
class BookingReschedulePayload:
    booking: Booking | None = strawberry.field(default=None, description="The booking in its new slot; null on errors.")
    errors: list[BookingUserError] = strawberry.field(
        description="Why nothing was written (see bookingReschedule); empty on success."
    )


@strawberry.type(description="The answer to bookingCheckIn.")
class BookingCheckInPayload:
    booking: Booking | None = strawberry.field(default=None, description="The booking, now CHECKED_IN; null on errors.")
    errors: list[BookingUserError] = strawberry.field(
        description="Why she was not checked in (see bookingCheckIn); empty on success."
    )


@strawberry.type
class BookingMutation:
    @strawberry.mutation(
        extensions=authenticated(),
        description="Book a store visit in a slot with free seats. A customer books for herself; HQ_ADMIN, "
        "STORE_MANAGER and GUIDE for a customer at their store (else FORBIDDEN). Calls per customer are limited "
        "(RATE_LIMITED, with retryAfter). Errors: SLOT_FULL, SLOT_IN_PAST, SLOT_TOO_SOON, SLOT_NOT_ALIGNED, "
        "STORE_CLOSED, SERVICE_NOT_OFFERED, TOO_MANY_ACTIVE_BOOKINGS, OVERLAPPING_BOOKING, NOT_FOUND, REQUIRED.",
    )
    async def booking_create(
        self,
        info: strawberry.Info,
        input: Annotated[BookingCreateInput, strawberry.argument(description="The store, slot and who it is for.")],
    ) -> BookingCreatePayload:
        actor = await info.context.viewer()
        now = info.context.runtime.clock.now()

        async def action(session):
            request = to_request(input)
            row = await services.create_booking(
                session,
                actor,
                request,
                input.idempotency_key,
                now,
                info.context.runtime.limits,
                info.context.runtime.task_policy,
            )
            # The answer's products are the ones booked, not read back: a retry's key is refused with other
            # products, and a booking's products are written once, with it, and never edited. Should they
            # ever become editable, read them back here.
            products = info.context.loader(services.product_ids_by_booking, default=[])
            products.prime(saved_id(row), sorted(set(request.product_ids)))
            return {"booking": Booking.from_row(row)}

        return await mutate(info, BookingCreatePayload, BookingUserError, action)

    @strawberry.mutation(
        extensions=authenticated(),
        description="Cancel a CONFIRMED booking: a customer her own, HQ_ADMIN, STORE_MANAGER and GUIDE one at "
        "their store (else FORBIDDEN); the seat is freed and her task cancelled.",
    )
    async def booking_cancel(
        self,
        info: strawberry.Info,
        input: Annotated[BookingCancelInput, strawberry.argument(description="The booking and why.")],
    ) -> BookingCancelPayload:
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
        "before the slot until the no-show time. HQ_ADMIN, or STORE_MANAGER and GUIDE of the booking's store. "
        "By her QR code, her booking, or her 6-digit checkInCode: a code matches only a booking of the store "
        "(the caller's, or storeId for HQ_ADMIN) whose check-in window is open; codes that match none are "
        "limited per staff member and per store (RATE_LIMITED, with retryAfter). "
        "Errors: INVALID_QR_TOKEN, INVALID_CHECK_IN_CODE, RATE_LIMITED, ALREADY_CHECKED_IN, INVALID_STATE, "
        "CHECK_IN_TOO_EARLY, CHECK_IN_TOO_LATE, NOT_FOUND, REQUIRED (storeId, for HQ_ADMIN with a code), "
        "INVALID_VALUE (not exactly one of qrToken, bookingId and checkInCode; storeId without checkInCode).",
    )
    async def booking_check_in(
        self,
        info: strawberry.Info,
        input: Annotated[
            BookingCheckInInput, strawberry.argument(description="Her QR code, her check-in code, or the booking.")
        ],
    ) -> BookingCheckInPayload:
        actor = await info.context.viewer()
        runtime = info.context.runtime

        async def action(session):
            row = await reception.check_in(
                session,
                actor,
                target=to_check_in_target(input),
                tokens=runtime.tokens,
                limits=runtime.limits,
                window=reception.CheckInWindow.from_settings(runtime.settings),
                now=runtime.clock.now(),
            )
            return {"booking": Booking.from_row(row)}

        return await mutate(info, BookingCheckInPayload, BookingUserError, action)

    @strawberry.mutation(
        extensions=authenticated(),
        description="Move a CONFIRMED booking to another slot of its store: the old seat is freed only if the new "
        "one is taken. A customer her own, HQ_ADMIN, STORE_MANAGER and GUIDE one at their store (else FORBIDDEN). "
        "Errors: INVALID_STATE, SLOT_FULL, SLOT_IN_PAST, SLOT_TOO_SOON, SLOT_NOT_ALIGNED, STORE_CLOSED, "
        "OVERLAPPING_BOOKING, NOT_FOUND.",
    )
    async def booking_reschedule(
        self,
        info: strawberry.Info,
        input: Annotated[BookingRescheduleInput, strawberry.argument(description="The booking and its new slot.")],
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
