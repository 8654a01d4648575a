"""What the domains above identity keep of a customer, forgotten when she is erased.

Identity sits below the domains that store what she wrote (bookings, and later
ones): it cannot import them. Each registers a handler here when it is
imported (the API's schema imports every domain), and :func:`forget` runs them
all inside the erasure's transaction, so she is erased everywhere or nowhere.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

# (session, her person ids: the survivor and those merged into her, now) -> None; must not commit.
ErasureHandler = Callable[[AsyncSession, Collection[int], datetime], Awaitable[None]]

_handlers: dict[str, ErasureHandler] = {}


def on_erasure(domain: str) -> Callable[[ErasureHandler], ErasureHandler]:
    """Register ``domain``'s handler (once: registering again replaces it)."""

    def register(handler: ErasureHandler) -> ErasureHandler:
        _handlers[domain] = handler
        return handler

    return register


async def forget(session: AsyncSession, person_ids: Collection[int], now: datetime) -> None:
    for domain in sorted(_handlers):
        await _handlers[domain](session, person_ids, now)
