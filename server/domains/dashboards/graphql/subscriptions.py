"""liveDashboard: one livestream's figures, at most twice a second while they change."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from ....api.errors import query_problem
from ....api.nodes import local_id
from ....api.permissions import roles
from ...common.actor import Role
from ...common.validation import not_found
from .. import services
from .types import LiveDashboard


async def _require_livestream(info: strawberry.Info, livestream_id: int) -> None:
    async with info.context.db() as session:
        if not await services.livestream_exists(session, livestream_id):
            raise query_problem(not_found("livestream", ("livestreamId",)))


@strawberry.type
class DashboardSubscription:
    @strawberry.subscription(
        extensions=roles(Role.HQ_ADMIN, Role.LIVESTREAM_OPS, Role.ANALYST),
        description="One livestream's live dashboard: a snapshot at once, then at most one every 0.5 s while "
        "bookings, orders or commissions change, none while nothing does. Every subscriber of a server process "
        "shares the same snapshots. HQ_ADMIN, LIVESTREAM_OPS or ANALYST. An unknown livestream answers "
        "BAD_USER_INPUT with reason NOT_FOUND.",
    )
    async def live_dashboard(
        self,
        info: strawberry.Info,
        livestream_id: Annotated[strawberry.ID, strawberry.argument(description="The Livestream.")],
    ) -> AsyncGenerator[LiveDashboard, None]:
        livestream = local_id(livestream_id, "Livestream")
        await _require_livestream(info, livestream)
        context = info.context
        await context.renew_session()  # between snapshots the subscription holds no connection
        currency = context.settings.brand_currency
        async with context.runtime.live_boards.watch(livestream) as board:
            seen = 0
            while True:
                snapshot = await board.next_after(seen)
                seen = snapshot.sequence
                await context.viewer()  # a token that expired ends the stream
                yield LiveDashboard.of(snapshot, currency)
