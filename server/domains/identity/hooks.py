"""What the domains above identity plug into it.

Identity sits below the domains that hold customers' records (bookings, and
later ones): it cannot import them. Each registers its handlers here when its
services are imported (``server.wiring.connect_domains()`` imports them at
start-up), and identity runs them inside its own transaction:

- erasure: forget what she wrote there, so she is erased everywhere or nowhere;
- merges: re-key her records to the surviving person when OneID merges persons;
- store relationships: whether a store's staff may see her, by what that domain knows
  (a booking at the store).

Handlers must not commit: the identity use case that runs them owns the transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from datetime import datetime
from typing import TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

# (session, her person ids: the survivor and those merged into her, now) -> None
ErasureHandler = Callable[[AsyncSession, Collection[int], datetime], Awaitable[None]]
# (session, {merged person id: the root she now belongs to}) -> None
MergeHandler = Callable[[AsyncSession, dict[int, int]], Awaitable[None]]
# (session, person id, store id) -> whether that domain puts her in the store's care
StoreRelationshipHandler = Callable[[AsyncSession, int, int], Awaitable[bool]]

Handler = TypeVar("Handler")

_erasure: dict[str, ErasureHandler] = {}
_merges: dict[str, MergeHandler] = {}
_store_relationships: dict[str, StoreRelationshipHandler] = {}


def _registrar(registry: dict[str, Handler], domain: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        registry[domain] = handler  # once per domain: registering again replaces it
        return handler

    return register


def on_erasure(domain: str) -> Callable[[ErasureHandler], ErasureHandler]:
    return _registrar(_erasure, domain)


def on_merge(domain: str) -> Callable[[MergeHandler], MergeHandler]:
    return _registrar(_merges, domain)


def on_store_relationship(domain: str) -> Callable[[StoreRelationshipHandler], StoreRelationshipHandler]:
    return _registrar(_store_relationships, domain)


async def forget(session: AsyncSession, person_ids: Collection[int], now: datetime) -> None:
    for domain in sorted(_erasure):
        await _erasure[domain](session, person_ids, now)


async def follow_merges(session: AsyncSession, root_of: dict[int, int]) -> None:
    for domain in sorted(_merges):
        await _merges[domain](session, root_of)


async def related_elsewhere(session: AsyncSession, person_id: int, store_id: int) -> bool:
    for domain in sorted(_store_relationships):
        if await _store_relationships[domain](session, person_id, store_id):
            return True
    return False
