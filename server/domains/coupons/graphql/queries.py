"""Coupon queries: campaigns (staff; customers through a livestream), a customer's own coupons."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ....api.nodes import local_id
from ....api.pagination import After, Connection, First, paginate
from ....api.permissions import authenticated, roles
from ...common.actor import Role
from .. import campaigns, claims
from ..models import Coupon as CouponRow
from ..models import CouponStatus as CouponStatusValue
from .types import Coupon, CouponCampaign, CouponStatus

STAFF = roles(*Role)


@strawberry.type
class CouponQuery:
    @strawberry.field(
        extensions=STAFF,
        description="Coupon campaigns in id order, of every livestream or one. Any staff member (customers see "
        "a livestream's open campaigns as Livestream.couponCampaigns).",
    )
    async def coupon_campaigns(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        livestream_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only this Livestream's campaigns.")
        ] = None,
    ) -> Connection[CouponCampaign]:
        statement = campaigns.campaign_listing(local_id(livestream_id, "Livestream"))
        return await paginate(info, statement, CouponCampaign.from_row, first=first, after=after)

    @strawberry.field(
        extensions=authenticated(),
        description="One campaign; null when unknown, or (for a customer) switched off or over.",
    )
    async def coupon_campaign(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The CouponCampaign.")],
    ) -> CouponCampaign | None:
        actor = await info.context.viewer()
        row = await info.context.loader(campaigns.campaigns_by_ids).load(local_id(id, "CouponCampaign"))
        if row is None or not campaigns.visible_to(actor, row, info.context.runtime.clock.now()):
            return None
        return CouponCampaign.from_row(row)

    @strawberry.field(
        extensions=authenticated(),
        description="The signed-in customer's coupons, newest claim first, with their codes and QR tokens "
        "(staff: FORBIDDEN; they see a customer's usable coupons as Customer.coupons).",
    )
    async def my_coupons(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        status: Annotated[CouponStatus | None, strawberry.argument(description="Only coupons in this status.")] = None,
    ) -> Connection[Coupon]:
        actor = await info.context.viewer()
        wanted = None if status is None else CouponStatusValue(status)
        statement = claims.my_coupon_listing(actor, wanted)
        return await paginate(
            info, statement, Coupon.of_owner, first=first, after=after, newest_by=CouponRow.claimed_at
        )
