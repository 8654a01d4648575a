"""Staff and team queries."""

from __future__ import annotations

import strawberry

from ....api.nodes import local_id
from ....api.pagination import Connection, paginate
from ....api.permissions import authenticated, roles
from ...common.actor import Role as RoleValue
from .. import services
from .types import Role, StaffUser, Team


@strawberry.type
class StaffQuery:
    @strawberry.field(
        extensions=roles(RoleValue.HQ_ADMIN, RoleValue.ANALYST, RoleValue.STORE_MANAGER, store_scoped=True),
        description="Staff accounts; a store manager sees her own store only.",
    )
    async def staff(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        store_id: strawberry.ID | None = None,
        role: Role | None = None,
    ) -> Connection[StaffUser]:
        actor = info.context.require_actor()
        statement = services.staff_listing(actor, store_id=local_id(store_id, "Store"), role=role)
        return await paginate(info, statement, StaffUser.from_row, first=first, after=after)

    @strawberry.field(extensions=authenticated(), description="Livestream operations teams.")
    async def teams(
        self, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> Connection[Team]:
        return await paginate(info, services.team_listing(), Team.from_row, first=first, after=after)
