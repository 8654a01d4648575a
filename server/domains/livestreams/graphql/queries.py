"""Livestream queries."""

from __future__ import annotations

import strawberry

from ....api.nodes import local_id
from ....api.pagination import Connection, paginate
from ....api.permissions import authenticated
from .. import services
from .types import Livestream, LivestreamStatus


@strawberry.type
class LivestreamQuery:
    @strawberry.field(extensions=authenticated(), description="Livestreams, optionally by status or team.")
    async def livestreams(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        status: LivestreamStatus | None = None,
        team_id: strawberry.ID | None = None,
    ) -> Connection[Livestream]:
        statement = services.livestream_listing(status=status, team_id=local_id(team_id, "Team"))
        return await paginate(info, statement, Livestream.from_row, first=first, after=after)
