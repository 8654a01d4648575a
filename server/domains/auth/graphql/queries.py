"""Who am I."""

from __future__ import annotations

from typing import cast

import strawberry

from ....api.permissions import authenticated
from ....api.viewer import Viewer
from ...common.actor import ActorKind
from ...common.errors import Unauthenticated
from ...identity.graphql.types import Customer, open_customer
from ...staff.graphql.types import StaffUser
from ...staff.services import staff_with_store


@strawberry.type
class AuthQuery:
    @strawberry.field(extensions=authenticated(), description="The signed-in viewer: a StaffUser or a Customer.")
    async def me(self, info: strawberry.Info) -> Viewer:
        actor = await info.context.viewer()
        if actor.kind is ActorKind.CUSTOMER:
            # Never None: a signed-in customer's person exists (persons are not deleted). A None would
            # still meet GraphQL's non-null check on `me`: the cast changes nothing at run time.
            return cast(Customer, await open_customer(info, actor.id))
        # Her store with her, in one read (`me` is every screen's first question); StaffUser.store answers it.
        # Read at once, not by a DataLoader: `me` is asked once per operation, so there is nothing to batch.
        async with info.context.db() as session:
            found = await staff_with_store(session, actor.id)
        if found is None:  # her account was confirmed in this operation: staff rows are deactivated, not deleted
            raise Unauthenticated("session ended or account deactivated; sign in again")
        return StaffUser.from_row(*found)
