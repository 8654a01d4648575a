"""Subscriptions: bus messages to the resolvers that turn them into objects."""

from __future__ import annotations

from collections.abc import AsyncIterator
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
