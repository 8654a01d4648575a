"""performance(scope, id, period): one guide's, store's, livestream's, team's or city's figures."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ....api.context import bad_input
from ....api.nodes import local_id
from ....api.permissions import roles
from ...common.actor import Actor, Role
from ...common.errors import Forbidden
from ...orders.graphql.types import Money, money
from .. import performance, standings
from ..standings import BoardScope as BoardScopeValue
from .queries import period_window
from .types import BoardScope

SCOPE_TYPES = {
    BoardScopeValue.GUIDE: "StaffUser",
    BoardScopeValue.STORE: "Store",
    BoardScopeValue.LIVESTREAM: "Livestream",
    BoardScopeValue.TEAM: "Team",
}
HQ = (Role.HQ_ADMIN, Role.ANALYST, Role.LIVESTREAM_OPS)


@strawberry.type(description="How a guide, store, livestream, team, city or the brand did over a day or a month.")
class Performance:
    scope: BoardScope | None = strawberry.field(description="What was measured; null: the whole brand.")
    period: str = strawberry.field(description="YYYY-MM or YYYY-MM-DD.")
    credited_revenue: Money = strawberry.field(description="Ledger credit, net of reversals (as the leaderboard).")
    commission: Money = strawberry.field(description="Ledger commission, net of reversals.")
    orders: int = strawberry.field(description="Orders credited.")
    gmv: Money = strawberry.field(description="What its paid orders came to (gross of refunds).")
    average_order_value_booked: Money | None = strawberry.field(
        description="Average paid order of customers who came with a booking; null: none."
    )
    average_order_value_others: Money | None = strawberry.field(
        description="Average paid order of everyone else (walk-ins, online); null: none."
    )
    aov_uplift_percent: float | None = strawberry.field(
        description="How much larger the booked customers' average order is, in percent (the seed: +40 %)."
    )
    bookings: int = strawberry.field(description="Bookings whose slot falls in the period (not cancelled).")
    check_ins: int = strawberry.field(description="Of them, checked in.")
    no_shows: int = strawberry.field(description="Of them, no-shows.")
    arrival_rate: float | None = strawberry.field(description="Checked in / booked (0-1); null without bookings.")
    purchase_rate: float | None = strawberry.field(
        description="Paying visits / check-ins (0-1); null without check-ins."
    )
    acknowledgement_seconds_p50: float | None = strawberry.field(description="Median time to acknowledge a task.")
    acknowledgement_seconds_p90: float | None = strawberry.field(description="90th percentile of it.")
    sla_breaches: int = strawberry.field(description="Tasks acknowledged late or escalated.")
    ugc_posts: int = strawberry.field(description="Customers' posts about its visits submitted in the period.")


def _may_measure(actor: Actor, scope: BoardScopeValue | None, key: int | str | None, guide_store: int | None) -> bool:
    if actor.has_role(*HQ):
        return True
    if scope is BoardScopeValue.STORE:
        return actor.store_id is not None and key == actor.store_id
    if scope is BoardScopeValue.GUIDE:
        return key == actor.id or (actor.has_role(Role.STORE_MANAGER) and guide_store == actor.store_id)
    return False


@strawberry.type
class PerformanceQuery:
    @strawberry.field(
        extensions=roles(*Role),
        description="Figures of one guide, store, livestream, team or city (or, without scope, the brand) over "
        "a day or a month. HQ roles: anything; a store manager: her store and its guides; a guide: herself "
        "and her store. Others: FORBIDDEN.",
    )
    async def performance(
        self,
        info: strawberry.Info,
        period: Annotated[str, strawberry.argument(description="YYYY-MM (a month) or YYYY-MM-DD (a day).")],
        scope: Annotated[BoardScope | None, strawberry.argument(description="What; none: the brand.")] = None,
        id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="The StaffUser, Store, Livestream or Team; a city's name for CITY."),
        ] = None,
    ) -> Performance:
        window = period_window(info, period)
        scope_value = BoardScopeValue(scope) if scope else None
        key = _key(scope_value, id)
        actor = await info.context.viewer()
        async with info.context.db() as session:
            guide_store = (
                await standings.store_of_guide(session, int(key or 0)) if scope_value is BoardScopeValue.GUIDE else None
            )
            if not _may_measure(actor, scope_value, key, guide_store):
                raise Forbidden("not yours to measure")
            found = await performance.figures(session, performance.Target(scope_value, key), window)
        return _present(found, scope, window.name, info.context.settings.brand_currency)


def _key(scope: BoardScopeValue | None, given: strawberry.ID | None) -> int | str | None:
    if scope is None:
        if given is not None:
            raise bad_input("the brand takes no id: leave `id` out, or give a scope")
        return None
    if given is None:
        raise bad_input(f"a {scope.value} needs its id")
    if scope is BoardScopeValue.CITY:
        if not 1 <= len(given) <= 64:
            raise bad_input("a city's name is 1-64 characters")
        return str(given)
    return local_id(given, SCOPE_TYPES[scope])


def _present(found: performance.Figures, scope: BoardScope | None, period: str, currency: str) -> Performance:
    uplift = None
    if found.aov_booked and found.aov_others:
        uplift = round((found.aov_booked / found.aov_others - 1) * 100, 1)
    return Performance(
        scope=scope,
        period=period,
        credited_revenue=money(found.revenue, currency),
        commission=money(found.commission, currency),
        orders=found.orders,
        gmv=money(found.gmv, currency),
        average_order_value_booked=money(found.aov_booked, currency) if found.aov_booked is not None else None,
        average_order_value_others=money(found.aov_others, currency) if found.aov_others is not None else None,
        aov_uplift_percent=uplift,
        bookings=found.visits.booked,
        check_ins=found.visits.checked_in,
        no_shows=found.visits.no_shows,
        arrival_rate=found.arrival_rate,
        purchase_rate=found.purchase_rate,
        acknowledgement_seconds_p50=found.acknowledgement_percentile(50),
        acknowledgement_seconds_p90=found.acknowledgement_percentile(90),
        sla_breaches=found.visits.sla_breaches,
        ugc_posts=found.ugc_posts,
    )
