"""Ledger mutations (HQ_ADMIN): commission plans, the attribution window, closing a period."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession

from ....api.errors import mutate
from ....api.nodes import local_id
from ....api.permissions import roles
from ....api.scalars import MoneyInput
from ...common.actor import Role
from ...common.errors import DomainError
from .. import adjustments, attribution, periods, plans
from ..errors import LedgerErrorCode
from ..models import Participant as ParticipantValue
from .types import BENEFICIARY_TYPES, CommissionPlan, LedgerEntry, LedgerUserError, Participant, PlanScope

HQ = roles(Role.HQ_ADMIN)
IDEMPOTENCY_KEY = "1-128 characters: a retry with the same key by you returns the first result and writes nothing."
SCOPE_TYPES = {
    PlanScope.CATEGORY: "ProductCategory",
    PlanScope.COUPON_CAMPAIGN: "CouponCampaign",
    PlanScope.LIVESTREAM: "Livestream",
    PlanScope.DEFAULT: "ProductCategory",  # refused with SCOPE_ID_NOT_ALLOWED whatever it names
}


@strawberry.input(description="A participant's share, in basis points (7,000 = 70 %).")
class CommissionShareInput:
    participant: Participant = strawberry.field(description="Who.")
    basis_points: int = strawberry.field(description="1 to 10,000; the shares total 10,000.")


@strawberry.input(description="A category's own commission rate.")
class CategoryRateInput:
    category_id: strawberry.ID = strawberry.field(description="The ProductCategory.")
    basis_points: int = strawberry.field(description="0 to 10,000 basis points of credited revenue.")


@strawberry.input(description="A new commission plan.")
class CommissionPlanCreateInput:
    name: str = strawberry.field(description="1-64 characters.")
    scope: PlanScope = strawberry.field(description="What it covers.")
    scope_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="CATEGORY: the ProductCategory; COUPON_CAMPAIGN: the CouponCampaign; LIVESTREAM: the "
        "Livestream, or none for any livestream; DEFAULT: none.",
    )
    effective_from: datetime = strawberry.field(description="Now or later: history is never re-priced.")
    effective_to: datetime | None = strawberry.field(default=None, description="After effectiveFrom; none: open.")
    shares: list[CommissionShareInput] = strawberry.field(description="Who shares, totalling 10,000 basis points.")
    rate_basis_points: int = strawberry.field(default=0, description="Commission rate, 0 to 10,000 basis points.")
    category_rates: list[CategoryRateInput] = strawberry.field(
        default_factory=list, description="Rates replacing rateBasisPoints for some categories (at most 100)."
    )
    referrer_reward_campaign_id: strawberry.ID | None = strawberry.field(
        default=None, description="A CouponCampaign: each referred sale gives the referrer one of its coupons."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input(description="Ending a commission plan.")
class CommissionPlanEndInput:
    plan_id: strawberry.ID = strawberry.field(description="The CommissionPlan.")
    effective_to: datetime = strawberry.field(description="Now or later, after its start.")


@strawberry.type(description="The answer to commissionPlanCreate and commissionPlanEnd.")
class CommissionPlanPayload:
    plan: CommissionPlan | None = strawberry.field(default=None, description="The plan; null on errors.")
    errors: list[LedgerUserError] = strawberry.field(description="Why nothing was written; empty on success.")


@strawberry.input(description="The attribution window.")
class AttributionRuleSetInput:
    window_days: int = strawberry.field(description="1 to 90 days looked back before the booking (or payment).")


@strawberry.input(description="A month to close.")
class PeriodCloseInput:
    period: str = strawberry.field(description="YYYY-MM, a month that is over.")


@strawberry.type(description="The attribution rule in force.")
class AttributionRule:
    model: str = strawberry.field(description="LAST_TOUCH_LIVESTREAM.")
    window_days: int = strawberry.field(description="Days looked back before the booking (or payment).")
    created_at: datetime | None = strawberry.field(description="In force since; null: the built-in default.")


@strawberry.type(description="The answer to attributionRuleSet.")
class AttributionRulePayload:
    rule: AttributionRule | None = strawberry.field(default=None, description="The new rule.")
    errors: list[LedgerUserError] = strawberry.field(description="Why nothing was written; empty on success.")


@strawberry.type(description="A month of the ledger.")
class LedgerPeriod:
    period: str = strawberry.field(description="YYYY-MM.")
    closed: bool = strawberry.field(description="Whether it is closed.")
    closed_at: datetime | None = strawberry.field(description="When it was closed.")


@strawberry.type(description="The answer to periodClose.")
class PeriodClosePayload:
    period: LedgerPeriod | None = strawberry.field(default=None, description="The closed period.")
    errors: list[LedgerUserError] = strawberry.field(description="Why nothing was written; empty on success.")


def _draft(given: CommissionPlanCreateInput) -> plans.PlanDraft:
    scope = PlanScope(given.scope)
    return plans.PlanDraft(
        name=given.name,
        scope=scope,
        scope_id=local_id(given.scope_id, SCOPE_TYPES[scope]),
        effective_from=given.effective_from,
        effective_to=given.effective_to,
        shares={ParticipantValue(s.participant): s.basis_points for s in given.shares},
        rate_basis_points=given.rate_basis_points,
        category_rates={local_id(r.category_id, "ProductCategory"): r.basis_points for r in given.category_rates},
        referrer_reward_campaign_id=local_id(given.referrer_reward_campaign_id, "CouponCampaign"),
    )


@strawberry.input(description="A correction of what a beneficiary was credited for an order.")
class LedgerAdjustInput:
    beneficiary_kind: Participant = strawberry.field(description="Who.")
    beneficiary_id: strawberry.ID = strawberry.field(description="The StaffUser, Team, Store or Customer.")
    order_id: strawberry.ID = strawberry.field(description="The Order (credited by the ledger).")
    commission: MoneyInput = strawberry.field(description="Commission to add (negative: to take back).")
    revenue: MoneyInput | None = strawberry.field(default=None, description="Credited revenue to add, if any.")
    note: str = strawberry.field(description="Why, 1-200 characters.")
    period: str | None = strawberry.field(
        default=None, description="The month to post in (open, begun), YYYY-MM; none: the current one."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.type(description="The answer to ledgerAdjust.")
class LedgerAdjustPayload:
    entry: LedgerEntry | None = strawberry.field(default=None, description="The ADJUSTMENT entry; null on errors.")
    errors: list[LedgerUserError] = strawberry.field(description="Why nothing was written; empty on success.")


@strawberry.type
class LedgerMutation:
    @strawberry.mutation(
        extensions=HQ,
        description="A commission plan: who shares the sales of its scope and the commission rate, from "
        "effectiveFrom (now or later). HQ_ADMIN. Errors: SHARES_NOT_100, DUPLICATE_PARTICIPANT, "
        "RATE_OUT_OF_RANGE, PLAN_OVERLAP (another plan of the scope is in force then), INVALID_PERIOD, "
        "SCOPE_ID_REQUIRED, SCOPE_ID_NOT_ALLOWED, NOT_FOUND, OUT_OF_RANGE, TOO_MANY, or a check of name.",
    )
    async def commission_plan_create(
        self,
        info: strawberry.Info,
        input: Annotated[CommissionPlanCreateInput, strawberry.argument(description="The plan.")],
    ) -> CommissionPlanPayload:
        actor = await info.context.viewer()
        now = info.context.runtime.clock.now()

        async def action(session: AsyncSession) -> dict[str, Any]:
            row = await plans.create_plan(
                session, actor, _draft(input), len(input.shares), now, idempotency_key=input.idempotency_key
            )
            return {"plan": CommissionPlan.from_row(row)}

        return await mutate(info, CommissionPlanPayload, LedgerUserError, action)

    @strawberry.mutation(
        extensions=HQ,
        description="End a plan (now or later); what it priced stays as it was. HQ_ADMIN. Errors: NOT_FOUND, "
        "INVALID_PERIOD, PLAN_STARTED (it has ended already).",
    )
    async def commission_plan_end(
        self,
        info: strawberry.Info,
        input: Annotated[CommissionPlanEndInput, strawberry.argument(description="Which, and when.")],
    ) -> CommissionPlanPayload:
        actor = await info.context.viewer()
        now = info.context.runtime.clock.now()

        async def action(session: AsyncSession) -> dict[str, Any]:
            plan_id = local_id(input.plan_id, "CommissionPlan")
            row = await plans.end_plan(session, actor, plan_id, input.effective_to, now)
            return {"plan": CommissionPlan.from_row(row)}

        return await mutate(info, CommissionPlanPayload, LedgerUserError, action)

    @strawberry.mutation(
        extensions=HQ,
        description="The attribution window for orders credited from now on (1-90 days; default 7): the "
        "livestream she touched last within it before her booking (or payment) gets the credit. HQ_ADMIN. "
        "Errors: OUT_OF_RANGE.",
    )
    async def attribution_rule_set(
        self,
        info: strawberry.Info,
        input: Annotated[AttributionRuleSetInput, strawberry.argument(description="The window.")],
    ) -> AttributionRulePayload:
        actor = await info.context.viewer()
        now = info.context.runtime.clock.now()

        async def action(session: AsyncSession) -> dict[str, Any]:
            row = await attribution.set_rule(session, actor, input.window_days, now)
            return {"rule": AttributionRule(model=row.model, window_days=row.window_days, created_at=row.created_at)}

        return await mutate(info, AttributionRulePayload, LedgerUserError, action)

    @strawberry.mutation(
        extensions=HQ,
        description="Post an ADJUSTMENT entry for a credited order, in an open period. HQ_ADMIN. Errors: "
        "ORDER_NOT_CREDITED, NOT_FOUND (beneficiaryId), PERIOD_CLOSED, INVALID_PERIOD, INVALID_FORMAT, "
        "INVALID_VALUE (nothing to change), OUT_OF_RANGE, INVALID_CURRENCY, or a check of note.",
    )
    async def ledger_adjust(
        self, info: strawberry.Info, input: Annotated[LedgerAdjustInput, strawberry.argument(description="What.")]
    ) -> LedgerAdjustPayload:
        actor = await info.context.viewer()
        runtime = info.context.runtime
        currency = runtime.settings.brand_currency

        async def action(session: AsyncSession) -> dict[str, Any]:
            for path, amount in (("commission", input.commission), ("revenue", input.revenue)):
                if amount is not None and amount.currency != currency:
                    raise DomainError.single(LedgerErrorCode.INVALID_CURRENCY, f"amounts are in {currency}", (path,))
            kind = ParticipantValue(input.beneficiary_kind)
            draft = adjustments.AdjustmentDraft(
                beneficiary_kind=kind,
                beneficiary_id=local_id(input.beneficiary_id, BENEFICIARY_TYPES[kind]),
                order_id=local_id(input.order_id, "Order"),
                commission=input.commission.amount,
                revenue=input.revenue.amount if input.revenue else 0,
                note=input.note,
                period=input.period,
            )
            row = await adjustments.adjust(
                session, actor, draft, runtime.clock.now(), runtime.settings.brand_zone, input.idempotency_key
            )
            return {"entry": LedgerEntry.from_row(row, currency)}

        return await mutate(info, LedgerAdjustPayload, LedgerUserError, action)

    @strawberry.mutation(
        extensions=HQ,
        description="Close a month that is over: its entries never change again; what happens to its sales "
        "later is posted in the current month. HQ_ADMIN. Errors: INVALID_FORMAT (YYYY-MM), PERIOD_NOT_OVER, "
        "PERIOD_CLOSED.",
    )
    async def period_close(
        self, info: strawberry.Info, input: Annotated[PeriodCloseInput, strawberry.argument(description="Which month.")]
    ) -> PeriodClosePayload:
        actor = await info.context.viewer()
        runtime = info.context.runtime

        async def action(session: AsyncSession) -> dict[str, Any]:
            zone = runtime.settings.brand_zone
            row = await periods.close_period(session, actor, input.period, runtime.clock.now(), zone)
            return {"period": LedgerPeriod(period=row.period, closed=row.closed, closed_at=row.closed_at)}

        return await mutate(info, PeriodClosePayload, LedgerUserError, action)
