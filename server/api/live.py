"""Subscriptions: bus messages to the resolvers that turn them into objects."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import strawberry


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
