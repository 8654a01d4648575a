"""GraphQL types of coupons."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

import strawberry
from strawberry import relay

from ....api.enums import described_enum
from ....api.errors import UserError, user_error_type
from ....api.nodes import load_nodes
from ....api.scalars import Money, MoneyAmount
from ...catalog.graphql.types import Product, ProductCategory
from ...catalog.services import categories_by_ids, products_by_ids
from ...common.actor import Actor, ActorKind
from ...common.rows import saved_id
from ...livestreams.graphql.types import Livestream
from ...livestreams.services import livestreams_by_ids
from ...stores.graphql.types import Store
from ...stores.services import stores_by_ids
from .. import campaigns, claims, qr
from ..errors import CouponErrorCode
from ..models import Coupon as CouponRow
from ..models import CouponCampaign as CampaignRow
from ..models import CouponStatus as CouponStatusValue
from ..models import DiscountKind as DiscountKindValue
from ..models import RedemptionChannel as ChannelValue

if TYPE_CHECKING:  # user_error_type builds the class at run time: mypy knows it by its interface
    CouponUserError = UserError
else:
    CouponUserError = user_error_type(
        "Coupon",
        CouponErrorCode,
        {
            CouponErrorCode.INVALID_CURRENCY: "An amount not in the brand's currency (CNY unless configured).",
            CouponErrorCode.INVALID_DISCOUNT: "The discount's values do not fit its kind: a value another kind "
            "takes, or a THRESHOLD's amountOff not below its minSpend.",
            CouponErrorCode.INVALID_VALIDITY: "validUntil is not after validFrom, or (for a new campaign) has passed.",
            CouponErrorCode.LIVESTREAM_ENDED: "The livestream has ENDED or was CANCELLED.",
            CouponErrorCode.STOCK_BELOW_CLAIMED: "totalStock would be less than the coupons claimed already.",
            CouponErrorCode.CAMPAIGN_INACTIVE: "The campaign is switched off.",
            CouponErrorCode.CAMPAIGN_ENDED: "The campaign's validUntil has passed.",
            CouponErrorCode.LIVESTREAM_NOT_LIVE: "Coupons are claimed only while the livestream is LIVE or within "
            "its scheduled window.",
            CouponErrorCode.SOLD_OUT: "Every coupon of the campaign was claimed.",
            CouponErrorCode.CLAIM_LIMIT_REACHED: "She holds as many coupons of the campaign as one customer may.",
            CouponErrorCode.COUPON_NOT_FOUND: "No coupon of hers has this code (or the QR code does not verify "
            "or has expired).",
            CouponErrorCode.COUPON_ALREADY_REDEEMED: "The coupon was redeemed already.",
            CouponErrorCode.COUPON_NOT_VALID_NOW: "The coupon's campaign is switched off, or not valid at this time.",
            CouponErrorCode.COUPON_WRONG_CHANNEL: "The coupon is not redeemed this way (in store only, or online "
            "only).",
            CouponErrorCode.COUPON_WRONG_STORE: "The coupon is not redeemed at this store.",
            CouponErrorCode.COUPON_NOT_APPLICABLE: "Nothing in the cart it applies to, its minimum spend not "
            "reached, or nothing left for it to take off.",
            CouponErrorCode.COUPON_SAME_CAMPAIGN: "Another coupon of the same campaign was given: one per campaign.",
            CouponErrorCode.COUPON_DUPLICATE: "The same coupon was given twice.",
        },
    )

# described_enum documents a domain enum in place (strawberry.enum returns the class): the schema's enums
# are the domain's classes, named here so that annotations read as the schema does.
CouponDiscountKind = DiscountKindValue
described_enum(
    CouponDiscountKind,
    name="CouponDiscountKind",
    description="How a coupon takes money off what it applies to.",
    values={
        CouponDiscountKind.FIXED: "amountOff off.",
        CouponDiscountKind.PERCENT: "percentOff % off, rounded down to the fen, at most maxDiscount.",
        CouponDiscountKind.THRESHOLD: "amountOff off once what it applies to comes to minSpend (满减).",
    },
)
CouponChannel = ChannelValue
described_enum(
    CouponChannel,
    name="CouponChannel",
    description="Where a coupon is redeemed.",
    values={
        CouponChannel.IN_STORE_ONLY: "Only at a store's till.",
        CouponChannel.ONLINE: "Only in online orders.",
        CouponChannel.ANY: "In store and online.",
    },
)
CouponStatus = CouponStatusValue
described_enum(
    CouponStatus,
    name="CouponStatus",
    description="Where a coupon is in its life.",
    values={
        CouponStatus.ISSUED: "Claimed and not redeemed yet.",
        CouponStatus.REDEEMED: "Redeemed by an order (once only).",
    },
)


@strawberry.type(description="What a coupon takes off: the fields of its kind are set, the others null.")
class CouponDiscount:
    kind: CouponDiscountKind = strawberry.field(description="FIXED, PERCENT or THRESHOLD.")
    amount_off: Money | None = strawberry.field(description="FIXED and THRESHOLD: what it takes off.")
    percent_off: int | None = strawberry.field(description="PERCENT: the percentage off, 1 to 90.")
    max_discount: Money | None = strawberry.field(description="PERCENT: the most it takes off.")
    min_spend: Money | None = strawberry.field(
        description="THRESHOLD: what the products it applies to must come to in the cart."
    )

    @classmethod
    def from_row(cls, row: CampaignRow) -> CouponDiscount:
        kind = CouponDiscountKind(row.discount_kind)

        def money(amount: int) -> Money:
            return Money(amount=MoneyAmount(amount), currency=row.currency)

        percent = kind is CouponDiscountKind.PERCENT
        return cls(
            kind=kind,
            amount_off=None if percent else money(row.amount_off),
            percent_off=row.percent_off if percent else None,
            max_discount=money(row.max_discount) if percent else None,
            min_spend=money(row.min_spend) if kind is CouponDiscountKind.THRESHOLD else None,
        )


@strawberry.type(description="A livestream's coupon campaign: what its coupons take off, when, where, how many.")
class CouponCampaign(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Its name, as customers see it (1-64 characters).")
    discount: CouponDiscount = strawberry.field(description="What each coupon takes off.")
    valid_from: datetime = strawberry.field(description="Coupons are redeemed from this instant on (UTC).")
    valid_until: datetime = strawberry.field(
        description="Coupons are redeemed before this instant (UTC); no claims after it either."
    )
    total_stock: int = strawberry.field(description="How many coupons it gives out in all.")
    claimed: int = strawberry.field(description="How many were claimed.")
    remaining: int = strawberry.field(description="How many can still be claimed: totalStock - claimed.")
    per_customer_limit: int = strawberry.field(description="How many one customer may claim, 1 to 10.")
    channel: CouponChannel = strawberry.field(description="Where its coupons are redeemed.")
    active: bool = strawberry.field(description="Switched on: claims and redemptions only while it is.")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")
    updated_at: datetime = strawberry.field(description="When it last changed (UTC).")
    livestream_id: strawberry.Private[int]
    product_ids: strawberry.Private[list[int]]
    category_ids: strawberry.Private[list[int]]
    store_ids: strawberry.Private[list[int]]

    @strawberry.field(description="The livestream it belongs to.")
    async def livestream(self, info: strawberry.Info) -> Livestream:
        row = await info.context.loader(livestreams_by_ids).load(self.livestream_id)
        return Livestream.from_row(row)

    @strawberry.field(
        description="Products its coupons apply to (with categories: a line of either applies); both empty: everything."
    )
    async def products(self, info: strawberry.Info) -> list[Product]:
        rows = await info.context.loader(products_by_ids).load_many(self.product_ids)
        return [Product.from_row(row) for row in rows if row is not None]

    @strawberry.field(description="Product categories its coupons apply to; both these and products empty: everything.")
    async def categories(self, info: strawberry.Info) -> list[ProductCategory]:
        rows = await info.context.loader(categories_by_ids).load_many(self.category_ids)
        return [ProductCategory.from_row(row) for row in rows if row is not None]

    @strawberry.field(description="Stores its coupons are redeemed at; empty: every store.")
    async def stores(self, info: strawberry.Info) -> list[Store]:
        rows = await info.context.loader(stores_by_ids).load_many(self.store_ids)
        return [Store.from_row(row) for row in rows if row is not None]

    @strawberry.field(
        description="Whether a coupon can be claimed now: switched on, not over, stock left, and its livestream "
        "LIVE or within its scheduled window."
    )
    async def claimable(self, info: strawberry.Info) -> bool:
        now = info.context.runtime.clock.now()
        if not self.active or self.valid_until <= now or self.remaining <= 0:
            return False
        livestream = await info.context.loader(livestreams_by_ids).load(self.livestream_id)
        return livestream is not None and claims.is_on_air(livestream, now)

    @classmethod
    def from_row(cls, row: CampaignRow) -> CouponCampaign:
        return cls(
            id=saved_id(row),
            name=row.name,
            discount=CouponDiscount.from_row(row),
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            total_stock=row.total_stock,
            claimed=row.claimed,
            remaining=row.total_stock - row.claimed,
            per_customer_limit=row.per_customer_limit,
            channel=CouponChannel(row.channel),
            active=row.active,
            created_at=row.created_at,
            updated_at=row.updated_at,
            livestream_id=row.livestream_id,
            product_ids=list(row.product_ids),
            category_ids=list(row.category_ids),
            store_ids=list(row.store_ids),
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # relay.Node's signature is untyped; this is its form
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[CouponCampaign | None]:
        now = info.context.runtime.clock.now()

        def visible(actor: Actor, row: CampaignRow) -> bool:
            return campaigns.visible_to(actor, row, now)

        return await load_nodes(info, campaigns.campaigns_by_ids, node_ids, cls.from_row, visible)


@strawberry.type(description="A coupon a customer claimed: hers alone, redeemed once.")
class Coupon(relay.Node):
    id: relay.NodeID[int]
    code: str | None = strawberry.field(
        description="10 characters to type at the till (no 0/O or 1/I); null when your view of her is masked."
    )
    status: CouponStatus = strawberry.field(description="ISSUED or REDEEMED.")
    claimed_at: datetime = strawberry.field(description="When she claimed it (UTC).")
    redeemed_at: datetime | None = strawberry.field(description="When an order redeemed it (UTC); null before.")
    campaign_id: strawberry.Private[int]
    owner_view: strawberry.Private[bool]  # shown to herself: the QR token too

    @strawberry.field(
        description="Her QR code's content: a signed token carrying the code, valid until the campaign's "
        "validUntil; a till may scan it instead of typing the code. Only for her own coupons (else null)."
    )
    async def qr_token(self, info: strawberry.Info) -> str | None:
        if not self.owner_view or self.code is None:
            return None
        campaign = await info.context.loader(campaigns.campaigns_by_ids).load(self.campaign_id)
        return qr.encode(info.context.runtime.tokens, self.code, campaign.valid_until)

    @strawberry.field(description="Whether it can be redeemed now: ISSUED, its campaign on and within validity.")
    async def usable(self, info: strawberry.Info) -> bool:
        if self.status is not CouponStatus.ISSUED:
            return False
        campaign = await info.context.loader(campaigns.campaigns_by_ids).load(self.campaign_id)
        now = info.context.runtime.clock.now()
        return bool(campaign.active and campaign.valid_from <= now < campaign.valid_until)

    @strawberry.field(description="The campaign it came from: what it takes off, where and until when.")
    async def campaign(self, info: strawberry.Info) -> CouponCampaign:
        row = await info.context.loader(campaigns.campaigns_by_ids).load(self.campaign_id)
        return CouponCampaign.from_row(row)

    @classmethod
    def from_row(cls, row: CouponRow, *, owner_view: bool, show_code: bool = True) -> Coupon:
        return cls(
            id=saved_id(row),
            code=row.code if show_code or owner_view else None,
            status=CouponStatus(row.status),
            claimed_at=row.claimed_at,
            redeemed_at=row.redeemed_at,
            campaign_id=row.campaign_id,
            owner_view=owner_view,
        )

    @classmethod
    def of_owner(cls, row: CouponRow) -> Coupon:
        return cls.from_row(row, owner_view=True)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # relay.Node's signature is untyped; this is its form
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Coupon | None]:
        """Her own coupons only: staff see a customer's coupons on her 360° view (Customer.coupons)."""

        def hers(actor: Actor, row: CouponRow) -> bool:
            return actor.kind is ActorKind.CUSTOMER and row.person_id == actor.id

        return await load_nodes(info, claims.coupons_by_ids, node_ids, cls.of_owner, hers)
