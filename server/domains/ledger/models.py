"""Attribution frozen on each paid order, HQ's commission plans, the append-only ledger and its periods."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ...clock import utcnow
from ...columns import enum_field, json_field, utc_field


class PlanScope(StrEnum):
    """What a plan covers, most specific first: a line takes the first scope that has a plan in force."""

    CATEGORY = "CATEGORY"  # lines of one product category
    COUPON_CAMPAIGN = "COUPON_CAMPAIGN"  # orders that used one campaign's coupon
    LIVESTREAM = "LIVESTREAM"  # sales attributed to one livestream (or to any, without scope_id)
    DEFAULT = "DEFAULT"  # everything else


class Participant(StrEnum):
    """Who a plan shares a sale with; each names one beneficiary of the sale (or none, see splits)."""

    GUIDE = "GUIDE"  # the guide who served her
    LIVESTREAM_TEAM = "LIVESTREAM_TEAM"  # the team of the livestream the sale is attributed to
    STORE = "STORE"  # the store's pool
    REFERRER = "REFERRER"  # the customer whose share link brought her


class EntryKind(StrEnum):
    ACCRUAL = "ACCRUAL"  # a paid line credited
    REVERSAL = "REVERSAL"  # a refund taking back what the refunded units earned
    ADJUSTMENT = "ADJUSTMENT"  # a correction HQ posts by hand


class AttributionRule(SQLModel, table=True):
    """The brand's attribution model; the newest row is in force (each order freezes the one it used)."""

    __tablename__ = "attribution_rule"

    id: int | None = Field(default=None, primary_key=True)
    model: str = Field(max_length=32, default="LAST_TOUCH_LIVESTREAM")
    window_days: int = 7
    created_by: str = Field(max_length=64)
    created_at: datetime = utc_field(default_factory=utcnow)


class CommissionPlan(SQLModel, table=True):
    __tablename__ = "commission_plan"
    __table_args__ = (sa.Index("ix_commission_plan_scope", "scope", "scope_id", "effective_from"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    scope: str = enum_field()
    scope_id: int | None = Field(default=None, description="the category, campaign or livestream; null: any")
    effective_from: datetime = utc_field()
    effective_to: datetime | None = utc_field(nullable=True, default=None)
    # [{"participant": "GUIDE", "basisPoints": 7000}, …] summing to 10,000.
    shares: list[dict[str, Any]] = json_field()
    # Commission on credited revenue: the default rate, and rates by product category id.
    rate_basis_points: int = 0
    category_rates: dict[str, int] = json_field(default_factory=dict)
    referrer_reward_campaign_id: int | None = Field(default=None, foreign_key="coupon_campaign.id")
    created_by: str = Field(max_length=64)
    created_at: datetime = utc_field(default_factory=utcnow)
    updated_at: datetime = utc_field(default_factory=utcnow)


class OrderAttribution(SQLModel, table=True):
    """Who gets credit for one paid order, and under which rule and plans: frozen when it is credited."""

    __tablename__ = "order_attribution"

    order_id: int = Field(foreign_key="sales_order.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    store_id: int = Field(foreign_key="store.id", index=True)
    guide_id: int | None = Field(default=None, foreign_key="staff_user.id", index=True)
    booking_id: int | None = Field(default=None, foreign_key="booking.id")
    livestream_id: int | None = Field(default=None, foreign_key="livestream.id", index=True)
    team_id: int | None = Field(default=None, foreign_key="team.id")
    referrer_id: int | None = Field(default=None, foreign_key="person.id")
    # {"touches": [{livestreamId, type, at}], "anchor": …, "rule": {model, windowDays}, "plans": {lineId: plan}}
    journey: dict[str, Any] = json_field()
    total: int = Field(sa_type=sa.BigInteger)
    paid_at: datetime = utc_field(index=True)
    created_at: datetime = utc_field(default_factory=utcnow)


class LedgerEntry(SQLModel, table=True):
    """One beneficiary's credit (or its reversal) for one order line. Never updated, never deleted."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        # A second guard behind the consumer's receipts: one event posts each part once.
        sa.UniqueConstraint("event_key", "line_id", "beneficiary_kind", "beneficiary_id", name="uq_ledger_entry_part"),
        sa.Index("ix_ledger_entry_period_beneficiary", "period", "beneficiary_kind", "beneficiary_id"),
        sa.Index("ix_ledger_entry_beneficiary_time", "beneficiary_kind", "beneficiary_id", "occurred_at"),
        sa.Index("ix_ledger_entry_order", "order_id"),
        sa.Index("ix_ledger_entry_livestream", "livestream_id"),
        sa.Index("ix_ledger_entry_store_period", "store_id", "period"),
    )

    id: int | None = Field(default=None, primary_key=True)
    beneficiary_kind: str = enum_field()
    beneficiary_id: int
    order_id: int = Field(foreign_key="sales_order.id")
    line_id: int | None = Field(default=None, foreign_key="order_line.id")
    kind: str = enum_field()
    revenue: int = Field(sa_type=sa.BigInteger, description="credited revenue, fen; negative on a reversal")
    commission: int = Field(sa_type=sa.BigInteger, description="fen; negative on a reversal")
    period: str = Field(max_length=7, description="YYYY-MM, the open period it was posted in")
    event_key: str = Field(max_length=64, description="paid:<order> | refund:<refund> | adjust:<key>")
    store_id: int
    livestream_id: int | None = None
    plan_id: int | None = None
    note: str | None = Field(default=None, max_length=200)
    occurred_at: datetime = utc_field()
    created_at: datetime = utc_field(default_factory=utcnow)


class LedgerPeriod(SQLModel, table=True):
    """A month of the ledger; a month without a row is open."""

    __tablename__ = "ledger_period"

    period: str = Field(primary_key=True, max_length=7)
    closed: bool = False
    closed_at: datetime | None = utc_field(nullable=True, default=None)
    closed_by: str | None = Field(default=None, max_length=64)


class LedgerStanding(SQLModel, table=True):
    """Running sums of the ledger per board, window and store, kept in the transaction of each entry
    (standings.record): a leaderboard reads about one row per ranked subject, never the entries.

    Its period is a ledger period (``YYYY-MM``, where an entry was posted) or a day in the brand's zone
    (``YYYY-MM-DD``, when it happened). Orders counts the orders accrued (an order accrues once).
    """

    __tablename__ = "ledger_standing"

    period: str = Field(primary_key=True, max_length=10)
    board: str = Field(primary_key=True, max_length=16, description="GUIDE | TEAM | STORE | LIVESTREAM")
    subject_id: int = Field(primary_key=True, description="the guide, team, store or livestream")
    store_id: int = Field(primary_key=True, description="the store of the sales summed")
    revenue: int = Field(default=0, sa_type=sa.BigInteger)
    commission: int = Field(default=0, sa_type=sa.BigInteger)
    orders: int = 0
