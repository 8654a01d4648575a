"""Commission plans: HQ says who shares a sale and at what commission rate, per scope and time.

Shares are basis points (7,000 = 70 %) summing to 10,000; rates are basis points of credited revenue
(0-10,000). Two plans of one scope (and scope id) may not be in force at the same moment. A plan in
force at a payment is frozen on that order, so ending a plan or adding another never re-prices history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ...outbox import emit
from ...unit_of_work import use_case
from ..catalog.models import ProductCategory
from ..common.actor import Actor, Role
from ..common.errors import CommonErrorCode as Common
from ..common.idempotency import create_once
from ..common.validation import Path, Validator, is_row_id, not_found
from ..coupons.models import CouponCampaign
from ..livestreams.models import Livestream
from . import cache
from .errors import LedgerErrorCode as Code
from .models import CommissionPlan, Participant, PlanScope
from .splits import BASIS_POINTS
from .topics import PLANS_TOPIC

PLAN_KEY_SCOPE = "commissionPlanCreate"
MAX_NAME = 64
MAX_CATEGORY_RATES = 100
# PostgreSQL: plan writes take this transaction-scoped lock, so two overlapping plans cannot both pass
# the overlap check (SQLite has one writer at a time anyway).
PLAN_LOCK = 0x1C0DE
SCOPE_TARGET: dict[PlanScope, Any] = {
    PlanScope.CATEGORY: ProductCategory,
    PlanScope.COUPON_CAMPAIGN: CouponCampaign,
    PlanScope.LIVESTREAM: Livestream,
}


@dataclass(frozen=True)
class PlanDraft:
    name: str
    scope: PlanScope
    effective_from: datetime
    shares: Mapping[Participant, int]
    scope_id: int | None = None
    effective_to: datetime | None = None
    rate_basis_points: int = 0
    category_rates: Mapping[int, int] = field(default_factory=dict)
    referrer_reward_campaign_id: int | None = None


@dataclass(frozen=True)
class FrozenPlan:
    """What an order keeps of the plan that applied to one of its lines."""

    plan_id: int | None
    shares: dict[Participant, int]
    rate_basis_points: int
    reward_campaign_id: int | None = None  # a coupon of it for the referrer of a referred sale

    def as_json(self) -> dict[str, Any]:
        return {
            "planId": self.plan_id,
            "shares": {p.value: points for p, points in self.shares.items()},
            "rateBasisPoints": self.rate_basis_points,
            "rewardCampaignId": self.reward_campaign_id,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> FrozenPlan:
        shares = {Participant(p): points for p, points in value["shares"].items()}
        return cls(value["planId"], shares, value["rateBasisPoints"], value.get("rewardCampaignId"))


# No plan in force at all: the guide who served her is credited the whole sale, without commission.
FALLBACK = FrozenPlan(None, {Participant.GUIDE: BASIS_POINTS}, 0)


def shares_from_json(rows: Sequence[dict[str, Any]]) -> dict[Participant, int]:
    return {Participant(row["participant"]): int(row["basisPoints"]) for row in rows}


def _check_shares(check: Validator, shares: Mapping[Participant, int], listed: int) -> None:
    if listed != len(shares):
        check.add(Code.DUPLICATE_PARTICIPANT, "each participant once", ("shares",))
    for participant, points in shares.items():
        check.number_range(("shares", participant.value), points, 1, BASIS_POINTS)
    if check.ok(("shares",)) and sum(shares.values()) != BASIS_POINTS:
        total = sum(shares.values())
        check.add(Code.SHARES_NOT_100, f"shares total {total / 100:g} %, not 100 %", ("shares",))


def _check_rate(check: Validator, path: Path, points: int) -> None:
    if not 0 <= points <= BASIS_POINTS:
        check.add(Code.RATE_OUT_OF_RANGE, "a rate is 0 to 10,000 basis points (0-100 %)", path)


async def _check_rates(session: AsyncSession, check: Validator, draft: PlanDraft) -> None:
    _check_rate(check, ("rateBasisPoints",), draft.rate_basis_points)
    check.count(("categoryRates",), list(draft.category_rates), MAX_CATEGORY_RATES)
    for category_id, points in draft.category_rates.items():
        path = ("categoryRates", str(category_id))
        _check_rate(check, path, points)
        if not is_row_id(category_id) or await session.get(ProductCategory, category_id) is None:
            check.add(Common.NOT_FOUND, "no such product category", path)


async def _check_scope(session: AsyncSession, check: Validator, draft: PlanDraft) -> None:
    target = SCOPE_TARGET.get(draft.scope)
    if draft.scope_id is None:
        if draft.scope in (PlanScope.CATEGORY, PlanScope.COUPON_CAMPAIGN):
            check.add(Code.SCOPE_ID_REQUIRED, f"a {draft.scope.value} plan names its {draft.scope.value}", ("scopeId",))
    elif target is None:
        check.add(Code.SCOPE_ID_NOT_ALLOWED, "a DEFAULT plan covers everything: no scopeId", ("scopeId",))
    elif not is_row_id(draft.scope_id) or await session.get(target, draft.scope_id) is None:
        check.add(Common.NOT_FOUND, f"no such {draft.scope.value.lower()}", ("scopeId",))


def _check_window(check: Validator, draft: PlanDraft, now: datetime) -> None:
    if draft.effective_from.tzinfo is None or (draft.effective_to and draft.effective_to.tzinfo is None):
        check.add(Common.INVALID_VALUE, "effectiveFrom and effectiveTo need a time zone", ("effectiveFrom",))
    elif draft.effective_to is not None and draft.effective_to <= draft.effective_from:
        check.add(Code.INVALID_PERIOD, "effectiveTo must be after effectiveFrom", ("effectiveTo",))
    elif draft.effective_from < now:
        check.add(Code.INVALID_PERIOD, "a plan starts now or later: history is never re-priced", ("effectiveFrom",))


async def _lock_plans(session: AsyncSession) -> None:
    if session.get_bind().dialect.name == "postgresql":
        await session.exec(sa.select(sa.func.pg_advisory_xact_lock(PLAN_LOCK)))  # type: ignore[call-overload]


def _overlapping(
    scope: PlanScope, scope_id: int | None, start: datetime, end: datetime | None, skip: int | None
) -> Any:
    statement = select(CommissionPlan.id).where(
        col(CommissionPlan.scope) == scope.value,
        col(CommissionPlan.scope_id).is_(None) if scope_id is None else col(CommissionPlan.scope_id) == scope_id,
        sa.or_(col(CommissionPlan.effective_to).is_(None), col(CommissionPlan.effective_to) > start),
    )
    if end is not None:
        statement = statement.where(col(CommissionPlan.effective_from) < end)
    if skip is not None:
        statement = statement.where(col(CommissionPlan.id) != skip)
    return statement.limit(1)


async def _check_overlap(session: AsyncSession, check: Validator, draft: PlanDraft) -> None:
    if not check.ok(("effectiveFrom",)) or not check.ok(("effectiveTo",)) or not check.ok(("scopeId",)):
        return
    statement = _overlapping(draft.scope, draft.scope_id, draft.effective_from, draft.effective_to, None)
    clash = (await session.exec(statement)).first()
    if clash is not None:
        check.add(Code.PLAN_OVERLAP, f"plan {clash} of this scope is in force then", ("effectiveFrom",))


@use_case
async def create_plan(
    session: AsyncSession,
    actor: Actor,
    draft: PlanDraft,
    listed_shares: int,
    now: datetime,
    idempotency_key: str | None = None,
) -> CommissionPlan:
    """A new plan (HQ_ADMIN); ``listed_shares`` is how many shares were given (to catch duplicates)."""
    actor.require_role(Role.HQ_ADMIN)

    async def create() -> CommissionPlan:
        await _lock_plans(session)
        check = Validator()
        name = check.text(("name",), draft.name, max_length=MAX_NAME)
        _check_shares(check, draft.shares, listed_shares)
        await _check_rates(session, check, draft)
        await _check_scope(session, check, draft)
        _check_window(check, draft, now)
        await _check_reward(session, check, draft.referrer_reward_campaign_id)
        await _check_overlap(session, check, draft)
        check.raise_if_any()
        plan = _new_plan(draft, name, actor, now)
        session.add(plan)
        await session.flush()
        emit(session, PLANS_TOPIC, "CREATED", {"planId": plan.id}, now)
        return plan

    fingerprint = {**draft.__dict__, "shares": {p.value: v for p, v in draft.shares.items()}}
    fingerprint["category_rates"] = {str(k): v for k, v in draft.category_rates.items()}
    return await create_once(
        session,
        actor=actor.key,
        scope=PLAN_KEY_SCOPE,
        key=idempotency_key,
        payload=fingerprint,
        create=create,
        model=CommissionPlan,
    )


async def _check_reward(session: AsyncSession, check: Validator, campaign_id: int | None) -> None:
    if campaign_id is not None and (
        not is_row_id(campaign_id) or await session.get(CouponCampaign, campaign_id) is None
    ):
        check.add(Common.NOT_FOUND, "no such coupon campaign", ("referrerRewardCampaignId",))


def _new_plan(draft: PlanDraft, name: str, actor: Actor, now: datetime) -> CommissionPlan:
    return CommissionPlan(
        name=name,
        scope=draft.scope.value,
        scope_id=draft.scope_id,
        effective_from=draft.effective_from,
        effective_to=draft.effective_to,
        shares=[{"participant": p.value, "basisPoints": v} for p, v in draft.shares.items()],
        rate_basis_points=draft.rate_basis_points,
        category_rates={str(k): v for k, v in draft.category_rates.items()},
        referrer_reward_campaign_id=draft.referrer_reward_campaign_id,
        created_by=actor.key,
        created_at=now,
        updated_at=now,
    )


@use_case
async def end_plan(
    session: AsyncSession, actor: Actor, plan_id: int, effective_to: datetime, now: datetime
) -> CommissionPlan:
    """End a plan at ``effective_to`` (now or later: what it already priced stays as it was)."""
    actor.require_role(Role.HQ_ADMIN)
    await _lock_plans(session)
    plan = await session.get(CommissionPlan, plan_id) if is_row_id(plan_id) else None
    if plan is None:
        raise not_found("commission plan", ("planId",))
    check = Validator()
    if effective_to.tzinfo is None:
        check.add(Common.INVALID_VALUE, "effectiveTo needs a time zone", ("effectiveTo",))
    elif effective_to < now or effective_to <= plan.effective_from:
        check.add(Code.INVALID_PERIOD, "effectiveTo is now or later, and after effectiveFrom", ("effectiveTo",))
    elif plan.effective_to is not None and plan.effective_to <= now:
        check.add(Code.PLAN_STARTED, "the plan has ended already", ("planId",))
    check.raise_if_any()
    plan.effective_to, plan.updated_at = effective_to, now
    emit(session, PLANS_TOPIC, "ENDED", {"planId": plan.id}, now)
    return plan


async def plans_in_force(session: AsyncSession, at: datetime) -> list[CommissionPlan]:
    """Every plan in force at ``at`` (a handful: one per scope and scope id), from the plans read once
    per batch (there are few: a handful per scope over the years)."""

    async def every_plan() -> list[CommissionPlan]:
        return list((await session.exec(select(CommissionPlan))).all())

    plans = await cache.once(session, "plans", every_plan)
    return [p for p in plans if p.effective_from <= at and (p.effective_to is None or p.effective_to > at)]


def plan_for_line(
    plans: Sequence[CommissionPlan],
    category_id: int | None,
    campaign_ids: Sequence[int],
    livestream_id: int | None,
) -> FrozenPlan:
    """The most specific plan for a line: its category's, a campaign's the order used (the lowest id),
    its livestream's, any livestream's (when the sale is attributed to one), the default; else FALLBACK."""
    by_scope = {(PlanScope(p.scope), p.scope_id): p for p in plans}
    candidates = [
        (PlanScope.CATEGORY, category_id) if category_id is not None else None,
        *((PlanScope.COUPON_CAMPAIGN, c) for c in sorted(campaign_ids)),
        (PlanScope.LIVESTREAM, livestream_id) if livestream_id is not None else None,
        (PlanScope.LIVESTREAM, None) if livestream_id is not None else None,
        (PlanScope.DEFAULT, None),
    ]
    for key in candidates:
        if key is not None and (plan := by_scope.get(key)) is not None:
            rate = plan.category_rates.get(str(category_id), plan.rate_basis_points)
            return FrozenPlan(plan.id, shares_from_json(plan.shares), rate, plan.referrer_reward_campaign_id)
    return FALLBACK
