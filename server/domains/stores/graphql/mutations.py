"""Store mutations (HQ_ADMIN)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ....api.errors import mutate
from ....api.nodes import local_id
from ....api.permissions import roles
from ...common.actor import Role
from .. import services
from .inputs import StoreCreateInput, StoreUpdateInput, to_changes, to_draft
from .types import Store, StoreUserError


@strawberry.type(description="The answer to storeCreate.")
class StoreCreatePayload:
    store: Store | None = strawberry.field(
        default=None, description="The new store (or the one a retry's key names); null on errors."
    )
    errors: list[StoreUserError] = strawberry.field(
        description="Why nothing was written (DUPLICATE_CODE, INVALID_TIMEZONE, INVALID_OPENING_HOURS, "
        "NOT_FOUND for serviceIds, or an input check); empty on success."
    )


@strawberry.type(description="The answer to storeUpdate.")
class StoreUpdatePayload:
    store: Store | None = strawberry.field(default=None, description="The store as changed; null on errors.")
    errors: list[StoreUserError] = strawberry.field(
        description="Why nothing was written (NOT_FOUND, INVALID_TIMEZONE, INVALID_OPENING_HOURS "
        "or an input check); empty on success."
    )


@strawberry.type
class StoreMutation:
    @strawberry.mutation(extensions=roles(Role.HQ_ADMIN), description="Open a store. HQ_ADMIN only.")
    async def store_create(
        self,
        info: strawberry.Info,
        input: Annotated[StoreCreateInput, strawberry.argument(description="The new store.")],
    ) -> StoreCreatePayload:
        actor = await info.context.viewer()

        async def action(session):
            row = await services.create_store(session, actor, to_draft(input), input.idempotency_key)
            return {"store": Store.from_row(row)}

        return await mutate(info, StoreCreatePayload, StoreUserError, action)

    @strawberry.mutation(
        extensions=roles(Role.HQ_ADMIN), description="Change a store; fields left out stay as they are. HQ_ADMIN only."
    )
    async def store_update(
        self,
        info: strawberry.Info,
        input: Annotated[StoreUpdateInput, strawberry.argument(description="The store and the fields to change.")],
    ) -> StoreUpdatePayload:
        actor = await info.context.viewer()

        async def action(session):
            row = await services.update_store(session, actor, local_id(input.id, "Store"), to_changes(input))
            return {"store": Store.from_row(row)}

        return await mutate(info, StoreUpdatePayload, StoreUserError, action)
