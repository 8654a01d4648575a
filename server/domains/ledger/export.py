"""A month's commissions as CSV: one row per beneficiary, the ledger's sums (for payroll)."""

from __future__ import annotations

import csv
import io
from typing import Any

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from ..common.rows import exec_any, select_columns
from ..staff.services import staff_by_ids, teams_by_ids
from ..stores.services import stores_by_ids
from .models import EntryKind, LedgerEntry, Participant
from .periods import is_closed

COLUMNS = (
    "period",
    "closed",
    "beneficiary_kind",
    "beneficiary_id",
    "name",
    "credited_revenue_fen",
    "commission_fen",
    "accrued_commission_fen",
    "reversed_commission_fen",
    "orders",
)


def _sum_of(kind: EntryKind, column: Any) -> Any:
    return sa.func.coalesce(sa.func.sum(sa.case((col(LedgerEntry.kind) == kind.value, column), else_=0)), 0)


async def _names(session: AsyncSession, keys: list[tuple[str, int]]) -> dict[tuple[str, int], str]:
    ids = {kind: [i for k, i in keys if k == kind.value] for kind in Participant}
    names: dict[tuple[str, int], str] = {}
    for kind, fetch, attribute in (
        (Participant.GUIDE, staff_by_ids, "display_name"),
        (Participant.LIVESTREAM_TEAM, teams_by_ids, "name"),
        (Participant.STORE, stores_by_ids, "name"),
    ):
        for row_id, row in (await fetch(session, ids[kind])).items():
            names[(kind.value, row_id)] = getattr(row, attribute)
    return names


async def commissions_csv(session: AsyncSession, period: str) -> str:
    """Every beneficiary credited in ``period`` (YYYY-MM), by kind then id. Referring customers are
    named by id only (no personal data in a payroll file)."""
    statement = (
        select_columns(
            LedgerEntry.beneficiary_kind,
            LedgerEntry.beneficiary_id,
            sa.func.sum(LedgerEntry.revenue),
            sa.func.sum(LedgerEntry.commission),
            _sum_of(EntryKind.ACCRUAL, LedgerEntry.commission),
            _sum_of(EntryKind.REVERSAL, LedgerEntry.commission),
            sa.func.count(sa.distinct(col(LedgerEntry.order_id))),
        )
        .where(col(LedgerEntry.period) == period)
        .group_by(col(LedgerEntry.beneficiary_kind), col(LedgerEntry.beneficiary_id))
        .order_by(col(LedgerEntry.beneficiary_kind), col(LedgerEntry.beneficiary_id))
    )
    rows = list(await exec_any(session, statement))
    names = await _names(session, [(kind, beneficiary) for kind, beneficiary, *_ in rows])
    closed = await is_closed(session, period)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for kind, beneficiary, revenue, commission, accrued, reversed_, orders in rows:
        name = names.get((kind, beneficiary), f"customer {beneficiary}" if kind == Participant.REFERRER.value else "")
        writer.writerow(
            [
                period,
                closed,
                kind,
                beneficiary,
                name,
                int(revenue),
                int(commission),
                int(accrued),
                -int(reversed_),
                orders,
            ]
        )
    return out.getvalue()
