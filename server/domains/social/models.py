"""Customers' posts about their visits (UGC), their referral codes, and who brought whom."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ...clock import utcnow
from ...columns import enum_field, json_field, utc_field


class Platform(StrEnum):
    XIAOHONGSHU = "XIAOHONGSHU"
    WECHAT_MOMENTS = "WECHAT_MOMENTS"
    DOUYIN = "DOUYIN"
    WEIBO = "WEIBO"
    OTHER = "OTHER"


class PostStatus(StrEnum):
    PENDING = "PENDING"  # waiting for moderation
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    FEATURED = "FEATURED"  # approved, and chosen for a livestream


class UgcPost(SQLModel, table=True):
    __tablename__ = "ugc_post"
    __table_args__ = (
        sa.Index("ix_ugc_post_status_created", "status", "created_at"),
        sa.Index("ix_ugc_post_store_created", "store_id", "created_at"),
        sa.Index("ix_ugc_post_featured", "featured_livestream_id", "featured_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    booking_id: int | None = Field(default=None, foreign_key="booking.id")
    # The visit's store and livestream (from the booking), for performance counts.
    store_id: int | None = Field(default=None, foreign_key="store.id")
    livestream_id: int | None = Field(default=None, foreign_key="livestream.id", index=True)
    platform: str = enum_field()
    url: str = Field(max_length=2000)
    text: str = Field(default="", max_length=1000)
    image_urls: list[str] = json_field()
    status: str = enum_field(default=PostStatus.PENDING.value)
    moderated_by: str | None = Field(default=None, max_length=64)
    moderated_at: datetime | None = utc_field(nullable=True, default=None)
    reject_reason: str | None = Field(default=None, max_length=200)
    featured_livestream_id: int | None = Field(default=None, foreign_key="livestream.id")
    featured_at: datetime | None = utc_field(nullable=True, default=None)
    created_at: datetime = utc_field(default_factory=utcnow)
    updated_at: datetime = utc_field(default_factory=utcnow)


class ReferralCode(SQLModel, table=True):
    """Her code, carried by her share links (one per customer, made on first use)."""

    __tablename__ = "referral_code"

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    code: str = Field(max_length=12, unique=True)
    created_at: datetime = utc_field(default_factory=utcnow)


class Referral(SQLModel, table=True):
    """A new customer arrived through another's share link: at most one referrer each."""

    __tablename__ = "referral"

    referred_id: int = Field(foreign_key="person.id", primary_key=True)
    referrer_id: int = Field(foreign_key="person.id", index=True)
    code: str = Field(max_length=12)
    created_at: datetime = utc_field(default_factory=utcnow)


class ShareInvitation(SQLModel, table=True):
    """She was invited to share after her completed visit (once per booking)."""

    __tablename__ = "share_invitation"

    booking_id: int = Field(foreign_key="booking.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    created_at: datetime = utc_field(default_factory=utcnow)
