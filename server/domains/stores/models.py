"""Stores: where customers visit, with location, local time and opening hours."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ...clock import utcnow
from ...columns import json_field, utc_field


class Store(SQLModel, table=True):
    __tablename__ = "store"
    __table_args__ = (sa.Index("ix_store_lat_lng", "latitude", "longitude"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    name: str = Field(max_length=100)
    city: str = Field(max_length=50, index=True)
    address: str = Field(max_length=200)
    latitude: float = Field(description="WGS-84")
    longitude: float = Field(description="WGS-84")
    timezone: str = Field(max_length=64, description="IANA time zone of the store")
    # [{"weekday": 0..6 (Monday = 0), "opens": "HH:MM", "closes": "HH:MM"}]; a
    # weekday that is not listed is a closed day.
    opening_hours: list[dict[str, Any]] = json_field()
    active: bool = Field(default=True, index=True)
    created_at: datetime = utc_field(default_factory=utcnow)
    updated_at: datetime = utc_field(default_factory=utcnow)


class StoreService(SQLModel, table=True):
    """A service the store offers."""

    __tablename__ = "store_service"

    store_id: int = Field(foreign_key="store.id", primary_key=True, ondelete="CASCADE")
    service_id: int = Field(foreign_key="service.id", primary_key=True, index=True)
