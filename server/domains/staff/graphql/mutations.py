"""Staff and team mutations: HQ_ADMIN, or a store manager for her own guides."""

from __future__ import annotations

import strawberry

from ....api.errors import mutate
from ....api.nodes import local_id
from ....api.permissions import roles
from ...common.actor import Role as RoleValue
from .. import services
from .inputs import StaffCreateInput, StaffUpdateInput, TeamCreateInput, to_staff_changes, to_staff_draft
from .types import StaffUser, StaffUserError, Team

STAFF_ADMINS = roles(RoleValue.HQ_ADMIN, RoleValue.STORE_MANAGER)


@strawberry.type
class StaffCreatePayload:
    staff: StaffUser | None = None
    errors: list[StaffUserError]


@strawberry.type
class StaffUpdatePayload:
    staff: StaffUser | None = None
    errors: list[StaffUserError]


@strawberry.type
class StaffDeactivatePayload:
    staff: StaffUser | None = None
    errors: list[StaffUserError]


@strawberry.type
class TeamCreatePayload:
    team: Team | None = None
    errors: list[StaffUserError]


@strawberry.type
class StaffMutation:
    @strawberry.mutation(extensions=STAFF_ADMINS, description="Create a staff account.")
    async def staff_create(self, info: strawberry.Info, input: StaffCreateInput) -> StaffCreatePayload:
        actor = info.context.require_actor()

        async def action(session):
            row = await services.create_staff(session, actor, to_staff_draft(input), input.idempotency_key)
            return {"staff": StaffUser.from_row(row)}

        return await mutate(info, StaffCreatePayload, StaffUserError, action)

    @strawberry.mutation(extensions=STAFF_ADMINS, description="Change a staff account.")
    async def staff_update(self, info: strawberry.Info, input: StaffUpdateInput) -> StaffUpdatePayload:
        actor = info.context.require_actor()

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

    @strawberry.mutation(extensions=STAFF_ADMINS, description="Deactivate a staff account and end its sessions.")
    async def staff_deactivate(self, info: strawberry.Info, id: strawberry.ID) -> StaffDeactivatePayload:
        actor = info.context.require_actor()

        async def action(session):
            row = await services.deactivate_staff(
                session, actor, local_id(id, "StaffUser"), info.context.runtime.clock.now()
            )
            return {"staff": StaffUser.from_row(row)}

        return await mutate(info, StaffDeactivatePayload, StaffUserError, action)

    @strawberry.mutation(extensions=roles(RoleValue.HQ_ADMIN), description="Create a livestream ops team.")
    async def team_create(self, info: strawberry.Info, input: TeamCreateInput) -> TeamCreatePayload:
        actor = info.context.require_actor()

        async def action(session):
            draft = services.TeamDraft(name=input.name, member_ids=[local_id(m, "StaffUser") for m in input.member_ids])
            row = await services.create_team(session, actor, draft, input.idempotency_key)
            return {"team": Team.from_row(row)}

        return await mutate(info, TeamCreatePayload, StaffUserError, action)
