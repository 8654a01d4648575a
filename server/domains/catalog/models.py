"""Product categories, products and the in-store services a brand offers."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ...clock import utcnow
from ...columns import json_field, utc_field


class ProductCategory(SQLModel, table=True):
    __tablename__ = "product_category"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=64)
    created_at: datetime = utc_field(default_factory=utcnow)


class Service(SQLModel, table=True):
    """Something a store offers by appointment: a makeup trial, a skin analysis."""

    __tablename__ = "service"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=64)
    duration_minutes: int = 30
    active: bool = True
    created_at: datetime = utc_field(default_factory=utcnow)


class Product(SQLModel, table=True):
    __tablename__ = "product"

    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=100)
    description: str = Field(default="", max_length=2000)
    category_id: int = Field(foreign_key="product_category.id", index=True)
    price_amount: int = Field(sa_type=sa.BigInteger, description="minor units (fen); 64-bit")
    currency: str = Field(max_length=3)
    active: bool = True
    # Picture URLs, the first is the main one.
    images: list[str] = json_field()
    created_at: datetime = utc_field(default_factory=utcnow)
    updated_at: datetime = utc_field(default_factory=utcnow)


class ProductSku(SQLModel, table=True):
    """One sellable variant of a product (a shade, a size): what stock is counted and sold by."""

    __tablename__ = "product_sku"

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", index=True)
    code: str = Field(max_length=32, unique=True)
    # EAN-13 digits; a UPC-A code is stored with its leading 0, as EAN-13 spells it.
    barcode: str | None = Field(default=None, max_length=13, unique=True)
    attributes: dict[str, str] = json_field(default_factory=dict)
    price_amount: int = Field(sa_type=sa.BigInteger, description="minor units (fen); 64-bit")
    currency: str = Field(max_length=3)
    active: bool = True
    created_at: datetime = utc_field(default_factory=utcnow)
    updated_at: datetime = utc_field(default_factory=utcnow)
