"""Leaderboards and statements: sums of ledger entries, nothing else, so a score is the ledger exactly.

A month is a ledger period (what was posted in it, late refunds included); a day is what happened that
day in the brand's zone. Ranks follow credited revenue, then commission, then the id (ties are ordered
the same way every time).

Boards read running sums (``ledger_standing``) that every posting adds its entries to in its own
transaction (``record``), so a board reads about one row per ranked subject however long the ledger.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..common.dialect import add_to_sums
from ..common.rows import exec_any
from ..livestreams.services import livestreams_by_ids
from ..staff.services import staff_by_ids, teams_by_ids
from ..stores.services import stores_by_ids
from .models import EntryKind, LedgerEntry, LedgerStanding, OrderAttribution, Participant
from .periods import Window, day_of


class BoardScope(StrEnum):
    GUIDE = "GUIDE"  # guides, by what they were credited
    STORE = "STORE"  # stores, by every credit of their sales
    LIVESTREAM = "LIVESTREAM"  # livestreams, by every credit of the sales attributed to them
    TEAM = "TEAM"  # livestream teams, by what they were credited
    CITY = "CITY"  # cities, by every credit of their stores' sales


@dataclass(frozen=True)
class Standing:
    key: int | str  # staff, store, livestream or team id; a city's name
    name: str  # "" until named()
    revenue: int
    commission: int
    orders: int
    rank: int = 0


Row = tuple[Any, int, int, int]  # key, revenue, commission, orders
BOARD_OF_BENEFICIARY = {Participant.GUIDE: BoardScope.GUIDE, Participant.LIVESTREAM_TEAM: BoardScope.TEAM}
Key = tuple[str, str, int, int]  # period, board, subject, store


def _boards(entry: Mapping[str, Any]) -> Iterable[tuple[BoardScope, int]]:
    """The boards an entry counts on, and for whom: every entry on its store's and its livestream's,
    a guide's or a team's credit on theirs too (cities fold their stores' sums)."""
    yield BoardScope.STORE, entry["store_id"]
    if entry["livestream_id"] is not None:
        yield BoardScope.LIVESTREAM, entry["livestream_id"]
    if (board := BOARD_OF_BENEFICIARY.get(Participant(entry["beneficiary_kind"]))) is not None:
        yield board, entry["beneficiary_id"]


def in_window(window: Window) -> Any:
    """Entries of the window (statements read a beneficiary's entries themselves)."""
    if window.is_month:
        return col(LedgerEntry.period) == window.name
    return sa.and_(col(LedgerEntry.occurred_at) >= window.start, col(LedgerEntry.occurred_at) < window.end)


KEY_COLUMNS = ("period", "board", "subject_id", "store_id")
SUMMED = ("revenue", "commission", "orders")


async def record(session: AsyncSession, entries: Sequence[Mapping[str, Any]], zone: ZoneInfo) -> None:
    """Add entries just written (their column values) to the standings of their period and of their
    day: one statement."""
    sums: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
    accrued: dict[Key, set[int]] = defaultdict(set)
    for entry in entries:
        day = day_of(entry["occurred_at"], zone)
        for board, subject in _boards(entry):
            for period in (entry["period"], day):
                key = (period, board.value, subject, entry["store_id"])
                sums[key][0] += entry["revenue"]
                sums[key][1] += entry["commission"]
                if entry["kind"] == EntryKind.ACCRUAL.value:
                    accrued[key].add(entry["order_id"])
    rows = [
        {**dict(zip(KEY_COLUMNS, key, strict=True)), "revenue": r, "commission": c, "orders": len(accrued[key])}
        for key, (r, c) in sorted(sums.items())
    ]
    if rows:
        await exec_any(session, add_to_sums(session, LedgerStanding, KEY_COLUMNS, SUMMED), rows)


async def standings(
    session: AsyncSession, scope: BoardScope, window: Window, store_ids: Sequence[int] | None = None
) -> list[Standing]:
    """Every standing of the scope in the window (among ``store_ids``' sales when given), ranked; unnamed."""
    board = BoardScope.STORE if scope is BoardScope.CITY else scope
    conditions = [col(LedgerStanding.period) == window.name, col(LedgerStanding.board) == board.value]
    if store_ids is not None:
        conditions.append(col(LedgerStanding.store_id).in_(list(store_ids)))
    statement = (
        select(
            LedgerStanding.subject_id,
            sa.func.sum(LedgerStanding.revenue),
            sa.func.sum(LedgerStanding.commission),
            sa.func.sum(LedgerStanding.orders),
        )
        .where(*conditions)
        .group_by(col(LedgerStanding.subject_id))
    )
    rows = [(key, int(r), int(c), int(n)) for key, r, c, n in await session.exec(statement)]
    if scope is BoardScope.CITY:
        rows = await _by_city(session, rows)
    ranked = sorted(rows, key=lambda row: (-row[1], -row[2], str(row[0]).zfill(12)))
    return [
        Standing(key, "", revenue, commission, orders, rank)
        for rank, (key, revenue, commission, orders) in enumerate(ranked, start=1)
    ]


async def named(session: AsyncSession, scope: BoardScope, shown: Sequence[Standing]) -> list[Standing]:
    """The standings shown, with their names (a board names its page, not every subject it ranks)."""
    names = await _names(session, scope, [standing.key for standing in shown])
    return [replace(standing, name=names.get(standing.key, str(standing.key))) for standing in shown]


async def credit_of(
    session: AsyncSession, board: BoardScope, window: Window, subject: int | None, store_ids: Sequence[int] | None
) -> tuple[int, int, int]:
    """Revenue, commission and orders credited on one board in the window: one subject's, or every
    subject's among ``store_ids`` (None: all)."""
    conditions = [col(LedgerStanding.period) == window.name, col(LedgerStanding.board) == board.value]
    if subject is not None:
        conditions.append(col(LedgerStanding.subject_id) == subject)
    if store_ids is not None:
        conditions.append(col(LedgerStanding.store_id).in_(list(store_ids)))
    statement = select(
        sa.func.coalesce(sa.func.sum(LedgerStanding.revenue), 0),
        sa.func.coalesce(sa.func.sum(LedgerStanding.commission), 0),
        sa.func.coalesce(sa.func.sum(LedgerStanding.orders), 0),
    ).where(*conditions)
    revenue, commission, orders = (await session.exec(statement)).one()
    return int(revenue), int(commission), int(orders)


async def _by_city(session: AsyncSession, rows: list[Row]) -> list[Row]:
    """Store sums folded into their cities (an order is in one store, so order counts add up)."""
    stores = await stores_by_ids(session, [row[0] for row in rows])
    cities: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for store_id, revenue, commission, orders in rows:
        totals = cities[stores[store_id].city]
        totals[0], totals[1], totals[2] = totals[0] + revenue, totals[1] + commission, totals[2] + orders
    return [(city, totals[0], totals[1], totals[2]) for city, totals in cities.items()]


async def _names(session: AsyncSession, scope: BoardScope, keys: list[Any]) -> dict[Any, str]:
    if scope is BoardScope.CITY:
        return {key: key for key in keys}
    fetch: Any
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


def entries_of(kind: Participant, beneficiary_id: int, window: Window) -> Any:
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
        .group_by(col(LedgerEntry.beneficiary_id))
        .order_by(revenue.desc(), commission.desc(), col(LedgerEntry.beneficiary_id))
        .limit(first)
    )
    return [(guide, int(r), int(c)) for guide, r, c in await session.exec(statement)]


async def store_of_guide(session: AsyncSession, staff_id: int) -> int | None:
    staff = (await staff_by_ids(session, [staff_id])).get(staff_id)
    return staff.store_id if staff else None
