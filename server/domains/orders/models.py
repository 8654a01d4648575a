"""Orders: what a customer buys at a store or online, its lines, and the coupons it uses."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ...clock import utcnow
from ...columns import enum_field, json_field, utc_field


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "PENDING_PAYMENT"
    PAID = "PAID"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


class OrderChannel(StrEnum):
    IN_STORE = "IN_STORE"  # a guide sells at her store
    ONLINE = "ONLINE"  # the customer orders in the mini-program


class Fulfillment(StrEnum):
    TAKE_NOW = "TAKE_NOW"
    SHIP_TO_HOME = "SHIP_TO_HOME"
    PICKUP_IN_STORE = "PICKUP_IN_STORE"


class LineStatus(StrEnum):
    RESERVED = "RESERVED"  # unpaid: its units are held at the source
    RELEASED = "RELEASED"  # cancelled, expired or removed: the units went back
    COMPLETED = "COMPLETED"  # taken away at payment
    TO_PREPARE = "TO_PREPARE"  # paid, to be picked up
    READY_FOR_PICKUP = "READY_FOR_PICKUP"
    PICKED_UP = "PICKED_UP"
    TO_SHIP = "TO_SHIP"  # paid, to be shipped
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"


class SalesOrder(SQLModel, table=True):
    __tablename__ = "sales_order"
    __table_args__ = (
        sa.Index("ix_sales_order_unpaid_expiry", "status", "expires_at"),
        sa.Index("ix_sales_order_store_created", "store_id", "created_at"),
        sa.CheckConstraint("refunded_amount >= 0 AND refunded_amount <= total", name="refund_within_total"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    store_id: int = Field(foreign_key="store.id")
    booking_id: int | None = Field(default=None, foreign_key="booking.id", index=True)
    channel: str = enum_field()
    status: str = enum_field(default=OrderStatus.PENDING_PAYMENT.value)
    currency: str = Field(max_length=3)
    subtotal: int = Field(sa_type=sa.BigInteger)
    discount: int = Field(default=0, sa_type=sa.BigInteger)
    total: int = Field(sa_type=sa.BigInteger)
    refunded_amount: int = Field(default=0, sa_type=sa.BigInteger)
    # {province, city, district, detail, recipient, mobile (E.164)} when a line ships; else null.
    shipping_address: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON, nullable=True)
    pickup_code: str | None = Field(default=None, max_length=6)
    guide_id: int | None = Field(default=None, foreign_key="staff_user.id", index=True)
    created_by: str = Field(max_length=64)
    expires_at: datetime = utc_field()
    paid_at: datetime | None = utc_field(nullable=True, default=None)
    closed_at: datetime | None = utc_field(nullable=True, default=None)
    created_at: datetime = utc_field(default_factory=utcnow)
    updated_at: datetime = utc_field(default_factory=utcnow, index=True)


class OrderLine(SQLModel, table=True):
    __tablename__ = "order_line"
    __table_args__ = (
        sa.CheckConstraint("quantity BETWEEN 1 AND 99", name="quantity_in_range"),
        sa.CheckConstraint("refunded_quantity >= 0 AND refunded_quantity <= quantity", name="refund_within_quantity"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="sales_order.id", index=True)
    sku_id: int = Field(foreign_key="product_sku.id")
    product_id: int = Field(foreign_key="product.id")
    name: str = Field(max_length=200, description="product name and SKU attributes when ordered")
    quantity: int
    unit_price: int = Field(sa_type=sa.BigInteger)
    subtotal: int = Field(sa_type=sa.BigInteger)
    discount: int = Field(default=0, sa_type=sa.BigInteger)
    total: int = Field(sa_type=sa.BigInteger)
    fulfillment: str = enum_field()
    source_location_id: int = Field(foreign_key="stock_location.id")
    status: str = enum_field(default=LineStatus.RESERVED.value)
    refunded_quantity: int = 0
    refunded_amount: int = Field(default=0, sa_type=sa.BigInteger)
    carrier: str | None = Field(default=None, max_length=32)
    tracking_number: str | None = Field(default=None, max_length=40)
    fulfilled_at: datetime | None = utc_field(nullable=True, default=None)
    created_at: datetime = utc_field(default_factory=utcnow)


class OrderCoupon(SQLModel, table=True):
    """A coupon an order uses (at most one per campaign), and how its discount fell on the lines."""

    __tablename__ = "order_coupon"
    __table_args__ = (sa.UniqueConstraint("order_id", "campaign_id"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="sales_order.id", index=True)
    coupon_id: int = Field(foreign_key="coupon.id", index=True)
    campaign_id: int = Field(foreign_key="coupon_campaign.id")
    code: str = Field(max_length=16)
    discount: int = Field(sa_type=sa.BigInteger)
    # {line id: fen}: summing exactly to discount.
    line_discounts: dict[str, int] = json_field(default_factory=dict)
