"""Who am I."""

from __future__ import annotations

import strawberry

from ....api.permissions import authenticated
from ....api.viewer import Viewer
from ...common.actor import ActorKind
from ...identity.graphql.types import open_customer
from ...staff.graphql.types import StaffUser
from ...staff.services import staff_by_ids


@strawberry.type
class AuthQuery:
    @strawberry.field(extensions=authenticated(), description="The signed-in viewer: a StaffUser or a Customer.")
    async def me(self, info: strawberry.Info) -> Viewer:
        actor = await info.context.viewer()
        if actor.kind is ActorKind.CUSTOMER:
            return await open_customer(info, actor.id)
        return StaffUser.from_row(await info.context.loader(staff_by_ids).load(actor.id))
