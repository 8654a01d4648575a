"""Coupon mutations: campaigns (HQ_ADMIN, LIVESTREAM_OPS), claims (customers)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession

from ....api.errors import mutate
from ....api.nodes import local_id
from ....api.permissions import authenticated, roles
from .. import campaigns, claims
from .inputs import CouponCampaignCreateInput, CouponCampaignUpdateInput, CouponClaimInput, to_changes, to_draft
from .types import Coupon, CouponCampaign, CouponUserError

EDITORS = roles(*campaigns.EDITORS)


@strawberry.type(description="The answer to couponCampaignCreate.")
class CouponCampaignCreatePayload:
    campaign: CouponCampaign | None = strawberry.field(
        default=None, description="The new campaign (or the one a retry's key names); null on errors."
    )
    errors: list[CouponUserError] = strawberry.field(
        description="Why nothing was written (see couponCampaignCreate); empty on success."
    )


@strawberry.type(description="The answer to couponCampaignUpdate.")
class CouponCampaignUpdatePayload:
    campaign: CouponCampaign | None = strawberry.field(default=None, description="The campaign as changed.")
    errors: list[CouponUserError] = strawberry.field(
        description="Why nothing was written (see couponCampaignUpdate); empty on success."
    )


@strawberry.type(description="The answer to couponClaim.")
class CouponClaimPayload:
    coupon: Coupon | None = strawberry.field(
        default=None, description="Her new coupon (or the one a retry's key names); null on errors."
    )
    errors: list[CouponUserError] = strawberry.field(
        description="Why nothing was written (see couponClaim); empty on success."
    )


@strawberry.type
class CouponMutation:
    @strawberry.mutation(
        extensions=EDITORS,
        description="Start a coupon campaign for a livestream. HQ_ADMIN or LIVESTREAM_OPS. Errors: NOT_FOUND "
        "(livestreamId, productIds, categoryIds, storeIds by index), LIVESTREAM_ENDED, INVALID_DISCOUNT, "
        "INVALID_CURRENCY, INVALID_VALIDITY, REQUIRED (a value the discount's kind needs), OUT_OF_RANGE, "
        "TOO_MANY, INVALID_VALUE (an id listed twice), or a check of name.",
    )
    async def coupon_campaign_create(
        self,
        info: strawberry.Info,
        input: Annotated[CouponCampaignCreateInput, strawberry.argument(description="The new campaign.")],
    ) -> CouponCampaignCreatePayload:
        actor = await info.context.viewer()
        runtime = info.context.runtime

        async def action(session: AsyncSession) -> dict[str, Any]:
            row = await campaigns.create_campaign(
                session,
                actor,
                to_draft(input),
                brand_currency=runtime.settings.brand_currency,
                now=runtime.clock.now(),
                idempotency_key=input.idempotency_key,
            )
            return {"campaign": CouponCampaign.from_row(row)}

        return await mutate(info, CouponCampaignCreatePayload, CouponUserError, action)

    @strawberry.mutation(
        extensions=EDITORS,
        description="Switch a campaign on or off, move its validity or change its stock. HQ_ADMIN or "
        "LIVESTREAM_OPS. Errors: NOT_FOUND, INVALID_VALIDITY, OUT_OF_RANGE, STOCK_BELOW_CLAIMED, or a check "
        "of name.",
    )
    async def coupon_campaign_update(
        self,
        info: strawberry.Info,
        input: Annotated[
            CouponCampaignUpdateInput, strawberry.argument(description="The campaign and the fields to change.")
        ],
    ) -> CouponCampaignUpdatePayload:
        actor = await info.context.viewer()
        now = info.context.runtime.clock.now()

        async def action(session: AsyncSession) -> dict[str, Any]:
            campaign_id = local_id(input.id, "CouponCampaign")
            row = await campaigns.update_campaign(session, actor, campaign_id, to_changes(input), now)
            return {"campaign": CouponCampaign.from_row(row)}

        return await mutate(info, CouponCampaignUpdatePayload, CouponUserError, action)

    @strawberry.mutation(
        extensions=authenticated(),
        description="Claim a coupon of a campaign, for yourself: signed-in customers only (staff: FORBIDDEN). "
        "Open while the campaign is on and before its validUntil, and its livestream LIVE or within its "
        "scheduled window. The claim goes on her timeline (COUPON_CLAIM). Errors: NOT_FOUND, CAMPAIGN_INACTIVE, "
        "CAMPAIGN_ENDED, LIVESTREAM_NOT_LIVE, SOLD_OUT, CLAIM_LIMIT_REACHED.",
    )
    async def coupon_claim(
        self,
        info: strawberry.Info,
        input: Annotated[CouponClaimInput, strawberry.argument(description="The campaign.")],
    ) -> CouponClaimPayload:
        actor = await info.context.viewer()
        now = info.context.runtime.clock.now()

        async def action(session: AsyncSession) -> dict[str, Any]:
            campaign_id = local_id(input.campaign_id, "CouponCampaign")
            row = await claims.claim_coupon(session, actor, campaign_id, now=now, idempotency_key=input.idempotency_key)
            return {"coupon": Coupon.of_owner(row)}

        return await mutate(info, CouponClaimPayload, CouponUserError, action)
