"""Livestream queries."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ....api.nodes import local_id
from ....api.pagination import After, Connection, First, paginate
from ....api.permissions import authenticated
from .. import services
from .types import Livestream, LivestreamStatus


@strawberry.type
class LivestreamQuery:
    @strawberry.field(
        extensions=authenticated(),
        description="Livestreams in id order, optionally by status or team. Any signed-in viewer.",
    )
    async def livestreams(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        status: Annotated[
            LivestreamStatus | None, strawberry.argument(description="Only livestreams in this status.")
        ] = None,
        team_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only livestreams of this Team.")
        ] = None,
    ) -> Connection[Livestream]:
        statement = services.livestream_listing(status=status, team_id=local_id(team_id, "Team"))
        return await paginate(info, statement, Livestream.from_row, first=first, after=after)
