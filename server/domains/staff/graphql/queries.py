"""Staff and team queries."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ....api.nodes import local_id
from ....api.pagination import After, Connection, First, paginate
from ....api.permissions import authenticated, roles
from ...common.actor import Role as RoleValue
from .. import services
from .types import StaffUser, Team


@strawberry.type
class StaffQuery:
    @strawberry.field(
        extensions=roles(RoleValue.HQ_ADMIN, RoleValue.ANALYST, RoleValue.STORE_MANAGER, store_scoped=True),
        description="Staff accounts in id order. HQ_ADMIN and ANALYST see everyone; a STORE_MANAGER her store only.",
    )
    async def staff(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        store_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only staff of this Store (a manager may name only her own)."),
        ] = None,
        role: Annotated[RoleValue | None, strawberry.argument(description="Only staff with this role.")] = None,
    ) -> Connection[StaffUser]:
        actor = await info.context.viewer()
        statement = services.staff_listing(actor, store_id=local_id(store_id, "Store"), role=role)
        return await paginate(info, statement, StaffUser.from_row, first=first, after=after)

    @strawberry.field(
        extensions=authenticated(), description="Livestream operations teams in id order. Any signed-in viewer."
    )
    async def teams(self, info: strawberry.Info, first: First = None, after: After = None) -> Connection[Team]:
        return await paginate(info, services.team_listing(), Team.from_row, first=first, after=after)
