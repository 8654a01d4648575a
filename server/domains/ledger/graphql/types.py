"""GraphQL types of the ledger: plans, attributions, entries, statements and leaderboards."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession
from strawberry import relay

from ....api.enums import described_enum
from ....api.errors import UserError, user_error_type
from ....api.nodes import global_id, load_nodes
from ....api.type_extensions import extends
from ...common.actor import Actor, Role
from ...common.lookup import rows_by_id
from ...common.rows import saved_id
from ...orders.graphql.types import Money, Order, money
from .. import standings
from ..errors import LedgerErrorCode
from ..models import CommissionPlan as PlanRow
from ..models import EntryKind as EntryKindValue
from ..models import LedgerEntry as EntryRow
from ..models import OrderAttribution as AttributionRow
from ..models import Participant as ParticipantValue
from ..models import PlanScope as PlanScopeValue
from ..standings import BoardScope as BoardScopeValue

PLAN_READERS = (Role.HQ_ADMIN, Role.ANALYST, Role.LIVESTREAM_OPS)
LEDGER_CODE_TEXTS = {
    LedgerErrorCode.SHARES_NOT_100: "The shares do not total 100 % (10,000 basis points).",
    LedgerErrorCode.DUPLICATE_PARTICIPANT: "A participant is listed twice.",
    LedgerErrorCode.RATE_OUT_OF_RANGE: "A rate is 0 to 10,000 basis points.",
    LedgerErrorCode.PLAN_OVERLAP: "Another plan of this scope is in force at that time.",
    LedgerErrorCode.INVALID_PERIOD: "The plan's times are wrong (in the past, or ending before starting).",
    LedgerErrorCode.SCOPE_ID_REQUIRED: "This scope names its category or campaign.",
    LedgerErrorCode.SCOPE_ID_NOT_ALLOWED: "A DEFAULT plan names nothing.",
    LedgerErrorCode.PLAN_STARTED: "The plan has ended already.",
    LedgerErrorCode.PERIOD_CLOSED: "The period is closed: it never changes.",
    LedgerErrorCode.PERIOD_NOT_OVER: "The month is not over yet.",
    LedgerErrorCode.ORDER_NOT_CREDITED: "The order was never credited.",
    LedgerErrorCode.INVALID_CURRENCY: "Amounts are in the brand's currency.",
}

if TYPE_CHECKING:  # user_error_type builds the class at run time: mypy knows it by its interface
    LedgerUserError = UserError
else:
    LedgerUserError = user_error_type("Ledger", LedgerErrorCode, LEDGER_CODE_TEXTS)

PlanScope = PlanScopeValue
described_enum(
    PlanScope,
    name="CommissionPlanScope",
    description="What a plan covers. A sale's line takes the most specific plan in force at payment: its "
    "category's, then a coupon campaign's the order used, then its livestream's, then any livestream's, "
    "then the DEFAULT plan.",
    values={
        PlanScope.CATEGORY: "Lines of one product category (scopeId: the ProductCategory).",
        PlanScope.COUPON_CAMPAIGN: "Orders that used a coupon of one campaign (scopeId: the CouponCampaign).",
        PlanScope.LIVESTREAM: "Sales attributed to one livestream (scopeId: the Livestream), or to any "
        "livestream (no scopeId).",
        PlanScope.DEFAULT: "Every other sale.",
    },
)
Participant = ParticipantValue
described_enum(
    Participant,
    name="CommissionParticipant",
    description="Who shares a sale. One that a sale has none of (no livestream, no referrer) drops out and "
    "the others share in proportion; with nobody left, the store's pool takes it.",
    values={
        Participant.GUIDE: "The guide who served her (her booking's task assignee, else the seller).",
        Participant.LIVESTREAM_TEAM: "The team of the livestream the sale is attributed to.",
        Participant.STORE: "The store's pool.",
        Participant.REFERRER: "The customer whose share link brought her.",
    },
)
EntryKind = EntryKindValue
described_enum(
    EntryKind,
    name="LedgerEntryKind",
    description="Why an entry was posted.",
    values={
        EntryKind.ACCRUAL: "A paid line credited.",
        EntryKind.REVERSAL: "A refund taking back what the refunded units earned (negative amounts).",
        EntryKind.ADJUSTMENT: "A correction posted by HQ.",
    },
)
BoardScope = BoardScopeValue
described_enum(
    BoardScope,
    name="PerformanceScope",
    description="What is ranked or measured.",
    values={
        BoardScope.GUIDE: "A guide: what she was credited.",
        BoardScope.STORE: "A store: every credit of its sales.",
        BoardScope.LIVESTREAM: "A livestream: every credit of the sales attributed to it.",
        BoardScope.TEAM: "A livestream team: what it was credited.",
        BoardScope.CITY: "A city: every credit of its stores' sales.",
    },
)

BENEFICIARY_TYPES = {
    Participant.GUIDE: "StaffUser",
    Participant.LIVESTREAM_TEAM: "Team",
    Participant.STORE: "Store",
    Participant.REFERRER: "Customer",
}


def beneficiary_global_id(kind: str, beneficiary_id: int) -> strawberry.ID:
    return strawberry.ID(global_id(BENEFICIARY_TYPES[Participant(kind)], beneficiary_id))


@strawberry.type(description="A participant's share of a sale, in basis points (7,000 = 70 %).")
class CommissionShare:
    participant: Participant = strawberry.field(description="Who.")
    basis_points: int = strawberry.field(description="1 to 10,000; a plan's shares total 10,000.")


@strawberry.type(description="A commission rate for one product category, in basis points of revenue.")
class CategoryRate:
    category_id: strawberry.ID = strawberry.field(description="The ProductCategory.")
    basis_points: int = strawberry.field(description="0 to 10,000 (1,000 = 10 %).")


@strawberry.type(description="HQ's rule for who shares a sale, and the commission paid on it.")
class CommissionPlan(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="As HQ named it.")
    scope: PlanScope = strawberry.field(description="What it covers.")
    scope_id: strawberry.ID | None = strawberry.field(description="The category, campaign or livestream.")
    effective_from: dt.datetime = strawberry.field(description="In force from this instant.")
    effective_to: dt.datetime | None = strawberry.field(description="Until this instant; null: open-ended.")
    shares: list[CommissionShare] = strawberry.field(description="Who shares, totalling 100 %.")
    rate_basis_points: int = strawberry.field(description="Commission on credited revenue, in basis points.")
    category_rates: list[CategoryRate] = strawberry.field(description="Rates that replace it for some categories.")
    referrer_reward_campaign_id: strawberry.ID | None = strawberry.field(
        description="A coupon of this CouponCampaign goes to the referrer of a referred sale."
    )
    created_at: dt.datetime = strawberry.field(description="When HQ created it.")

    @classmethod
    def from_row(cls, row: PlanRow) -> CommissionPlan:
        scope = PlanScope(row.scope)
        scope_type = {
            PlanScope.CATEGORY: "ProductCategory",
            PlanScope.COUPON_CAMPAIGN: "CouponCampaign",
            PlanScope.LIVESTREAM: "Livestream",
        }.get(scope)
        return cls(
            id=saved_id(row),
            name=row.name,
            scope=scope,
            scope_id=strawberry.ID(global_id(scope_type, row.scope_id)) if scope_type and row.scope_id else None,
            effective_from=row.effective_from,
            effective_to=row.effective_to,
            shares=[
                CommissionShare(participant=Participant(s["participant"]), basis_points=s["basisPoints"])
                for s in row.shares
            ],
            rate_basis_points=row.rate_basis_points,
            category_rates=[
                CategoryRate(category_id=strawberry.ID(global_id("ProductCategory", int(k))), basis_points=v)
                for k, v in sorted(row.category_rates.items(), key=lambda item: int(item[0]))
            ],
            referrer_reward_campaign_id=strawberry.ID(global_id("CouponCampaign", row.referrer_reward_campaign_id))
            if row.referrer_reward_campaign_id
            else None,
            created_at=row.created_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # relay.Node's signature is untyped; this is its form
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[CommissionPlan | None]:
        def visible(actor: Actor, row: PlanRow) -> bool:
            return actor.has_role(*PLAN_READERS)

        return await load_nodes(info, plans_by_ids, node_ids, cls.from_row, visible)


async def plans_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, PlanRow]:
    return await rows_by_id(session, PlanRow, ids)


@strawberry.type(description="A livestream she touched before buying.")
class AttributionTouch:
    livestream_id: strawberry.ID = strawberry.field(description="The Livestream.")
    type: str = strawberry.field(
        description="LIVESTREAM_JOIN, LIVESTREAM_PRODUCT_CLICK, LIVESTREAM_BOOK_CLICK or BOOKING."
    )
    at: dt.datetime = strawberry.field(description="When.")


@strawberry.type(description="The plan one line of the order was credited under, as it was at payment.")
class AttributedLine:
    line_id: strawberry.ID = strawberry.field(description="The OrderLine's id.")
    plan_id: strawberry.ID | None = strawberry.field(description="The CommissionPlan; null: no plan was in force.")
    shares: list[CommissionShare] = strawberry.field(description="Its shares, frozen.")
    rate_basis_points: int = strawberry.field(description="Its commission rate, frozen.")


@strawberry.type(description="Who gets credit for a paid order: its journey and rules, frozen when it was credited.")
class OrderAttribution:
    livestream_id: strawberry.ID | None = strawberry.field(description="The Livestream the sale is attributed to.")
    team_id: strawberry.ID | None = strawberry.field(description="That livestream's Team.")
    guide_id: strawberry.ID | None = strawberry.field(description="The StaffUser who served her.")
    store_id: strawberry.ID = strawberry.field(description="The Store.")
    booking_id: strawberry.ID | None = strawberry.field(description="Her Booking, when the order is tied to one.")
    referred: bool = strawberry.field(description="Whether she arrived through another customer's share link.")
    model: str = strawberry.field(description="The attribution model used (LAST_TOUCH_LIVESTREAM).")
    window_days: int = strawberry.field(description="How far back it looked, before the anchor.")
    anchor: dt.datetime = strawberry.field(description="Her booking's creation, else the payment.")
    touches: list[AttributionTouch] = strawberry.field(description="Livestream touches in the window, newest first.")
    lines: list[AttributedLine] = strawberry.field(description="Each line's plan.")
    credited_at: dt.datetime = strawberry.field(description="When the ledger credited it.")

    @classmethod
    def from_row(cls, row: AttributionRow) -> OrderAttribution:
        journey: dict[str, Any] = row.journey
        return cls(
            livestream_id=_gid("Livestream", row.livestream_id),
            team_id=_gid("Team", row.team_id),
            guide_id=_gid("StaffUser", row.guide_id),
            store_id=strawberry.ID(global_id("Store", row.store_id)),
            booking_id=_gid("Booking", row.booking_id),
            referred=row.referrer_id is not None,
            model=journey["rule"]["model"],
            window_days=journey["rule"]["windowDays"],
            anchor=dt.datetime.fromisoformat(journey["anchor"]),
            touches=[
                AttributionTouch(
                    livestream_id=strawberry.ID(global_id("Livestream", t["livestreamId"])),
                    type=t["type"],
                    at=dt.datetime.fromisoformat(t["at"]),
                )
                for t in journey["touches"]
            ],
            lines=[
                _attributed_line(line_id, plan)
                for line_id, plan in sorted(journey["plans"].items(), key=lambda i: int(i[0]))
            ],
            credited_at=row.created_at,
        )


def _gid(type_name: str, row_id: int | None) -> strawberry.ID | None:
    return strawberry.ID(global_id(type_name, row_id)) if row_id is not None else None


def _attributed_line(line_id: str, plan: dict[str, Any]) -> AttributedLine:
    return AttributedLine(
        line_id=strawberry.ID(line_id),
        plan_id=_gid("CommissionPlan", plan["planId"]),
        shares=[CommissionShare(participant=Participant(p), basis_points=v) for p, v in plan["shares"].items()],
        rate_basis_points=plan["rateBasisPoints"],
    )


@strawberry.type(description="One beneficiary's credit, or its reversal, for one order line. Never changed.")
class LedgerEntry:
    id: strawberry.ID = strawberry.field(description="The entry's id.")
    kind: EntryKind = strawberry.field(description="Accrual, reversal or adjustment.")
    beneficiary_kind: Participant = strawberry.field(description="Who is credited.")
    beneficiary_id: strawberry.ID = strawberry.field(description="The StaffUser, Team, Store or Customer.")
    order_id: strawberry.ID = strawberry.field(description="The Order.")
    line_id: strawberry.ID | None = strawberry.field(description="The OrderLine's id.")
    revenue: Money = strawberry.field(description="Credited revenue (negative on a reversal).")
    commission: Money = strawberry.field(description="Commission (negative on a reversal).")
    period: str = strawberry.field(description="The month it was posted in, YYYY-MM.")
    note: str | None = strawberry.field(description="An adjustment's reason, and who posted it.")
    occurred_at: dt.datetime = strawberry.field(description="When the payment or refund happened.")
    created_at: dt.datetime = strawberry.field(description="When it was posted.")

    @classmethod
    def from_row(cls, row: EntryRow, currency: str) -> LedgerEntry:
        return cls(
            id=strawberry.ID(str(saved_id(row))),
            kind=EntryKind(row.kind),
            beneficiary_kind=Participant(row.beneficiary_kind),
            beneficiary_id=beneficiary_global_id(row.beneficiary_kind, row.beneficiary_id),
            order_id=strawberry.ID(global_id("Order", row.order_id)),
            line_id=strawberry.ID(str(row.line_id)) if row.line_id is not None else None,
            revenue=money(row.revenue, currency),
            commission=money(row.commission, currency),
            period=row.period,
            note=row.note,
            occurred_at=row.occurred_at,
            created_at=row.created_at,
        )


@strawberry.type(description="A place on a leaderboard.")
class LeaderboardEntry:
    rank: int = strawberry.field(description="1 is first; ties are ordered by commission, then by id.")
    id: strawberry.ID = strawberry.field(description="The StaffUser, Store, Livestream or Team; a city's name.")
    name: str = strawberry.field(description="Her display name, the store's or team's name, the title, the city.")
    credited_revenue: Money = strawberry.field(description="The sum of its ledger entries' revenue.")
    commission: Money = strawberry.field(description="The sum of its ledger entries' commission.")
    orders: int = strawberry.field(description="Orders credited to it in the period.")
    is_me: bool = strawberry.field(description="Whether this is you (or your store).")


@strawberry.type(description="A ranking of guides, stores, livestreams, teams or cities by credited revenue.")
class Leaderboard:
    scope: BoardScope = strawberry.field(description="What is ranked.")
    period: str = strawberry.field(description="YYYY-MM (a ledger period) or YYYY-MM-DD (a day).")
    entries: list[LeaderboardEntry] = strawberry.field(description="The first places.")
    me: LeaderboardEntry | None = strawberry.field(
        description="Your own place (a guide's, or her store's on a STORE board), ranked among all; "
        "null when it does not apply."
    )
    total: int = strawberry.field(description="How many are ranked.")


@strawberry.type(description="A beneficiary's commission for one month.")
class CommissionStatement:
    beneficiary_kind: Participant = strawberry.field(description="Who.")
    beneficiary_id: strawberry.ID = strawberry.field(description="The StaffUser, Team, Store or Customer.")
    period: str = strawberry.field(description="YYYY-MM.")
    closed: bool = strawberry.field(description="Whether the period is closed (final).")
    credited_revenue: Money = strawberry.field(description="Net of reversals.")
    commission: Money = strawberry.field(description="Net of reversals and adjustments.")
    accrued: Money = strawberry.field(description="Commission accrued.")
    reversed: Money = strawberry.field(description="Commission reversed by refunds.")
    adjusted: Money = strawberry.field(description="Commission adjusted by HQ.")
    entry_count: int = strawberry.field(description="How many entries.")
    entries: list[LedgerEntry] = strawberry.field(description="Its entries, oldest first (at most `first`).")


def standing_entry(standing: standings.Standing, currency: str, scope: BoardScope, mine: object) -> LeaderboardEntry:
    key = standing.key
    type_name = {
        BoardScope.GUIDE: "StaffUser",
        BoardScope.STORE: "Store",
        BoardScope.LIVESTREAM: "Livestream",
        BoardScope.TEAM: "Team",
    }.get(scope)
    return LeaderboardEntry(
        rank=standing.rank,
        id=strawberry.ID(global_id(type_name, int(key)) if type_name else str(key)),
        name=standing.name,
        credited_revenue=money(standing.revenue, currency),
        commission=money(standing.commission, currency),
        orders=standing.orders,
        is_me=mine is not None and key == mine,
    )


@extends(
    Order,
    "attribution",
    description="Who gets credit for it: null until the ledger has credited it (seconds "
    "after payment) and for unpaid orders. Staff of its store and HQ roles.",
)
async def order_attribution(root: Order, info: strawberry.Info) -> OrderAttribution | None:
    actor = await info.context.viewer()
    if not actor.is_staff or (actor.store_id is not None and actor.store_id != root._row.store_id):
        return None
    row = await info.context.loader(standings.attributions_by_order).load(root.id)
    return OrderAttribution.from_row(row) if row is not None else None


@extends(Order, "commissionEntries", description="Its ledger entries, oldest first. Staff of its store and HQ roles.")
async def order_commission_entries(root: Order, info: strawberry.Info) -> list[LedgerEntry]:
    actor = await info.context.viewer()
    if not actor.is_staff or (actor.store_id is not None and actor.store_id != root._row.store_id):
        return []
    rows = await info.context.loader(standings.entries_by_order, default=[]).load(root.id)
    return [LedgerEntry.from_row(row, root.total.currency) for row in rows]


LEDGER_EXTENSIONS = (order_attribution, order_commission_entries)
