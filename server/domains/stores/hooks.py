"""What the domains above stores plug into it.

Inventory keeps a stock location for every store, named and placed as the store is. Stores
cannot call inventory (it sits above), so inventory registers a handler here when its services
are imported (``server.wiring.connect_domains()``), and stores runs the handlers inside its own
transaction whenever a store is created or changed. Handlers must not commit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlmodel.ext.asyncio.session import AsyncSession

from ..common.hooks import Hooks
from .models import Store

# (session, the store as saved) -> None
StoreSavedHandler = Callable[[AsyncSession, Store], Awaitable[None]]

_store_saved: Hooks[StoreSavedHandler] = Hooks()

on_store_saved = _store_saved.register


async def store_saved(session: AsyncSession, store: Store) -> None:
    for handler in _store_saved.handlers():
        await handler(session, store)
