"""Abuse limits (sign-in, SMS codes, bookings, event ingestion, check-in codes), counted by the ``limits`` library.

The counters live in Redis when one is configured, so every replica sees one
count; otherwise in this process's memory. Each limit is a moving window: a
hit is refused while the window already holds ``amount`` hits, and the refusal
says how many seconds until the oldest hit leaves it. ``limits`` reads the
system clock (memory) or Redis's key expiry, not the app's injectable clock.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from urllib.parse import quote

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter


class RateLimited(Exception):
    """A limit refused this hit (a refused hit is not counted)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limited; retry after {retry_after} s")
        self.retry_after = retry_after


class Limiter:
    """Moving-window counters on a shared storage."""

    def __init__(self, storage: Storage, close=None) -> None:
        self._strategy = MovingWindowRateLimiter(storage)
        self._close = close

    @classmethod
    def connect(cls, redis_url: str | None, key_prefix: str) -> Limiter:
        """Redis (through redis-py, like the bus) when ``redis_url`` is set, else memory."""
        if not redis_url:
            return cls(MemoryStorage())
        from redis.asyncio import ConnectionPool

        pool = ConnectionPool.from_url(redis_url)
        storage = RedisStorage(
            f"async+{redis_url}",
            implementation="redispy",
            key_prefix=key_prefix,
            # limits passes **options on to redis-py but types them as scalars only.
            connection_pool=pool,  # type: ignore[arg-type]
        )
        return cls(storage, close=pool.aclose)

    async def take(self, rate: RateLimitItem, *key: str) -> None:
        """Count one hit of ``key``, or raise :class:`RateLimited` (and count nothing)."""
        parts = _safe(key)
        if not await self._strategy.hit(rate, *parts):
            stats = await self._strategy.get_window_stats(rate, *parts)
            raise RateLimited(max(1, math.ceil(stats.reset_time - time.time())))

    async def check(self, rate: RateLimitItem, *key: str) -> None:
        """Raise :class:`RateLimited` if ``key``'s window is full, counting nothing (for limits that
        count only failures: :meth:`count` them once they are known)."""
        parts = _safe(key)
        if not await self._strategy.test(rate, *parts):
            stats = await self._strategy.get_window_stats(rate, *parts)
            raise RateLimited(max(1, math.ceil(stats.reset_time - time.time())))

    async def count(self, rate: RateLimitItem, *key: str) -> None:
        """Count one hit of ``key`` whether or not its window is full (a failure that happened)."""
        await self._strategy.hit(rate, *_safe(key))

    async def forget(self, rate: RateLimitItem, *key: str) -> None:
        """Clear ``key``'s count (a proof of identity ends a run of failures)."""
        await self._strategy.clear(rate, *_safe(key))

    async def close(self) -> None:
        if self._close is not None:
            await self._close()


def _named(name: str, rate: str) -> RateLimitItem:
    """The rate (``limits`` notation, e.g. "5 per 15 minutes") counted under its own name, so two
    limits of the same rate on the same key (a phone) keep separate counts."""
    item = parse(rate)
    return type(item)(item.amount, item.multiples, namespace=name)


def _safe(key: tuple[str, ...]) -> list[str]:
    """``limits`` joins identifiers with "/": escape them, so no username can pose as another key."""
    return [quote(part, safe="") for part in key]


@dataclass(frozen=True)
class AbuseLimits:
    """The limits of a running app (built at start from settings), and where they are counted."""

    limiter: Limiter
    sign_in_per_address: RateLimitItem
    sign_in_per_username: RateLimitItem
    sms_requests_per_address: RateLimitItem
    sms_codes_per_phone: RateLimitItem
    sms_checks_per_phone: RateLimitItem
    bookings_per_customer: RateLimitItem
    ingest_calls_per_source: RateLimitItem
    wrong_check_in_codes_per_staff: RateLimitItem
    wrong_check_in_codes_per_store: RateLimitItem

    @classmethod
    def from_settings(cls, settings, limiter: Limiter) -> AbuseLimits:
        names = [name for name in cls.__dataclass_fields__ if name != "limiter"]
        return cls(limiter=limiter, **{name: _named(name, getattr(settings, f"limit_{name}")) for name in names})

    async def take(self, rate: RateLimitItem, *key: str) -> None:
        await self.limiter.take(rate, *key)

    async def check(self, rate: RateLimitItem, *key: str) -> None:
        await self.limiter.check(rate, *key)

    async def count(self, rate: RateLimitItem, *key: str) -> None:
        await self.limiter.count(rate, *key)

    async def forget(self, rate: RateLimitItem, *key: str) -> None:
        await self.limiter.forget(rate, *key)
