"""What the domains above identity plug into it.

Identity sits below the domains that hold customers' records (bookings, and
later ones): it cannot import them. Each registers its handlers here when its
services are imported (``server.wiring.connect_domains()`` imports them at
start-up), and identity runs them inside its own transaction:

- erasure: forget what she wrote there, so she is erased everywhere or nowhere;
- merges: re-key her records to the surviving person when OneID merges persons;
- store relationships: whether a store's staff may see her, by what that domain knows
  (a booking at the store), and, as a statement, which customers it puts in a store's care
  (the store's customer search).

Handlers must not commit: the identity use case that runs them owns the transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from ..common.hooks import Hooks

# (session, her person ids: the survivor and those merged into her, now) -> None
ErasureHandler = Callable[[AsyncSession, Collection[int], datetime], Awaitable[None]]
# (session, {merged person id: the root she now belongs to}) -> None
MergeHandler = Callable[[AsyncSession, dict[int, int]], Awaitable[None]]
# (session, person id, store id) -> whether that domain puts her in the store's care
StoreRelationshipHandler = Callable[[AsyncSession, int, int], Awaitable[bool]]
# (store id) -> a statement of the person ids that domain puts in the store's care
StoreCustomersHandler = Callable[[int], SelectOfScalar[int]]

_erasure: Hooks[ErasureHandler] = Hooks()
_merges: Hooks[MergeHandler] = Hooks()
_store_relationships: Hooks[StoreRelationshipHandler] = Hooks()
_store_customers: Hooks[StoreCustomersHandler] = Hooks()

on_erasure = _erasure.register
on_merge = _merges.register
on_store_relationship = _store_relationships.register
on_store_customers = _store_customers.register


async def forget(session: AsyncSession, person_ids: Collection[int], now: datetime) -> None:
    for handler in _erasure.handlers():
        await handler(session, person_ids, now)


async def follow_merges(session: AsyncSession, root_of: dict[int, int]) -> None:
    for handler in _merges.handlers():
        await handler(session, root_of)


async def related_elsewhere(session: AsyncSession, person_id: int, store_id: int) -> bool:
    for handler in _store_relationships.handlers():
        if await handler(session, person_id, store_id):
            return True
    return False


def customers_elsewhere(store_id: int) -> list[SelectOfScalar[int]]:
    """Statements of the person ids the domains above put in the store's care."""
    return [handler(store_id) for handler in _store_customers.handlers()]
