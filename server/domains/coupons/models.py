"""Livestream coupon campaigns and the coupons customers claim from them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ...clock import utcnow
from ...columns import enum_field, json_field, utc_field


class DiscountKind(StrEnum):
    FIXED = "FIXED"  # amount_off from what it applies to
    PERCENT = "PERCENT"  # percent_off, at most max_discount
    THRESHOLD = "THRESHOLD"  # amount_off once what it applies to reaches min_spend


class RedemptionChannel(StrEnum):
    IN_STORE_ONLY = "IN_STORE_ONLY"
    ONLINE = "ONLINE"
    ANY = "ANY"


class CouponStatus(StrEnum):
    ISSUED = "ISSUED"
    REDEEMED = "REDEEMED"


class CouponCampaign(SQLModel, table=True):
    __tablename__ = "coupon_campaign"
    __table_args__ = (sa.CheckConstraint("claimed >= 0 AND claimed <= total_stock", name="claimed_within_stock"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    livestream_id: int = Field(foreign_key="livestream.id", index=True)
    discount_kind: str = enum_field()
    amount_off: int = Field(default=0, sa_type=sa.BigInteger, description="fen; FIXED and THRESHOLD")
    percent_off: int = Field(default=0, description="1-90; PERCENT")
    max_discount: int = Field(default=0, sa_type=sa.BigInteger, description="fen; PERCENT's cap")
    min_spend: int = Field(default=0, sa_type=sa.BigInteger, description="fen; THRESHOLD's spend")
    currency: str = Field(max_length=3)
    valid_from: datetime = utc_field()
    valid_until: datetime = utc_field()
    total_stock: int
    claimed: int = 0
    per_customer_limit: int = 1
    channel: str = enum_field()
    # Empty lists: every product / every store.
    product_ids: list[int] = json_field()
    category_ids: list[int] = json_field()
    store_ids: list[int] = json_field()
    active: bool = True
    created_by: str = Field(max_length=64)
    created_at: datetime = utc_field(default_factory=utcnow)
    updated_at: datetime = utc_field(default_factory=utcnow)


class CouponClaimCount(SQLModel, table=True):
    """How many coupons of a campaign one customer claimed: the per-customer limit's counter."""

    __tablename__ = "coupon_claim_count"

    campaign_id: int = Field(foreign_key="coupon_campaign.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True, index=True)
    claimed: int = 0


class Coupon(SQLModel, table=True):
    __tablename__ = "coupon"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    campaign_id: int = Field(foreign_key="coupon_campaign.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    status: str = enum_field(default=CouponStatus.ISSUED.value)
    claimed_at: datetime = utc_field(default_factory=utcnow)
    redeemed_at: datetime | None = utc_field(nullable=True, default=None)
    redeemed_order_id: int | None = Field(default=None)
    redeemed_store_id: int | None = Field(default=None, foreign_key="store.id")


class CouponGrant(SQLModel, table=True):
    """A coupon given outside the claim flow (a referral reward): one per reason, however often asked."""

    __tablename__ = "coupon_grant"

    reason_key: str = Field(primary_key=True, max_length=128)
    coupon_id: int = Field(foreign_key="coupon.id", unique=True)
    created_at: datetime = utc_field(default_factory=utcnow)
