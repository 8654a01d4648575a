"""A short cache of confirmed staff accounts: a guide's every request need not re-read her account.

Each signed-in operation checks its token's holder against the database (still active, current
role and store, session not ended). For staff that answer changes only through ``revoke_sessions``
and sign-out, which announce SESSIONS_REVOKED on the bus (``REVOCATIONS_TOPIC``, which every
replica listens to): so a staff member's confirmation is kept for a few seconds and forgotten
at once when such an announcement arrives. The process that revokes forgets at its commit
(``forget_committed``), before its answer leaves; the other replicas when the relay has
published it (well under a second). What would keep a stale answer longer is bounded:

- a lost Redis subscription (the bus's ``interruptions`` count changes): everything kept
  before it is dropped;
- entries live ``ttl_seconds`` at most (IRS_ACCOUNT_CACHE_SECONDS) and there are at most
  ``capacity`` of them (least recently used dropped first);
- if the listener stops, nothing is served from the cache any more.

Customers are not cached: a merge or an erasure changes who a customer is without a revocation,
and a customer in a surge books with one request anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from cachetools import TTLCache

from ...bus import Bus
from ..common.actor import Actor
from .topics import REVOCATIONS_TOPIC, SESSIONS_REVOKED

logger = logging.getLogger("irs.auth")
CAPACITY = 10_000

Key = tuple[str, str | None]  # (actor key, the token's session id)


class StaffConfirmations:
    def __init__(
        self, bus: Bus, ttl_seconds: float, capacity: int = CAPACITY, timer: Callable[[], float] = time.monotonic
    ) -> None:
        self._bus = bus
        self._kept: TTLCache[Key, tuple[Actor, int]] = TTLCache(capacity, ttl_seconds or 1, timer=timer)
        self._enabled = ttl_seconds > 0
        self._listener: asyncio.Task | None = None
        self._listening = False
        self.forgotten = 0  # revocations seen so far: a confirmation read across one is not kept

    async def start(self) -> None:
        if not self._enabled:
            return
        subscribed = asyncio.Event()
        self._listener = asyncio.create_task(self._listen(subscribed), name="staff-confirmations")
        await subscribed.wait()

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener

    def confirmed(self, actor_key: str, session_id: str | None) -> Actor | None:
        """The kept confirmation of this token's holder, or None: read the database."""
        if not self._listening:
            return None
        kept = self._kept.get((actor_key, session_id))
        if kept is None:
            return None
        actor, interruptions = kept
        return actor if interruptions == self._bus.interruptions else None

    @property
    def version(self) -> tuple[int, int]:
        """Take it before reading an account, give it to :meth:`keep` after."""
        return self.forgotten, self._bus.interruptions

    def keep(self, actor_key: str, session_id: str | None, actor: Actor | None, read_at: tuple[int, int]) -> None:
        """Remember a confirmation the database just gave (only a staff member's, and only a yes).

        ``read_at`` is :attr:`version` taken before the read: if a revocation arrived meanwhile (or the bus
        may have lost one), the read may predate its commit, so it is not kept (the next operation reads again).
        """
        if read_at != self.version:
            return
        if self._listening and actor is not None and actor.is_staff and actor.key == actor_key:
            self._kept[(actor_key, session_id)] = (actor, read_at[1])

    def forget(self, revocation: dict[str, Any]) -> None:
        """A SESSIONS_REVOKED payload: one session of the account ended, or (no sessionId) all of them."""
        self.forgotten += 1
        actor_key, session_id = str(revocation.get("actorKey")), revocation.get("sessionId")
        if session_id is not None:
            self._kept.pop((actor_key, session_id), None)
            return
        for key in [key for key in list(self._kept.keys()) if key[0] == actor_key]:
            self._kept.pop(key, None)

    def forget_committed(self, written: Sequence[Any]) -> None:
        """A commit listener (server.db): the revocations this process just committed take effect here at once."""
        for message in written:
            if message.event == SESSIONS_REVOKED and message.topic == REVOCATIONS_TOPIC:
                self.forget(message.payload)

    async def _listen(self, subscribed: asyncio.Event) -> None:
        try:
            async with self._bus.subscribe(REVOCATIONS_TOPIC) as messages:
                self._listening = True
                subscribed.set()
                async for message in messages:
                    if message.get("event") == SESSIONS_REVOKED:
                        self.forget(message)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("the staff confirmations stopped listening to revocations; every request reads again")
        finally:
            self._listening = False
            self._kept.clear()
            subscribed.set()
