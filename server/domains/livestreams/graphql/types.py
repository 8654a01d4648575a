"""GraphQL types of livestreams."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import strawberry
from strawberry import relay

from ....api.enums import described_enum
from ....api.errors import UserError, user_error_type
from ....api.nodes import load_nodes
from ...catalog.graphql.types import Product
from ...catalog.services import products_by_ids
from ...common.rows import saved_id
from ...staff.graphql.types import Team
from ...staff.services import teams_by_ids
from .. import services
from ..errors import LivestreamErrorCode
from ..models import Channel as ChannelValue
from ..models import Livestream as LivestreamRow
from ..models import LivestreamStatus as StatusValue

if TYPE_CHECKING:  # user_error_type builds the class at run time: mypy knows it by its interface
    LivestreamUserError = UserError
else:
    LivestreamUserError = user_error_type(
        "Livestream",
        LivestreamErrorCode,
        {
            LivestreamErrorCode.INVALID_SCHEDULE: "scheduledEnd is not after scheduledStart, or more than 24 "
            "hours after.",
            LivestreamErrorCode.INVALID_STATUS_TRANSITION: "The status cannot move there (e.g. an ENDED livestream).",
        },
    )
# described_enum documents a domain enum in place (strawberry.enum returns the class): the schema's enums
# are the domain's classes, named here so that annotations read as the schema does.
Channel = ChannelValue
LivestreamStatus = StatusValue
described_enum(
    Channel,
    description="Where the livestream is broadcast.",
    values={
        ChannelValue.WECHAT_CHANNELS: "WeChat Channels (视频号).",
        ChannelValue.MINI_PROGRAM: "The brand's WeChat mini-program.",
        ChannelValue.DOUYIN: "Douyin (抖音).",
        ChannelValue.OTHER: "Any other platform.",
    },
)
described_enum(
    LivestreamStatus,
    description="SCHEDULED → LIVE → ENDED, or SCHEDULED → CANCELLED.",
    values={
        StatusValue.SCHEDULED: "Planned; it may go LIVE or be CANCELLED.",
        StatusValue.LIVE: "On air now (actualStart is set); it may only become ENDED.",
        StatusValue.ENDED: "Over (actualEnd is set); final.",
        StatusValue.CANCELLED: "Called off before it went live; final.",
    },
)


@strawberry.type(description="A livestream that sends viewers to stores.")
class Livestream(relay.Node):
    id: relay.NodeID[int]
    title: str = strawberry.field(description="Its title.")
    host_name: str = strawberry.field(description="The host's name.")
    channel: Channel = strawberry.field(description="Where it is broadcast.")
    status: LivestreamStatus = strawberry.field(description="Where it is in its life.")
    scheduled_start: datetime = strawberry.field(description="When it is planned to start.")
    scheduled_end: datetime = strawberry.field(
        description="When it is planned to end (at most 24 hours after the start)."
    )
    actual_start: datetime | None = strawberry.field(description="When it went LIVE; null before.")
    actual_end: datetime | None = strawberry.field(description="When it ENDED; null before.")
    talking_points: list[str] = strawberry.field(description="What guides should say, in order.")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")
    updated_at: datetime = strawberry.field(description="When it last changed (UTC).")
    team_id: strawberry.Private[int]

    @strawberry.field(description="The ops team running it; sales it drives are credited to it.")
    async def team(self, info: strawberry.Info) -> Team:
        return Team.from_row(await info.context.loader(teams_by_ids).load(self.team_id))

    @strawberry.field(description="Featured products, in show order.")
    async def products(self, info: strawberry.Info) -> list[Product]:
        ids = await info.context.loader(services.product_ids_by_livestream, default=[]).load(self.id)
        rows = await info.context.loader(products_by_ids).load_many(ids)
        return [Product.from_row(r) for r in rows if r]

    @classmethod
    def from_row(cls, row: LivestreamRow) -> Livestream:
        return cls(
            id=saved_id(row),
            title=row.title,
            host_name=row.host_name,
            channel=ChannelValue(row.channel),
            status=StatusValue(row.status),
            scheduled_start=row.scheduled_start,
            scheduled_end=row.scheduled_end,
            actual_start=row.actual_start,
            actual_end=row.actual_end,
            talking_points=list(row.talking_points),
            created_at=row.created_at,
            updated_at=row.updated_at,
            team_id=row.team_id,
        )

    @classmethod
    async def resolve_nodes(cls, *, info, node_ids, required=False):
        return await load_nodes(info, services.livestreams_by_ids, node_ids, cls.from_row)
