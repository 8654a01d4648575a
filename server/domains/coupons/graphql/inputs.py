"""GraphQL inputs of coupons."""

from __future__ import annotations

from datetime import datetime

import strawberry

from ....api.nodes import local_id, local_ids
from ....api.scalars import MoneyInput
from .. import campaigns
from .types import CouponChannel, CouponDiscountKind

IDEMPOTENCY_KEY = "1-128 characters: a retry with the same key by you returns the first result and writes nothing."


@strawberry.input(
    description="What a coupon takes off. FIXED takes amountOff; PERCENT percentOff and maxDiscount; THRESHOLD "
    "minSpend and amountOff (less than minSpend). Leave the other fields out."
)
class CouponDiscountInput:
    kind: CouponDiscountKind = strawberry.field(description="FIXED, PERCENT or THRESHOLD.")
    amount_off: MoneyInput | None = strawberry.field(
        default=None, description="FIXED and THRESHOLD: 1 to 10,000,000,000 minor units, in the brand's currency."
    )
    percent_off: int | None = strawberry.field(default=None, description="PERCENT: 1 to 90.")
    max_discount: MoneyInput | None = strawberry.field(
        default=None, description="PERCENT: the most one coupon takes off, 1 to 10,000,000,000 minor units."
    )
    min_spend: MoneyInput | None = strawberry.field(
        default=None,
        description="THRESHOLD: what the products it applies to must come to, 1 to 10,000,000,000 minor units.",
    )


@strawberry.input(description="A new coupon campaign of a livestream.")
class CouponCampaignCreateInput:
    name: str = strawberry.field(description="1-64 characters, as customers see it.")
    livestream_id: strawberry.ID = strawberry.field(description="The Livestream (not ENDED or CANCELLED).")
    discount: CouponDiscountInput = strawberry.field(description="What each coupon takes off.")
    valid_from: datetime = strawberry.field(description="Coupons are redeemed from this instant on.")
    valid_until: datetime = strawberry.field(
        description="Coupons are redeemed (and claimed) before this instant: after validFrom, in the future."
    )
    total_stock: int = strawberry.field(description="How many coupons it gives out in all, 1 to 1,000,000.")
    per_customer_limit: int = strawberry.field(default=1, description="How many one customer may claim, 1 to 10.")
    channel: CouponChannel = strawberry.field(default=CouponChannel.ANY, description="Where they are redeemed.")
    product_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list,
        description="Products they apply to (at most 100); with categoryIds, a line of either applies. Both "
        "empty: every product.",
    )
    category_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="ProductCategories they apply to (at most 50)."
    )
    store_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Stores they are redeemed at (at most 500); empty: every store."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input(description="Fields left out (or null) stay as they are.")
class CouponCampaignUpdateInput:
    id: strawberry.ID = strawberry.field(description="The CouponCampaign to change.")
    name: str | None = strawberry.field(default=None, description="1-64 characters.")
    active: bool | None = strawberry.field(
        default=None, description="Switch it off (no claims, no redemptions) or on again."
    )
    valid_from: datetime | None = strawberry.field(default=None, description="Before validUntil.")
    valid_until: datetime | None = strawberry.field(default=None, description="After validFrom.")
    total_stock: int | None = strawberry.field(
        default=None, description="1 to 1,000,000, and not less than the coupons claimed already."
    )


@strawberry.input(description="Claim a coupon of a campaign.")
class CouponClaimInput:
    campaign_id: strawberry.ID = strawberry.field(description="The CouponCampaign.")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


def _amount(given: MoneyInput | None) -> campaigns.Amount | None:
    return None if given is None else campaigns.Amount(amount=given.amount, currency=given.currency)


def to_draft(given: CouponCampaignCreateInput) -> campaigns.CampaignDraft:
    discount = given.discount
    return campaigns.CampaignDraft(
        name=given.name,
        livestream_id=local_id(given.livestream_id, "Livestream"),
        discount=campaigns.DiscountDraft(
            kind=CouponDiscountKind(discount.kind),
            amount_off=_amount(discount.amount_off),
            percent_off=discount.percent_off,
            max_discount=_amount(discount.max_discount),
            min_spend=_amount(discount.min_spend),
        ),
        valid_from=given.valid_from,
        valid_until=given.valid_until,
        total_stock=given.total_stock,
        per_customer_limit=given.per_customer_limit,
        channel=CouponChannel(given.channel),
        product_ids=local_ids(given.product_ids, "Product") or [],
        category_ids=local_ids(given.category_ids, "ProductCategory") or [],
        store_ids=local_ids(given.store_ids, "Store") or [],
    )


def to_changes(given: CouponCampaignUpdateInput) -> campaigns.CampaignChanges:
    return campaigns.CampaignChanges(
        name=given.name,
        active=given.active,
        valid_from=given.valid_from,
        valid_until=given.valid_until,
        total_stock=given.total_stock,
    )
