"""GraphQL inputs of livestreams."""

from __future__ import annotations

from datetime import datetime

import strawberry

from ....api.nodes import local_id, local_ids
from .. import services
from .types import Channel, LivestreamStatus


@strawberry.input
class LivestreamCreateInput:
    title: str
    host_name: str
    team_id: strawberry.ID
    channel: Channel
    scheduled_start: datetime
    scheduled_end: datetime
    talking_points: list[str] = strawberry.field(default_factory=list)
    product_ids: list[strawberry.ID] = strawberry.field(default_factory=list, description="In show order.")
    idempotency_key: str | None = None


@strawberry.input(
    description="Fields left out (or null) stay as they are. Setting status LIVE or ENDED stamps the actual time."
)
class LivestreamUpdateInput:
    id: strawberry.ID
    title: str | None = None
    host_name: str | None = None
    team_id: strawberry.ID | None = None
    channel: Channel | None = None
    scheduled_start: datetime | None = None
    scheduled_end: datetime | None = None
    talking_points: list[str] | None = None
    product_ids: list[strawberry.ID] | None = None
    status: LivestreamStatus | None = None


def to_draft(data: LivestreamCreateInput) -> services.LivestreamDraft:
    return services.LivestreamDraft(
        title=data.title,
        host_name=data.host_name,
        team_id=local_id(data.team_id, "Team"),
        channel=data.channel,
        scheduled_start=data.scheduled_start,
        scheduled_end=data.scheduled_end,
        talking_points=data.talking_points,
        product_ids=local_ids(data.product_ids, "Product"),
    )


def to_changes(data: LivestreamUpdateInput) -> services.LivestreamChanges:
    return services.LivestreamChanges(
        title=data.title,
        host_name=data.host_name,
        team_id=local_id(data.team_id, "Team"),
        channel=data.channel,
        scheduled_start=data.scheduled_start,
        scheduled_end=data.scheduled_end,
        talking_points=data.talking_points,
        product_ids=local_ids(data.product_ids, "Product"),
        status=data.status,
    )
