"""Fields coupons adds to lower domains' types: a livestream's campaigns, a customer's usable coupons."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ....api.nodes import local_id
from ....api.pagination import After, Connection, First, paginate
from ....api.type_extensions import extends
from ...common.actor import HQ_ROLES, ActorKind
from ...common.errors import Forbidden
from ...identity import view
from ...identity.graphql.types import Customer
from ...livestreams.graphql.types import Livestream
from .. import campaigns, claims
from ..models import Coupon as CouponRow
from .types import Coupon, CouponCampaign


@extends(
    Livestream,
    "coupon_campaigns",
    description="Its coupon campaigns in id order, with the stock that remains. Any signed-in viewer: staff "
    "see every one; customers those switched on and not over (claimable tells whether one can be claimed now).",
)
async def livestream_coupon_campaigns(
    root: Livestream, info: strawberry.Info, first: First = None, after: After = None
) -> Connection[CouponCampaign]:
    actor = await info.context.viewer()
    if actor.is_staff:
        statement = campaigns.campaign_listing(root.id)
    else:
        statement = campaigns.claimable_listing(root.id, info.context.runtime.clock.now())
    return await paginate(info, statement, CouponCampaign.from_row, first=first, after=after)


@extends(
    Customer,
    "coupons",
    description="Her coupons that can be redeemed now (ISSUED, their campaign on and within validity), newest "
    "claim first (they follow her through OneID merges). Given a store: only those redeemed in store there "
    "(IN_STORE_ONLY or ANY, and the store among the campaign's). Staff as they may open her 360° view; "
    "STORE_MANAGER and GUIDE only for their own store (the default; another store is FORBIDDEN). Codes are "
    "null when your view of her is masked.",
)
async def customer_coupons(
    root: Customer,
    info: strawberry.Info,
    first: First = None,
    after: After = None,
    usable_at_store_id: Annotated[
        strawberry.ID | None, strawberry.argument(description="Only coupons redeemed in store at this Store.")
    ] = None,
) -> Connection[Coupon]:
    store_id = local_id(usable_at_store_id, "Store")
    owner_view, show_code = True, True
    # No actor: a sign-in's answer shows her to herself before the request has one.
    if info.context.actor is not None:
        actor = await info.context.viewer()
        if actor.kind is ActorKind.CUSTOMER:
            if actor.id != root.id:
                raise Forbidden("customers read only their own data")
        else:
            async with info.context.db() as session:
                access = await view.access_for(session, actor, root.id)
            if not actor.has_role(*HQ_ROLES):
                store_id = actor.store_id if store_id is None else store_id
                actor.require_store(store_id)
            owner_view, show_code = False, not access.masked
    now = info.context.runtime.clock.now()
    async with info.context.db() as session:
        statement = await claims.usable_coupon_listing(session, root.id, store_id, now)

    def convert(row: CouponRow) -> Coupon:
        return Coupon.from_row(row, owner_view=owner_view, show_code=show_code)

    return await paginate(info, statement, convert, first=first, after=after, newest_by=CouponRow.claimed_at)


COUPON_EXTENSIONS = (livestream_coupon_campaigns, customer_coupons)
