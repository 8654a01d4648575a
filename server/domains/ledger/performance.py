"""Performance of a guide, store, livestream, team, city (or the whole brand) over a day or a month.

Credit comes from the ledger (sums, exactly as the leaderboards); sales from the attributions the ledger
froze (paid orders: GMV, average order value of booked customers and of everyone else); visits from
bookings whose slot falls in the window (booked, checked in, no-shows, acknowledgement times). A
paying visit is a checked-in booking with a paid order.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..bookings.tallies import VisitFigures, VisitScope, visit_figures
from ..livestreams.services import livestream_listing
from ..social.services import count_posts
from ..stores.services import store_listing
from .models import OrderAttribution
from .periods import Window
from .standings import BoardScope, credit_of


@dataclass(frozen=True)
class Target:
    """What is measured: a scope and its id (None: the whole brand); city ids are names."""

    scope: BoardScope | None
    key: int | str | None


@dataclass(frozen=True)
class Figures:
    revenue: int
    commission: int
    orders: int
    gmv: int
    aov_booked: int | None
    aov_others: int | None
    visits: VisitFigures
    paying_visits: int
    ugc_posts: int

    @property
    def arrival_rate(self) -> float | None:
        return self.visits.checked_in / self.visits.booked if self.visits.booked else None

    @property
    def purchase_rate(self) -> float | None:
        return self.paying_visits / self.visits.checked_in if self.visits.checked_in else None

    def acknowledgement_percentile(self, percent: int) -> float | None:
        seconds = sorted(self.visits.acknowledgement_seconds)
        if not seconds:
            return None
        if len(seconds) == 1:
            return seconds[0]
        return statistics.quantiles(seconds, n=100, method="inclusive")[percent - 1]


async def _store_ids(session: AsyncSession, target: Target) -> list[int] | None:
    if target.scope is BoardScope.STORE:
        return [int(target.key or 0)]
    if target.scope is BoardScope.CITY:
        return [store.id or 0 for store in await session.exec(store_listing(city=str(target.key)))]
    return None


async def _livestream_ids(session: AsyncSession, target: Target) -> list[int] | None:
    if target.scope is BoardScope.LIVESTREAM:
        return [int(target.key or 0)]
    if target.scope is BoardScope.TEAM:
        return [row.id or 0 for row in await session.exec(livestream_listing(team_id=int(target.key or 0)))]
    return None


async def _credit(
    session: AsyncSession, target: Target, store_ids: list[int] | None, window: Window
) -> tuple[int, int, int]:
    """From the leaderboards' sums: a guide's, team's or livestream's own; a store's, a city's or the
    brand's from the store board (every credit of their sales)."""
    if target.scope in (BoardScope.GUIDE, BoardScope.TEAM, BoardScope.LIVESTREAM):
        return await credit_of(session, target.scope, window, int(target.key or 0), None)
    return await credit_of(session, BoardScope.STORE, window, None, store_ids)


def _sale_conditions(target: Target, store_ids: list[int] | None, window: Window) -> list[Any]:
    conditions = [col(OrderAttribution.paid_at) >= window.start, col(OrderAttribution.paid_at) < window.end]
    if target.scope is BoardScope.GUIDE:
        conditions.append(col(OrderAttribution.guide_id) == target.key)
    elif target.scope is BoardScope.TEAM:
        conditions.append(col(OrderAttribution.team_id) == target.key)
    elif target.scope is BoardScope.LIVESTREAM:
        conditions.append(col(OrderAttribution.livestream_id) == target.key)
    elif store_ids is not None:
        conditions.append(col(OrderAttribution.store_id).in_(store_ids))
    return conditions


async def _sales(session: AsyncSession, conditions: list[Any]) -> list[tuple[int, int | None]]:
    statement = select(OrderAttribution.total, OrderAttribution.booking_id).where(*conditions)
    return [(int(total), booking_id) for total, booking_id in await session.exec(statement)]


def _average(totals: list[int]) -> int | None:
    return sum(totals) // len(totals) if totals else None


async def figures(session: AsyncSession, target: Target, window: Window) -> Figures:
    store_ids = await _store_ids(session, target)
    livestream_ids = await _livestream_ids(session, target)
    revenue, commission, orders = await _credit(session, target, store_ids, window)
    sales = await _sales(session, _sale_conditions(target, store_ids, window))
    guide_id = int(target.key or 0) if target.scope is BoardScope.GUIDE else None
    visits = await visit_figures(session, VisitScope(store_ids, livestream_ids, guide_id), window.start, window.end)
    paying = {booking for _, booking in sales if booking is not None} & set(visits.checked_in_ids)
    posts = await count_posts(
        session,
        store_ids=store_ids,
        livestream_ids=livestream_ids,
        booking_ids=visits.checked_in_ids if guide_id is not None else None,
        since=window.start,
        until=window.end,
    )
    return Figures(
        revenue=revenue,
        commission=commission,
        orders=orders,
        gmv=sum(total for total, _ in sales),
        aov_booked=_average([total for total, booking in sales if booking is not None]),
        aov_others=_average([total for total, booking in sales if booking is None]),
        visits=visits,
        paying_visits=len(paying),
        ugc_posts=posts,
    )
