"""Monthly periods of the ledger, in the brand's time zone. A closed period never changes: what happens
to it late (a refund of last month's sale) is posted in the current month instead."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ...outbox import emit
from ...unit_of_work import use_case
from ..common.actor import Actor, Role
from ..common.errors import CommonErrorCode as Common
from ..common.errors import DomainError
from . import cache
from .errors import LedgerErrorCode as Code
from .models import LedgerPeriod
from .topics import LEDGER_TOPIC

MONTH = re.compile(r"(\d{4})-(\d{2})", re.ASCII)
DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)


@dataclass(frozen=True)
class Window:
    """A month (a ledger period) or a day, as UTC instants [start, end)."""

    name: str
    start: datetime
    end: datetime

    @property
    def is_month(self) -> bool:
        return len(self.name) == 7


def period_of(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m")


def day_of(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d")


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone).astimezone(ZoneInfo("UTC"))


def window_of(name: str, zone: ZoneInfo, path: tuple[str, ...] = ("period",)) -> Window:
    """``YYYY-MM`` (a month) or ``YYYY-MM-DD`` (a day) in the brand's zone; INVALID_FORMAT otherwise."""
    try:
        if (month := MONTH.fullmatch(name)) is not None:
            first = date(int(month[1]), int(month[2]), 1)
            following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
            return Window(name, _midnight(first, zone), _midnight(following, zone))
        if (day := DAY.fullmatch(name)) is not None:
            first = date(int(day[1]), int(day[2]), int(day[3]))
            return Window(name, _midnight(first, zone), _midnight(first + timedelta(days=1), zone))
    except (ValueError, OverflowError):  # no such date, or beyond what the brand's zone can express
        pass
    raise DomainError.single(Common.INVALID_FORMAT, "a period is YYYY-MM (a month) or YYYY-MM-DD (a day)", path)


def _insert(session: AsyncSession) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


async def _period_row(session: AsyncSession, period: str, for_update: bool) -> LedgerPeriod:
    """The period's row, created open if missing, and locked: shared by postings, exclusive by a close
    (on PostgreSQL a close waits for postings in flight, and a posting after it sees it closed)."""
    await session.exec(_insert(session)(LedgerPeriod).values(period=period).on_conflict_do_nothing())
    statement = select(LedgerPeriod).where(col(LedgerPeriod.period) == period)
    statement = statement.with_for_update(read=not for_update)
    row = (await session.exec(statement.execution_options(populate_existing=True))).one()
    return row


async def posting_period(session: AsyncSession, at: datetime, now: datetime, zone: ZoneInfo) -> str:
    """The period something that happened ``at`` is posted in: its own month while open, else this one.
    Each period's row is read (and share-locked) once per transaction."""
    own = period_of(at, zone)
    if not await _closed(session, own):
        return own
    current = period_of(now, zone)
    await _closed(session, current)
    return current


async def _closed(session: AsyncSession, period: str) -> bool:
    async def read() -> bool:
        return (await _period_row(session, period, for_update=False)).closed

    return await cache.once(session, f"period:{period}", read)


@use_case
async def close_period(session: AsyncSession, actor: Actor, period: str, now: datetime, zone: ZoneInfo) -> LedgerPeriod:
    """Close a month that is over (HQ_ADMIN): its entries are final from now on."""
    actor.require_role(Role.HQ_ADMIN)
    window = window_of(period, zone)
    if not window.is_month:
        raise DomainError.single(Common.INVALID_FORMAT, "a period to close is a month, YYYY-MM", ("period",))
    if window.end > now:
        raise DomainError.single(Code.PERIOD_NOT_OVER, f"{period} is not over yet", ("period",))
    row = await _period_row(session, period, for_update=True)
    if row.closed:
        raise DomainError.single(Code.PERIOD_CLOSED, f"{period} is closed already", ("period",))
    row.closed, row.closed_at, row.closed_by = True, now, actor.key
    emit(session, LEDGER_TOPIC, "CLOSED", {"period": period}, now)
    return row


async def is_closed(session: AsyncSession, period: str) -> bool:
    row = await session.get(LedgerPeriod, period)
    return bool(row and row.closed)
