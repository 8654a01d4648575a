"""Ledger queries: plans, statements, leaderboards; and leaderboardChanged."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from sqlmodel import col, select

from ....api.context import bad_input
from ....api.live import coalesced, live_messages
from ....api.nodes import local_id
from ....api.permissions import authenticated, roles
from ...common.actor import Actor, ActorKind, Role
from ...common.errors import DomainError, Forbidden
from ...orders.graphql.types import money
from ...stores.models import Store
from ...stores.services import store_listing
from .. import attribution, periods, standings
from ..adjustments import BENEFICIARY_ROWS
from ..models import CommissionPlan as PlanRow
from ..models import Participant as ParticipantValue
from ..topics import LEDGER_TOPIC
from .mutations import AttributionRule
from .types import (
    BENEFICIARY_TYPES,
    BoardScope,
    CommissionPlan,
    CommissionStatement,
    Leaderboard,
    LedgerEntry,
    Participant,
    beneficiary_global_id,
    standing_entry,
)

STAFF = roles(*Role)
MAX_BOARD = 100
MAX_STATEMENT_ENTRIES = 500
LEADERBOARD_MIN_INTERVAL = 0.5  # seconds between two leaderboardChanged answers


def period_window(info: strawberry.Info, period: str) -> periods.Window:
    try:
        return periods.window_of(period, info.context.settings.brand_zone)
    except DomainError as error:
        raise bad_input(error.problems[0].message) from error


def may_read_statement(actor: Actor, kind: ParticipantValue, beneficiary_id: int, store_of_guide: int | None) -> bool:
    if actor.kind is ActorKind.CUSTOMER:
        return kind is ParticipantValue.REFERRER and beneficiary_id == actor.id
    if actor.has_role(Role.HQ_ADMIN, Role.ANALYST):
        return True
    if actor.has_role(Role.LIVESTREAM_OPS):
        return kind is ParticipantValue.LIVESTREAM_TEAM
    if kind is ParticipantValue.GUIDE and beneficiary_id == actor.id:
        return True
    if actor.has_role(Role.STORE_MANAGER):
        return (kind is ParticipantValue.STORE and beneficiary_id == actor.store_id) or (
            kind is ParticipantValue.GUIDE and store_of_guide == actor.store_id
        )
    return False


async def _board(
    info: strawberry.Info, scope: BoardScope, period: str, store_id: strawberry.ID | None, city: str | None, first: int
) -> Leaderboard:
    if not 0 <= first <= MAX_BOARD:
        raise bad_input(f"`first` must be between 0 and {MAX_BOARD}")
    if city is not None and len(city) > 64:
        raise bad_input("`city` takes at most 64 characters")
    actor = await info.context.viewer()
    window = period_window(info, period)
    async with info.context.db() as session:
        store_ids = [local_id(store_id, "Store")] if store_id else None
        if store_ids and await session.get(Store, store_ids[0]) is None:
            raise bad_input("storeId names no store")
        if city is not None:
            in_city = [s.id for s in await session.exec(store_listing(city=city))]
            store_ids = [i for i in in_city if store_ids is None or i in store_ids]
        ranked = await standings.standings(session, BoardScope(scope), window, store_ids)
        mine = actor.id if scope is BoardScope.GUIDE else actor.store_id if scope is BoardScope.STORE else None
        own = [s for s in ranked if mine is not None and s.key == mine][:1]
        shown = await standings.named(session, BoardScope(scope), [*ranked[:first], *own])
    currency = info.context.settings.brand_currency
    return Leaderboard(
        scope=scope,
        period=window.name,
        entries=[standing_entry(s, currency, scope, mine) for s in shown[: min(first, len(ranked))]],
        me=standing_entry(shown[-1], currency, scope, mine) if own else None,
        total=len(ranked),
    )


@strawberry.type
class LedgerQuery:
    @strawberry.field(
        extensions=roles(Role.HQ_ADMIN, Role.ANALYST, Role.LIVESTREAM_OPS),
        description="Commission plans, newest first (at most 100). HQ_ADMIN, ANALYST or LIVESTREAM_OPS.",
    )
    async def commission_plans(self, info: strawberry.Info) -> list[CommissionPlan]:
        async with info.context.db() as session:
            rows = await session.exec(select(PlanRow).order_by(col(PlanRow.id).desc()).limit(100))
            return [CommissionPlan.from_row(row) for row in rows]

    @strawberry.field(extensions=STAFF, description="The attribution rule in force. Any staff member.")
    async def attribution_rule(self, info: strawberry.Info) -> AttributionRule:
        async with info.context.db() as session:
            row = await attribution.rule_row(session)
        if row is None:
            default = attribution.DEFAULT_RULE
            return AttributionRule(model=str(default["model"]), window_days=int(default["windowDays"]), created_at=None)
        return AttributionRule(model=row.model, window_days=row.window_days, created_at=row.created_at)

    @strawberry.field(
        extensions=STAFF,
        description="A ranking by credited revenue: sums of ledger entries, exactly. Any staff member; `me` is "
        "your own place. Filter by store or city (the sales of its stores).",
    )
    async def leaderboard(
        self,
        info: strawberry.Info,
        scope: Annotated[BoardScope, strawberry.argument(description="What is ranked.")],
        period: Annotated[str, strawberry.argument(description="YYYY-MM (a ledger period) or YYYY-MM-DD (a day).")],
        store_id: Annotated[strawberry.ID | None, strawberry.argument(description="Only this Store's sales.")] = None,
        city: Annotated[str | None, strawberry.argument(description="Only sales of stores in this city.")] = None,
        first: Annotated[int, strawberry.argument(description="How many places, 0 to 100.")] = 10,
    ) -> Leaderboard:
        return await _board(info, scope, period, store_id, city, first)

    @strawberry.field(
        extensions=authenticated(),
        description="A beneficiary's commission for one month, with its entries. HQ_ADMIN and ANALYST: anyone; "
        "a guide: her own; a store manager: her store's and its guides'; LIVESTREAM_OPS: teams'; a customer: "
        "her own referral credit (REFERRER). Others: FORBIDDEN.",
    )
    async def commission_statement(
        self,
        info: strawberry.Info,
        beneficiary_kind: Annotated[Participant, strawberry.argument(description="Who.")],
        beneficiary_id: Annotated[
            strawberry.ID, strawberry.argument(description="The StaffUser, Team, Store or Customer.")
        ],
        period: Annotated[str, strawberry.argument(description="YYYY-MM.")],
        first: Annotated[int, strawberry.argument(description="How many entries, 0 to 500.")] = 100,
    ) -> CommissionStatement:
        kind = ParticipantValue(beneficiary_kind)
        if not 0 <= first <= MAX_STATEMENT_ENTRIES:
            raise bad_input(f"`first` must be between 0 and {MAX_STATEMENT_ENTRIES}")
        window = period_window(info, period)
        if not window.is_month:
            raise bad_input("a statement's period is a month, YYYY-MM")
        actor = await info.context.viewer()
        beneficiary = local_id(beneficiary_id, BENEFICIARY_TYPES[kind])
        async with info.context.db() as session:
            if await session.get(BENEFICIARY_ROWS[kind], beneficiary) is None:
                raise bad_input(f"beneficiaryId names no {BENEFICIARY_TYPES[kind]}")
            guide_store = (
                await standings.store_of_guide(session, beneficiary) if kind is ParticipantValue.GUIDE else None
            )
            if not may_read_statement(actor, kind, beneficiary, guide_store):
                raise Forbidden("not your statement")
            totals = await standings.beneficiary_totals(session, kind, beneficiary, window)
            closed = await periods.is_closed(session, window.name)
            entries = list(await session.exec(standings.entries_of(kind, beneficiary, window).limit(first)))
        currency = info.context.settings.brand_currency
        return CommissionStatement(
            beneficiary_kind=kind,
            beneficiary_id=beneficiary_global_id(kind.value, beneficiary),
            period=window.name,
            closed=closed,
            credited_revenue=money(totals.revenue, currency),
            commission=money(totals.commission, currency),
            accrued=money(totals.accrued, currency),
            reversed=money(totals.reversed, currency),
            adjusted=money(totals.adjusted, currency),
            entry_count=totals.entries,
            entries=[LedgerEntry.from_row(row, currency) for row in entries],
        )


@strawberry.type
class LedgerSubscription:
    @strawberry.subscription(
        extensions=STAFF,
        description="The leaderboard now, then again (at most twice a second) whenever the ledger posts in the "
        "period. Any staff member.",
    )
    async def leaderboard_changed(
        self,
        info: strawberry.Info,
        scope: Annotated[BoardScope, strawberry.argument(description="What is ranked.")],
        period: Annotated[str, strawberry.argument(description="YYYY-MM or YYYY-MM-DD.")],
        store_id: Annotated[strawberry.ID | None, strawberry.argument(description="Only this Store's sales.")] = None,
        city: Annotated[str | None, strawberry.argument(description="Only this city's stores.")] = None,
        first: Annotated[int, strawberry.argument(description="How many places, 0 to 100.")] = 10,
    ) -> AsyncGenerator[Leaderboard, None]:
        month = period_window(info, period).name[:7]
        yield await _board(info, scope, period, store_id, city, first)
        ticks = coalesced(
            live_messages(info, LEDGER_TOPIC), LEADERBOARD_MIN_INTERVAL, lambda m: m.get("period") == month
        )
        async for _ in ticks:
            yield await _board(info, scope, period, store_id, city, first)
