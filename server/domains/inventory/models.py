"""Stock: locations (stores and warehouses), levels per SKU and location, and the movements behind them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ...clock import utcnow
from ...columns import enum_field, utc_field


class LocationKind(StrEnum):
    STORE = "STORE"
    WAREHOUSE = "WAREHOUSE"


class MovementReason(StrEnum):
    """Why on-hand stock changed. Managers record the first five; orders the last two."""

    RECEIPT = "RECEIPT"
    COUNT = "COUNT"
    DAMAGE = "DAMAGE"
    TRANSFER_OUT = "TRANSFER_OUT"
    TRANSFER_IN = "TRANSFER_IN"
    SALE = "SALE"
    RETURN = "RETURN"


class StockLocation(SQLModel, table=True):
    """Where stock is kept: a store's back room (one per store) or a warehouse."""

    __tablename__ = "stock_location"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=100)
    kind: str = enum_field()
    store_id: int | None = Field(default=None, foreign_key="store.id", unique=True)
    city: str = Field(default="", max_length=50)
    latitude: float | None = Field(default=None, description="WGS-84; a store's location is the store's")
    longitude: float | None = Field(default=None, description="WGS-84")
    active: bool = True
    created_at: datetime = utc_field(default_factory=utcnow)


class StockLevel(SQLModel, table=True):
    """On hand and reserved units of one SKU at one location; available = on hand - reserved.

    Every change is one conditional UPDATE, and the CHECK constraints make a
    negative or over-reserved level impossible whatever the code does.
    """

    __tablename__ = "stock_level"
    __table_args__ = (
        sa.CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        sa.CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="reserved_within_on_hand"),
        sa.Index("ix_stock_level_sku_location", "sku_id", "location_id"),
    )

    location_id: int = Field(foreign_key="stock_location.id", primary_key=True)
    sku_id: int = Field(foreign_key="product_sku.id", primary_key=True)
    on_hand: int = 0
    reserved: int = 0
    updated_at: datetime = utc_field(default_factory=utcnow)


class StockMovement(SQLModel, table=True):
    """Append-only: the signed change of on-hand stock; per SKU and location they sum to on hand."""

    __tablename__ = "stock_movement"
    __table_args__ = (sa.Index("ix_stock_movement_location_sku", "location_id", "sku_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    location_id: int = Field(foreign_key="stock_location.id")
    sku_id: int = Field(foreign_key="product_sku.id", index=True)
    quantity: int = Field(description="units added to on hand (negative: taken away)")
    reason: str = enum_field()
    note: str = Field(default="", max_length=200)
    reference: str = Field(default="", max_length=64, description="e.g. order:12, transfer:3")
    actor: str = Field(max_length=64)
    created_at: datetime = utc_field(default_factory=utcnow)
