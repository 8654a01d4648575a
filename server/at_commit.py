"""Rows written when their transaction commits: rows nothing reads before then.

The outbox's messages, a booking's click on her timeline, her task's checklist and history, the result of her
idempotency key: each of a surge's bookings writes them, and nothing in the same transaction reads them again.
Queued in the session, they are written together just before COMMIT (by a use case, :func:`write_queued`), in
one statement on PostgreSQL (``server.prepared.run_writes``), where each took a round trip of its own. Only for
such rows: a statement of the same transaction does not see them (SQLAlchemy's own unit of work flushes first;
this does not). Queue only rows whose write cannot fail in a way the caller would handle: an error fails the
commit, far from the code that queued the row.

A rollback drops them; a savepoint rolled back drops those queued since it began (a released one's are the
enclosing transaction's).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction
from sqlmodel.ext.asyncio.session import AsyncSession

from .prepared import QUEUED_AT_COMMIT, Batch, check_defaults_given, keyed, run_writes, update_by_key

_QUEUED = QUEUED_AT_COMMIT  # session.info: [(insert or update, table, row)] queued in its transaction, in order
_SAVEPOINTS = "irs_at_commit_savepoints"  # session.info: open savepoint -> how many were queued when it began


def insert_at_commit(session: AsyncSession, table: sa.Table, rows: Iterable[Mapping[str, Any]]) -> None:
    """Queue ``rows`` of ``table`` for the commit; each must give every column that has a Python-side default
    (refused here, not at the commit). Queue only rows whose write cannot fail in a way the caller would handle:
    an error (a unique key taken, say) fails the commit."""
    rows = list(rows)
    for row in rows:
        check_defaults_given(table, tuple(row))
    _queue(session, _INSERT, table, rows)


def update_at_commit(session: AsyncSession, table: sa.Table, rows: Iterable[Mapping[str, Any]]) -> None:
    """Queue updates of rows of ``table`` written before (each its primary key and the columns to set; a row
    updated twice takes the later values). Not of a row queued by :func:`insert_at_commit`: on PostgreSQL the
    update would not find it."""
    _queue(session, _UPDATE, table, rows)


def _queue(session: AsyncSession, kind: str, table: sa.Table, rows: Iterable[Mapping[str, Any]]) -> None:
    if not session.in_transaction():
        session.sync_session.begin()  # as adding a row would: her rollback must find it to forget the rows
    session.info.setdefault(_QUEUED, []).extend((kind, table, row) for row in rows)


_INSERT, _UPDATE = "insert", "update"


async def write_queued(session: AsyncSession) -> None:
    """Write what the transaction queued, now: a use case does this just before it commits. A savepoint's
    wait for the transaction's commit."""
    inserts, updates = _take(session.sync_session)
    await run_writes(session, inserts, updates)


def _take(session: Session) -> tuple[list[Batch], list[Batch]]:
    """The queued inserts and updates, by table and columns (rows in the order queued within each; on PostgreSQL
    the batches are not written in any one order), an update of a row queued twice merged; none inside a
    savepoint."""
    if session.in_nested_transaction():
        return [], []
    merged: dict[tuple[sa.Table, tuple[Any, ...]], dict[str, Any]] = {}  # per row updated
    batches: dict[tuple[str, sa.Table, tuple[str, ...]], list[Mapping[str, Any]]] = {}
    for kind, table, row in session.info.pop(_QUEUED, ()):
        if kind == _UPDATE:
            merged.setdefault((table, tuple(row[column.name] for column in table.primary_key)), {}).update(row)
        else:
            batches.setdefault((kind, table, tuple(row)), []).append(row)
    for (table, _key), row in merged.items():
        batches.setdefault((_UPDATE, table, tuple(row)), []).append(row)
    inserts: list[Batch] = [(table, rows) for (kind, table, _names), rows in batches.items() if kind == _INSERT]
    updates: list[Batch] = [(table, rows) for (kind, table, _names), rows in batches.items() if kind == _UPDATE]
    return inserts, updates


@event.listens_for(Session, "before_commit")
def _write_left(session: Session) -> None:
    """What is left to write when the session commits (a commit not made by a use case)."""
    # Session.commit() releases open savepoints first, so this runs once for the transaction's own commit.
    inserts, updates = _take(session)
    for table, rows in inserts:
        session.connection().execute(sa.insert(table), list(rows))
    for table, rows in updates:
        session.connection().execute(update_by_key(table), [keyed(table, row) for row in rows])


@event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        session.info.setdefault(_SAVEPOINTS, {})[transaction] = len(session.info.get(_QUEUED, ()))


@event.listens_for(Session, "after_commit")
def _keep_released(session: Session) -> None:
    """A savepoint released: what it queued is the enclosing transaction's now."""
    if session.in_nested_transaction():
        session.info.get(_SAVEPOINTS, {}).pop(session.get_nested_transaction(), None)


@event.listens_for(Session, "after_transaction_end")
def _drop_unreleased(session: Session, transaction: SessionTransaction) -> None:
    """A savepoint that ended unreleased (rolled back, or undone by a failed flush) takes the rows queued since
    it began; the transaction's end, committed or not, leaves nothing to write."""
    if transaction.parent is None:
        session.info.pop(_QUEUED, None)
        session.info.pop(_SAVEPOINTS, None)
    elif transaction.nested:
        began_with = session.info.get(_SAVEPOINTS, {}).pop(transaction, None)
        if began_with is not None:
            del session.info.get(_QUEUED, [])[began_with:]
