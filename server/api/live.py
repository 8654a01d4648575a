"""Subscriptions: bus messages to the resolvers that turn them into objects."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Any

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession
from strawberry.dataloader import DataLoader

# A read of what live events name: the values found by key (a key not found is left out).
LiveRead = Callable[[AsyncSession, Sequence[Any]], Awaitable[Mapping[Any, Any]]]


async def live_messages(info: strawberry.Info, topic: str) -> AsyncIterator[dict[str, Any]]:
    """Each message of ``topic``; load what it names with ``info.context.db()`` (a fresh session).

    Subscribed before anything else, so nothing published meanwhile is missed.
    Between messages the operation holds no database connection (hundreds of
    guides stay connected all day), and a token that expired ends the stream.
    """
    context = info.context
    async with context.runtime.bus.subscribe(topic) as messages:
        await context.renew_session()
        async for message in messages:
            context.require_actor()
            yield message
            await context.renew_session()


class SharedLiveReads:
    """Reads for live events, shared by this process's subscriptions that the same news woke.

    A bus batch wakes every subscription it concerns in one turn of the event loop: the tasks of a surge's
    bookings reach their guides together, and one task's change reaches its guide and her store's queue. Each
    asks for what its message names with :meth:`load`, and one statement reads them all, in a session of its own
    (from the live pool where there is one). Nothing is kept: each event reads the rows as they are at that
    moment. A batch that fails is read again key by key, so a failure ends only the subscriptions it concerns
    (after a database restart, the first statement on a pooled connection fails: the reads again take new ones).
    """

    MAX_BATCH = 100

    def __init__(self, session: Callable[[], contextlib.AbstractAsyncContextManager[AsyncSession]]) -> None:
        self._session = session
        self._loaders: dict[Hashable, DataLoader] = {}

    def load(self, read: LiveRead, key: Any) -> Awaitable[Any]:
        """What ``read`` finds for ``key`` (None: not found), read with the other keys asked in this turn."""
        loader = self._loaders.get(read)
        if loader is None:

            async def batch(keys: list[Any]) -> list[Any]:
                try:
                    return await self._read(read, keys)
                except Exception:
                    if len(keys) == 1:
                        raise
                    return [await self._alone(read, key) for key in keys]

            loader = self._loaders[read] = DataLoader(load_fn=batch, cache=False, max_batch_size=self.MAX_BATCH)
        return loader.load(key)

    async def _read(self, read: LiveRead, keys: list[Any]) -> list[Any]:
        async with self._session() as session:
            found = await read(session, keys)
        return [found.get(key) for key in keys]

    async def _alone(self, read: LiveRead, key: Any) -> Any:
        """``key`` read on its own: its value, or the error its subscription then ends with."""
        try:
            return (await self._read(read, [key]))[0]
        except Exception as error:
            return error


async def coalesced(
    messages: AsyncIterator[dict[str, Any]], min_interval: float, wanted: Callable[[dict[str, Any]], bool]
) -> AsyncIterator[None]:
    """One tick per burst of wanted ``messages``, at most one per ``min_interval`` seconds: whatever
    arrived while the caller was busy or the interval ran is folded into the next tick."""
    changed = asyncio.Event()

    async def listen() -> None:
        async for message in messages:
            if wanted(message):
                changed.set()

    listener = asyncio.create_task(listen())
    loop = asyncio.get_running_loop()
    try:
        while True:
            started = loop.time()
            waiting = asyncio.create_task(changed.wait())
            done, _ = await asyncio.wait([waiting, listener], return_when=asyncio.FIRST_COMPLETED)
            if listener in done:
                waiting.cancel()
                listener.result()  # the stream ended (or failed): so do we
                return
            changed.clear()
            yield None
            await asyncio.sleep(max(0.0, min_interval - (loop.time() - started)))
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener
