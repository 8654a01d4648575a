"""Coupon campaigns: the livestream team sets their discount, validity, stock and where they apply."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from ...outbox import emit
from ...unit_of_work import use_case
from ..catalog.models import Product, ProductCategory
from ..catalog.skus import MAX_PRICE
from ..common.actor import Actor, Role
from ..common.errors import CommonErrorCode as Common
from ..common.idempotency import create_once
from ..common.lookup import rows_by_id
from ..common.validation import Path, Validator, not_found
from ..livestreams.models import Livestream, LivestreamStatus
from ..stores.models import Store
from .errors import CouponErrorCode as Code
from .models import CouponCampaign, DiscountKind, RedemptionChannel
from .topics import campaign_topic

# Scope of idempotency keys, stored with each key's record: renaming it forgets the keys given.
CAMPAIGN_KEY_SCOPE = "couponCampaignCreate"

EDITORS = (Role.HQ_ADMIN, Role.LIVESTREAM_OPS)
MAX_NAME = 64
MAX_PERCENT_OFF = 90
MAX_TOTAL_STOCK = 1_000_000
MAX_PER_CUSTOMER = 10
MAX_PRODUCTS = 100
MAX_CATEGORIES = 50
MAX_STORES = 500
MAX_AMOUNT = MAX_PRICE  # fen: no discount, cap or spend beyond the dearest price a product may have
CLOSED_LIVESTREAMS = (LivestreamStatus.ENDED.value, LivestreamStatus.CANCELLED.value)


@dataclass(frozen=True)
class Amount:
    """An amount of money as given: minor units and a currency (the brand's)."""

    amount: int
    currency: str


@dataclass(frozen=True)
class DiscountDraft:
    """FIXED takes amountOff; PERCENT percentOff and maxDiscount; THRESHOLD minSpend and amountOff."""

    kind: DiscountKind
    amount_off: Amount | None = None
    percent_off: int | None = None
    max_discount: Amount | None = None
    min_spend: Amount | None = None


@dataclass(frozen=True)
class CampaignDraft:
    name: str
    livestream_id: int
    discount: DiscountDraft
    valid_from: datetime
    valid_until: datetime
    total_stock: int
    per_customer_limit: int = 1
    channel: RedemptionChannel = RedemptionChannel.ANY
    product_ids: Sequence[int] = field(default_factory=tuple)  # none: every product (unless categories)
    category_ids: Sequence[int] = field(default_factory=tuple)
    store_ids: Sequence[int] = field(default_factory=tuple)  # none: every store


@dataclass(frozen=True)
class CampaignChanges:
    """What couponCampaignUpdate may change; None leaves it as it is."""

    name: str | None = None
    active: bool | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    total_stock: int | None = None


# Which discount fields each kind takes (the rest must be left out).
_TAKES = {
    DiscountKind.FIXED: ("amount_off",),
    DiscountKind.PERCENT: ("percent_off", "max_discount"),
    DiscountKind.THRESHOLD: ("min_spend", "amount_off"),
}
_NAMES = {
    "amount_off": "amountOff",
    "percent_off": "percentOff",
    "max_discount": "maxDiscount",
    "min_spend": "minSpend",
}


def _check_amount(check: Validator, path: Path, given: Amount, brand_currency: str) -> None:
    check.number_range((*path, "amount"), given.amount, 1, MAX_AMOUNT)
    if given.currency != brand_currency:
        check.add(Code.INVALID_CURRENCY, f"amounts are in {brand_currency}", (*path, "currency"))


def _check_discount(check: Validator, discount: DiscountDraft, brand_currency: str) -> None:
    taken = _TAKES[discount.kind]
    for name, shown in _NAMES.items():
        value = getattr(discount, name)
        path = ("discount", shown)
        if name not in taken:
            if value is not None:
                check.add(Code.INVALID_DISCOUNT, f"a {discount.kind.value} discount takes no {shown}", path)
        elif value is None:
            check.add(Common.REQUIRED, f"a {discount.kind.value} discount needs {shown}", path)
        elif isinstance(value, Amount):
            _check_amount(check, path, value, brand_currency)
        else:
            check.number_range(path, value, 1, MAX_PERCENT_OFF)
    amount_off, min_spend = discount.amount_off, discount.min_spend
    if discount.kind is not DiscountKind.THRESHOLD or amount_off is None or min_spend is None:
        return
    both_fine = check.ok(("discount", "amountOff", "amount")) and check.ok(("discount", "minSpend", "amount"))
    if both_fine and amount_off.amount >= min_spend.amount:
        check.add(Code.INVALID_DISCOUNT, "amountOff must be less than minSpend", ("discount", "amountOff"))


def _check_window(check: Validator, valid_from: datetime, valid_until: datetime) -> None:
    if valid_from.tzinfo is None or valid_until.tzinfo is None:
        check.add(Common.INVALID_VALUE, "validFrom and validUntil need a time zone", ("validUntil",))
    elif valid_until <= valid_from:
        check.add(Code.INVALID_VALIDITY, "validUntil must be after validFrom", ("validUntil",))


async def _check_ids(
    session: AsyncSession, check: Validator, name: str, ids: Sequence[int], model: Any, maximum: int
) -> None:
    """A list of row ids: at most ``maximum``, none twice, each naming a row (problems by index)."""
    check.count((name,), ids, maximum)
    if not check.ok((name,)):
        return
    found = await rows_by_id(session, model, list(ids))
    seen: set[int] = set()
    for index, row_id in enumerate(ids):
        path = (name, str(index))
        if row_id in seen:
            check.add(Common.INVALID_VALUE, f"{name} lists this id twice", path)
        elif row_id not in found:
            check.add(Common.NOT_FOUND, f"{name}[{index}] names nothing", path)
        seen.add(row_id)


def _fingerprint(draft: CampaignDraft) -> dict[str, Any]:
    values = asdict(draft)
    for name in ("product_ids", "category_ids", "store_ids"):
        values[name] = list(values[name])
    return values


def _discount_columns(discount: DiscountDraft) -> dict[str, Any]:
    return {
        "discount_kind": discount.kind.value,
        "amount_off": discount.amount_off.amount if discount.amount_off else 0,
        "percent_off": discount.percent_off or 0,
        "max_discount": discount.max_discount.amount if discount.max_discount else 0,
        "min_spend": discount.min_spend.amount if discount.min_spend else 0,
    }


@use_case
async def create_campaign(
    session: AsyncSession,
    actor: Actor,
    draft: CampaignDraft,
    *,
    brand_currency: str,
    now: datetime,
    idempotency_key: str | None = None,
) -> CouponCampaign:
    """A new campaign of a livestream (HQ_ADMIN, LIVESTREAM_OPS); every input is checked before anything
    is written, and a retry with the same key returns the first campaign."""
    actor.require_role(*EDITORS)
    check = Validator()
    name = check.text(("name",), draft.name, max_length=MAX_NAME)
    _check_discount(check, draft.discount, brand_currency)
    _check_window(check, draft.valid_from, draft.valid_until)
    if check.ok(("validUntil",)) and draft.valid_until <= now:
        check.add(Code.INVALID_VALIDITY, "validUntil has passed", ("validUntil",))
    check.number_range(("totalStock",), draft.total_stock, 1, MAX_TOTAL_STOCK)
    check.number_range(("perCustomerLimit",), draft.per_customer_limit, 1, MAX_PER_CUSTOMER)
    livestream = await session.get(Livestream, draft.livestream_id)
    if livestream is None:
        check.add(Common.NOT_FOUND, "livestream not found", ("livestreamId",))
    elif livestream.status in CLOSED_LIVESTREAMS:
        check.add(Code.LIVESTREAM_ENDED, f"the livestream is {livestream.status}", ("livestreamId",))
    await _check_ids(session, check, "productIds", draft.product_ids, Product, MAX_PRODUCTS)
    await _check_ids(session, check, "categoryIds", draft.category_ids, ProductCategory, MAX_CATEGORIES)
    await _check_ids(session, check, "storeIds", draft.store_ids, Store, MAX_STORES)
    check.raise_if_any()

    async def create() -> CouponCampaign:
        campaign = CouponCampaign(
            name=name,
            livestream_id=draft.livestream_id,
            **_discount_columns(draft.discount),
            currency=brand_currency,
            valid_from=draft.valid_from,
            valid_until=draft.valid_until,
            total_stock=draft.total_stock,
            per_customer_limit=draft.per_customer_limit,
            channel=draft.channel.value,
            product_ids=list(draft.product_ids),
            category_ids=list(draft.category_ids),
            store_ids=list(draft.store_ids),
            created_by=actor.key,
            created_at=now,
            updated_at=now,
        )
        session.add(campaign)
        await session.flush()
        return campaign

    return await create_once(
        session,
        actor=actor.key,
        scope=CAMPAIGN_KEY_SCOPE,
        key=idempotency_key,
        payload=_fingerprint(draft),
        create=create,
        model=CouponCampaign,
    )


@use_case
async def update_campaign(
    session: AsyncSession, actor: Actor, campaign_id: int, changes: CampaignChanges, now: datetime
) -> CouponCampaign:
    """Switch a campaign on or off, move its validity, change its stock (never below what was claimed).

    The row is locked first: claims racing the change wait, so the stock is checked against what they
    took (and the table's CHECK constraint backs that up).
    """
    actor.require_role(*EDITORS)
    campaign = await session.get(CouponCampaign, campaign_id, with_for_update=True)
    if campaign is None:
        raise not_found("campaign", ("id",))
    check = Validator()
    name = check.text(("name",), changes.name, max_length=MAX_NAME, required=False)
    _check_window(check, changes.valid_from or campaign.valid_from, changes.valid_until or campaign.valid_until)
    if changes.total_stock is not None:
        check.number_range(("totalStock",), changes.total_stock, 1, MAX_TOTAL_STOCK)
        if check.ok(("totalStock",)) and changes.total_stock < campaign.claimed:
            check.add(
                Code.STOCK_BELOW_CLAIMED,
                f"{campaign.claimed} coupons were claimed already: the stock cannot be less",
                ("totalStock",),
            )
    check.raise_if_any()
    if name is not None:
        campaign.name = name
    for attribute in ("active", "valid_from", "valid_until", "total_stock"):
        value = getattr(changes, attribute)
        if value is not None:
            setattr(campaign, attribute, value)
    campaign.updated_at = now
    await session.flush()
    emit(
        session,
        campaign_topic(campaign_id),
        "UPDATED",
        {"campaignId": campaign_id, "active": campaign.active, "remaining": campaign.total_stock - campaign.claimed},
        now,
    )
    return campaign


async def campaigns_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, CouponCampaign]:
    return await rows_by_id(session, CouponCampaign, ids)


def campaign_listing(livestream_id: int | None = None) -> SelectOfScalar[CouponCampaign]:
    """Every campaign (staff), or one livestream's."""
    statement = select(CouponCampaign)
    if livestream_id is not None:
        statement = statement.where(CouponCampaign.livestream_id == livestream_id)
    return statement


def claimable_listing(livestream_id: int, now: datetime) -> SelectOfScalar[CouponCampaign]:
    """A livestream's campaigns a customer may see: switched on and not over (sold out ones included)."""
    return campaign_listing(livestream_id).where(
        col(CouponCampaign.active).is_(True), col(CouponCampaign.valid_until) > now
    )


def visible_to(actor: Actor, campaign: CouponCampaign, now: datetime) -> bool:
    """Staff see every campaign; customers those switched on and not over."""
    return actor.is_staff or (campaign.active and campaign.valid_until > now)
