"""Livestream mutations (HQ_ADMIN and LIVESTREAM_OPS)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ....api.errors import mutate
from ....api.nodes import local_id
from ....api.permissions import roles
from .. import services
from .inputs import LivestreamCreateInput, LivestreamUpdateInput, to_changes, to_draft
from .types import Livestream, LivestreamUserError

EDITORS = roles(*services.EDITORS)


@strawberry.type(description="The answer to livestreamCreate.")
class LivestreamCreatePayload:
    livestream: Livestream | None = strawberry.field(
        default=None, description="The new livestream (or the one a retry's key names); null on errors."
    )
    errors: list[LivestreamUserError] = strawberry.field(
        description="Why nothing was written (INVALID_SCHEDULE, NOT_FOUND for teamId or productIds, "
        "or an input check); empty on success."
    )


@strawberry.type(description="The answer to livestreamUpdate.")
class LivestreamUpdatePayload:
    livestream: Livestream | None = strawberry.field(
        default=None, description="The livestream as changed; null on errors."
    )
    errors: list[LivestreamUserError] = strawberry.field(
        description="Why nothing was written (NOT_FOUND, INVALID_SCHEDULE, INVALID_STATUS_TRANSITION "
        "or an input check); empty on success."
    )


@strawberry.type
class LivestreamMutation:
    @strawberry.mutation(extensions=EDITORS, description="Schedule a livestream. HQ_ADMIN or LIVESTREAM_OPS.")
    async def livestream_create(
        self,
        info: strawberry.Info,
        input: Annotated[LivestreamCreateInput, strawberry.argument(description="The new livestream.")],
    ) -> LivestreamCreatePayload:
        actor = await info.context.viewer()

        async def action(session):
            row = await services.create_livestream(session, actor, to_draft(input), input.idempotency_key)
            return {"livestream": Livestream.from_row(row)}

        return await mutate(info, LivestreamCreatePayload, LivestreamUserError, action)

    @strawberry.mutation(
        extensions=EDITORS, description="Change a livestream, or move its status. HQ_ADMIN or LIVESTREAM_OPS."
    )
    async def livestream_update(
        self,
        info: strawberry.Info,
        input: Annotated[
            LivestreamUpdateInput, strawberry.argument(description="The livestream and the fields to change.")
        ],
    ) -> LivestreamUpdatePayload:
        actor = await info.context.viewer()

        async def action(session):
            row = await services.update_livestream(
                session, actor, local_id(input.id, "Livestream"), to_changes(input), info.context.runtime.clock.now()
            )
            return {"livestream": Livestream.from_row(row)}

        return await mutate(info, LivestreamUpdatePayload, LivestreamUserError, action)
