"""ledger standings: running sums per board, period and store

Leaderboards read these sums instead of the entries. Every existing entry is added once, as the
ledger's postings do from now on: to its ledger period and to its day in the brand's zone
(IRS_BRAND_TIMEZONE, as the server reads it).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04 15:40:00.000000
"""

import os
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BOARD_OF_BENEFICIARY = {"GUIDE": "GUIDE", "LIVESTREAM_TEAM": "TEAM"}


def upgrade() -> None:
    standing = op.create_table(
        "ledger_standing",
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("board", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("revenue", sa.BigInteger(), nullable=False),
        sa.Column("commission", sa.BigInteger(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("period", "board", "subject_id", "store_id", name=op.f("pk_ledger_standing")),
    )
    _backfill(standing)


def _backfill(standing: sa.Table) -> None:
    zone = ZoneInfo(os.environ.get("IRS_BRAND_TIMEZONE", "Asia/Shanghai"))
    sums: dict[tuple[str, str, int, int], list] = defaultdict(lambda: [0, 0, set()])
    entry = sa.table(
        "ledger_entry",
        *(sa.column(name) for name in ("period", "beneficiary_kind", "beneficiary_id", "store_id")),
        sa.column("occurred_at", sa.DateTime()),  # typed, so SQLite's text comes back as a datetime
        *(sa.column(name) for name in ("livestream_id", "kind", "order_id", "revenue", "commission")),
    )
    entries = op.get_bind().execute(sa.select(*entry.columns))
    for period, kind, beneficiary, store, at, livestream, entry_kind, order, revenue, commission in entries:
        day = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(zone).strftime("%Y-%m-%d")
        boards = [("STORE", store)] + ([("LIVESTREAM", livestream)] if livestream is not None else [])
        if kind in BOARD_OF_BENEFICIARY:
            boards.append((BOARD_OF_BENEFICIARY[kind], beneficiary))
        for board, subject in boards:
            for window in (period, day):
                found = sums[(window, board, subject, store)]
                found[0] += revenue
                found[1] += commission
                if entry_kind == "ACCRUAL":
                    found[2].add(order)
    rows = [
        {
            "period": k[0],
            "board": k[1],
            "subject_id": k[2],
            "store_id": k[3],
            "revenue": r,
            "commission": c,
            "orders": len(orders),
        }
        for k, (r, c, orders) in sorted(sums.items())
    ]
    for start in range(0, len(rows), 5000):
        op.bulk_insert(standing, rows[start : start + 5000])


def downgrade() -> None:
    op.drop_table("ledger_standing")
