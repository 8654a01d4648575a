"""The clock services read. Tests swap it; nothing sleeps for real time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol, overload


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


@overload
def aggregate_time(moment: datetime | str) -> datetime: ...
@overload
def aggregate_time(moment: None) -> None: ...
@overload
def aggregate_time(moment: datetime | str | None) -> datetime | None: ...
def aggregate_time(moment: datetime | str | None) -> datetime | None:
    """A UTC timestamp from an aggregate (min/max), which bypasses the column type: SQLite hands
    back naive UTC text."""
    if moment is None or (isinstance(moment, datetime) and moment.tzinfo is not None):
        return moment
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC)
