"""Staff and team mutations: HQ_ADMIN, or a store manager for her own guides."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ....api.errors import mutate
from ....api.mutation_input import Input, deprecated_argument, one_input
from ....api.nodes import local_id
from ....api.permissions import roles
from ...common.actor import Role as RoleValue
from .. import services
from .inputs import (
    StaffCreateInput,
    StaffDeactivateInput,
    StaffUpdateInput,
    TeamCreateInput,
    to_staff_changes,
    to_staff_draft,
)
from .types import StaffUser, StaffUserError, Team

STAFF_ADMINS = roles(RoleValue.HQ_ADMIN, RoleValue.STORE_MANAGER)


@strawberry.type(description="The answer to staffCreate.")
class StaffCreatePayload:
    staff: StaffUser | None = strawberry.field(
        default=None, description="The new account (or the one a retry's key names); null on errors."
    )
    errors: list[StaffUserError] = strawberry.field(
        description="Why nothing was written (DUPLICATE_USERNAME, PASSWORD_TOO_SHORT, STORE_REQUIRED, "
        "STORE_NOT_ALLOWED, NOT_FOUND or an input check); empty on success."
    )


@strawberry.type(description="The answer to staffUpdate.")
class StaffUpdatePayload:
    staff: StaffUser | None = strawberry.field(default=None, description="The account as changed; null on errors.")
    errors: list[StaffUserError] = strawberry.field(
        description="Why nothing was written (NOT_FOUND, PASSWORD_TOO_SHORT, STORE_REQUIRED, STORE_NOT_ALLOWED "
        "or an input check); empty on success."
    )


@strawberry.type(description="The answer to staffDeactivate.")
class StaffDeactivatePayload:
    staff: StaffUser | None = strawberry.field(default=None, description="The account, now inactive; null on errors.")
    errors: list[StaffUserError] = strawberry.field(description="NOT_FOUND when the id names no account; else empty.")


@strawberry.type(description="The answer to teamCreate.")
class TeamCreatePayload:
    team: Team | None = strawberry.field(
        default=None, description="The new team (or the one a retry's key names); null on errors."
    )
    errors: list[StaffUserError] = strawberry.field(
        description="Why nothing was written (DUPLICATE_NAME, INVALID_MEMBER or an input check); empty on success."
    )


@strawberry.type
class StaffMutation:
    @strawberry.mutation(
        extensions=STAFF_ADMINS,
        description="Create a staff account. HQ_ADMIN; a STORE_MANAGER only guides of her store (else FORBIDDEN).",
    )
    async def staff_create(
        self,
        info: strawberry.Info,
        input: Annotated[StaffCreateInput, strawberry.argument(description="The new account.")],
    ) -> StaffCreatePayload:
        actor = await info.context.viewer()

        async def action(session):
            row = await services.create_staff(session, actor, to_staff_draft(input), input.idempotency_key)
            return {"staff": StaffUser.from_row(row)}

        return await mutate(info, StaffCreatePayload, StaffUserError, action)

    @strawberry.mutation(
        extensions=STAFF_ADMINS,
        description="Change a staff account; fields left out stay as they are. HQ_ADMIN; a STORE_MANAGER only "
        "guides of her store (else FORBIDDEN).",
    )
    async def staff_update(
        self,
        info: strawberry.Info,
        input: Annotated[StaffUpdateInput, strawberry.argument(description="The account and the fields to change.")],
    ) -> StaffUpdatePayload:
        actor = await info.context.viewer()

        async def action(session):
            row = await services.update_staff(
                session,
                actor,
                local_id(input.id, "StaffUser"),
                to_staff_changes(input),
                info.context.runtime.clock.now(),
            )
            return {"staff": StaffUser.from_row(row)}

        return await mutate(info, StaffUpdatePayload, StaffUserError, action)

    @strawberry.mutation(
        extensions=STAFF_ADMINS,
        description="Deactivate a staff account and end its sessions. HQ_ADMIN; a STORE_MANAGER only guides of her "
        "store (else FORBIDDEN).",
    )
    async def staff_deactivate(
        self,
        info: strawberry.Info,
        input: Input[StaffDeactivateInput] = None,
        id: Annotated[strawberry.ID | None, deprecated_argument("The StaffUser.")] = None,
    ) -> StaffDeactivatePayload:
        actor = await info.context.viewer()

        async def action(session):
            staff_id = local_id(one_input(input, StaffDeactivateInput, id=id).id, "StaffUser")
            row = await services.deactivate_staff(session, actor, staff_id, info.context.runtime.clock.now())
            return {"staff": StaffUser.from_row(row)}

        return await mutate(info, StaffDeactivatePayload, StaffUserError, action)

    @strawberry.mutation(
        extensions=roles(RoleValue.HQ_ADMIN), description="Create a livestream ops team. HQ_ADMIN only."
    )
    async def team_create(
        self, info: strawberry.Info, input: Annotated[TeamCreateInput, strawberry.argument(description="The new team.")]
    ) -> TeamCreatePayload:
        actor = await info.context.viewer()

        async def action(session):
            draft = services.TeamDraft(name=input.name, member_ids=[local_id(m, "StaffUser") for m in input.member_ids])
            row = await services.create_team(session, actor, draft, input.idempotency_key)
            return {"team": Team.from_row(row)}

        return await mutate(info, TeamCreatePayload, StaffUserError, action)
