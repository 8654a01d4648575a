"""GraphQL inputs of livestreams."""

from __future__ import annotations

from datetime import datetime

import strawberry

from ....api.nodes import local_id, local_ids
from .. import services
from .types import Channel, LivestreamStatus


@strawberry.input(description="A new livestream; it starts SCHEDULED.")
class LivestreamCreateInput:
    title: str = strawberry.field(description="1-100 characters.")
    host_name: str = strawberry.field(description="The host's name, 1-64 characters.")
    team_id: strawberry.ID = strawberry.field(description="The Team running it.")
    channel: Channel = strawberry.field(description="Where it is broadcast.")
    scheduled_start: datetime = strawberry.field(description="When it is to start.")
    scheduled_end: datetime = strawberry.field(
        description="When it is to end: after the start, at most 24 hours later."
    )
    talking_points: list[str] = strawberry.field(
        default_factory=list, description="What guides should say: at most 50, each 1-300 characters."
    )
    product_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Featured Product ids in show order: at most 100, no repeats."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="1-128 characters: a retry with the same key by you returns the first result and writes nothing.",
    )


@strawberry.input(
    description="Fields left out (or null) stay as they are. Setting status LIVE or ENDED stamps the actual time."
)
class LivestreamUpdateInput:
    id: strawberry.ID = strawberry.field(description="The Livestream to change.")
    title: str | None = strawberry.field(default=None, description="1-100 characters.")
    host_name: str | None = strawberry.field(default=None, description="1-64 characters.")
    team_id: strawberry.ID | None = strawberry.field(default=None, description="The Team running it.")
    channel: Channel | None = strawberry.field(default=None, description="Where it is broadcast.")
    scheduled_start: datetime | None = strawberry.field(default=None, description="Must stay before the end.")
    scheduled_end: datetime | None = strawberry.field(
        default=None, description="After the start, at most 24 hours later."
    )
    talking_points: list[str] | None = strawberry.field(
        default=None, description="Replaces them all: at most 50, each 1-300 characters."
    )
    product_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Replaces the featured products, in show order: at most 100, no repeats."
    )
    status: LivestreamStatus | None = strawberry.field(
        default=None, description="SCHEDULED → LIVE or CANCELLED; LIVE → ENDED. Other moves: INVALID_STATUS_TRANSITION."
    )


def to_draft(data: LivestreamCreateInput) -> services.LivestreamDraft:
    return services.LivestreamDraft(
        title=data.title,
        host_name=data.host_name,
        team_id=local_id(data.team_id, "Team"),
        channel=data.channel,
        scheduled_start=data.scheduled_start,
        scheduled_end=data.scheduled_end,
        talking_points=data.talking_points,
        product_ids=[local_id(i, "Product") for i in data.product_ids],
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
