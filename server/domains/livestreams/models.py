"""Livestreams and the products they feature."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from ...clock import utcnow
from ...columns import enum_field, json_field, utc_field


class Channel(StrEnum):
    WECHAT_CHANNELS = "WECHAT_CHANNELS"
    MINI_PROGRAM = "MINI_PROGRAM"
    DOUYIN = "DOUYIN"
    OTHER = "OTHER"


class LivestreamStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    LIVE = "LIVE"
    ENDED = "ENDED"
    CANCELLED = "CANCELLED"


class Livestream(SQLModel, table=True):
    __tablename__ = "livestream"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=100)
    host_name: str = Field(max_length=64)
    team_id: int = Field(foreign_key="team.id", index=True)
    channel: str = enum_field()
    status: str = enum_field(index=True, default=LivestreamStatus.SCHEDULED.value)
    scheduled_start: datetime = utc_field(index=True)
    scheduled_end: datetime = utc_field()
    actual_start: datetime | None = utc_field(nullable=True, default=None)
    actual_end: datetime | None = utc_field(nullable=True, default=None)
    # What guides should say about the featured products, in order.
    talking_points: list[str] = json_field()
    created_at: datetime = utc_field(default_factory=utcnow)
    updated_at: datetime = utc_field(default_factory=utcnow)


class LivestreamProduct(SQLModel, table=True):
    __tablename__ = "livestream_product"

    livestream_id: int = Field(foreign_key="livestream.id", primary_key=True, ondelete="CASCADE")
    product_id: int = Field(foreign_key="product.id", primary_key=True, index=True)
    position: int = 0
