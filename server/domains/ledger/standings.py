"""Leaderboards and statements: sums of ledger entries, nothing else, so a score is the ledger exactly.

A month is a ledger period (what was posted in it, late refunds included); a day is what happened that
day in the brand's zone. Ranks follow credited revenue, then commission, then the id (ties are ordered
the same way every time).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..livestreams.services import livestreams_by_ids
from ..staff.services import staff_by_ids, teams_by_ids
from ..stores.services import stores_by_ids
from .models import EntryKind, LedgerEntry, OrderAttribution, Participant
from .periods import Window


class BoardScope(StrEnum):
    GUIDE = "GUIDE"  # guides, by what they were credited
    STORE = "STORE"  # stores, by every credit of their sales
    LIVESTREAM = "LIVESTREAM"  # livestreams, by every credit of the sales attributed to them
    TEAM = "TEAM"  # livestream teams, by what they were credited
    CITY = "CITY"  # cities, by every credit of their stores' sales


@dataclass(frozen=True)
class Standing:
    key: int | str  # staff, store, livestream or team id; a city's name
    name: str
    revenue: int
    commission: int
    orders: int
    rank: int = 0


BENEFICIARY_OF = {BoardScope.GUIDE: Participant.GUIDE, BoardScope.TEAM: Participant.LIVESTREAM_TEAM}
GROUP_COLUMN = {
    BoardScope.GUIDE: LedgerEntry.beneficiary_id,
    BoardScope.TEAM: LedgerEntry.beneficiary_id,
    BoardScope.STORE: LedgerEntry.store_id,
    BoardScope.CITY: LedgerEntry.store_id,
    BoardScope.LIVESTREAM: LedgerEntry.livestream_id,
}


def in_window(window: Window):
    if window.is_month:
        return col(LedgerEntry.period) == window.name
    return sa.and_(col(LedgerEntry.occurred_at) >= window.start, col(LedgerEntry.occurred_at) < window.end)


def _sums(group, *conditions):
    accrual_orders = sa.func.count(
        sa.distinct(sa.case((col(LedgerEntry.kind) == EntryKind.ACCRUAL.value, LedgerEntry.order_id)))
    )
    return (
        select(group, sa.func.sum(LedgerEntry.revenue), sa.func.sum(LedgerEntry.commission), accrual_orders)
        .where(*conditions)
        .group_by(group)
    )


async def standings(
    session: AsyncSession, scope: BoardScope, window: Window, store_ids: Sequence[int] | None = None
) -> list[Standing]:
    """Every standing of the scope in the window (among ``store_ids``' sales when given), ranked."""
    group = GROUP_COLUMN[scope]
    conditions = [in_window(window), col(group).is_not(None)]
    if (kind := BENEFICIARY_OF.get(scope)) is not None:
        conditions.append(col(LedgerEntry.beneficiary_kind) == kind.value)
    if store_ids is not None:
        conditions.append(col(LedgerEntry.store_id).in_(list(store_ids)))
    rows = [
        (key, int(revenue), int(commission), orders)
        for key, revenue, commission, orders in await session.exec(_sums(group, *conditions))
    ]
    if scope is BoardScope.CITY:
        rows = await _by_city(session, rows)
    names = await _names(session, scope, [row[0] for row in rows])
    ranked = sorted(rows, key=lambda row: (-row[1], -row[2], str(row[0]).zfill(12)))
    return [
        Standing(key, names.get(key, str(key)), revenue, commission, orders, rank)
        for rank, (key, revenue, commission, orders) in enumerate(ranked, start=1)
    ]


async def _by_city(session: AsyncSession, rows: list[tuple]) -> list[tuple]:
    """Store sums folded into their cities (an order is in one store, so order counts add up)."""
    stores = await stores_by_ids(session, [row[0] for row in rows])
    cities: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for store_id, revenue, commission, orders in rows:
        totals = cities[stores[store_id].city]
        totals[0], totals[1], totals[2] = totals[0] + revenue, totals[1] + commission, totals[2] + orders
    return [(city, *totals) for city, totals in cities.items()]


async def _names(session: AsyncSession, scope: BoardScope, keys: list) -> dict:
    if scope is BoardScope.CITY:
        return {key: key for key in keys}
    fetch, attribute = {
        BoardScope.GUIDE: (staff_by_ids, "display_name"),
        BoardScope.TEAM: (teams_by_ids, "name"),
        BoardScope.STORE: (stores_by_ids, "name"),
        BoardScope.LIVESTREAM: (livestreams_by_ids, "title"),
    }[scope]
    rows = await fetch(session, keys)
    return {key: getattr(row, attribute) for key, row in rows.items()}


@dataclass(frozen=True)
class Totals:
    revenue: int = 0
    commission: int = 0
    accrued: int = 0  # commission accrued
    reversed: int = 0  # commission reversed (as a positive amount)
    adjusted: int = 0
    entries: int = 0


async def beneficiary_totals(session: AsyncSession, kind: Participant, beneficiary_id: int, window: Window) -> Totals:
    statement = (
        select(LedgerEntry.kind, sa.func.sum(LedgerEntry.revenue), sa.func.sum(LedgerEntry.commission), sa.func.count())
        .where(
            col(LedgerEntry.beneficiary_kind) == kind.value,
            col(LedgerEntry.beneficiary_id) == beneficiary_id,
            in_window(window),
        )
        .group_by(LedgerEntry.kind)
    )
    by_kind = {k: (int(r), int(c), n) for k, r, c, n in await session.exec(statement)}
    return Totals(
        revenue=sum(r for r, _, _ in by_kind.values()),
        commission=sum(c for _, c, _ in by_kind.values()),
        accrued=by_kind.get(EntryKind.ACCRUAL.value, (0, 0, 0))[1],
        reversed=-by_kind.get(EntryKind.REVERSAL.value, (0, 0, 0))[1],
        adjusted=by_kind.get(EntryKind.ADJUSTMENT.value, (0, 0, 0))[1],
        entries=sum(n for _, _, n in by_kind.values()),
    )


def entries_of(kind: Participant, beneficiary_id: int, window: Window):
    """A beneficiary's entries in the window (for a page of her statement)."""
    return select(LedgerEntry).where(
        col(LedgerEntry.beneficiary_kind) == kind.value,
        col(LedgerEntry.beneficiary_id) == beneficiary_id,
        in_window(window),
    )


async def attributions_by_order(session: AsyncSession, order_ids: Sequence[int]) -> dict[int, OrderAttribution]:
    statement = select(OrderAttribution).where(col(OrderAttribution.order_id).in_(list(order_ids)))
    return {row.order_id: row for row in await session.exec(statement)}


async def entries_by_order(session: AsyncSession, order_ids: Sequence[int]) -> dict[int, list[LedgerEntry]]:
    found: dict[int, list[LedgerEntry]] = {order_id: [] for order_id in order_ids}
    statement = select(LedgerEntry).where(col(LedgerEntry.order_id).in_(list(order_ids))).order_by(col(LedgerEntry.id))
    for entry in await session.exec(statement):
        found[entry.order_id].append(entry)
    return found


async def credit_by_beneficiary_kind(session: AsyncSession, livestream_id: int) -> dict[str, tuple[int, int]]:
    """What the sales attributed to a livestream credited each kind of beneficiary: (revenue, commission),
    net of reversals."""
    statement = (
        select(LedgerEntry.beneficiary_kind, sa.func.sum(LedgerEntry.revenue), sa.func.sum(LedgerEntry.commission))
        .where(col(LedgerEntry.livestream_id) == livestream_id)
        .group_by(LedgerEntry.beneficiary_kind)
    )
    return {kind: (int(revenue), int(commission)) for kind, revenue, commission in await session.exec(statement)}


async def top_guides(session: AsyncSession, livestream_id: int, first: int) -> list[tuple[int, int, int]]:
    """The guides the livestream's sales credited most: (staff id, revenue, commission), ranked."""
    revenue, commission = sa.func.sum(LedgerEntry.revenue), sa.func.sum(LedgerEntry.commission)
    statement = (
        select(LedgerEntry.beneficiary_id, revenue, commission)
        .where(
            col(LedgerEntry.livestream_id) == livestream_id,
            col(LedgerEntry.beneficiary_kind) == Participant.GUIDE.value,
        )
        .group_by(LedgerEntry.beneficiary_id)
        .order_by(revenue.desc(), commission.desc(), col(LedgerEntry.beneficiary_id))
        .limit(first)
    )
    return [(guide, int(r), int(c)) for guide, r, c in await session.exec(statement)]


async def store_of_guide(session: AsyncSession, staff_id: int) -> int | None:
    staff = (await staff_by_ids(session, [staff_id])).get(staff_id)
    return staff.store_id if staff else None
