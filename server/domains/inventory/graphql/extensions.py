"""Fields inventory adds to lower domains' types: whether a nearby store has the products asked about."""

from __future__ import annotations

from collections.abc import Sequence

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession

from ....api.type_extensions import extends
from ...stores.graphql.types import NearbyStore
from .. import services


async def _stores_stocking(
    session: AsyncSession, asked: Sequence[tuple[int, tuple[int, ...]]]
) -> dict[tuple[int, tuple[int, ...]], bool]:
    """(store id, product ids) -> whether every one is available there; one statement for the whole list."""
    store_ids = sorted({store_id for store_id, _ in asked})
    product_ids = sorted({p for _, products in asked for p in products})
    stocked = await services.products_in_stock(session, store_ids, product_ids)
    return {(store_id, products): set(products) <= stocked[store_id] for store_id, products in asked}


@extends(
    NearbyStore,
    "products_in_stock",
    description="Whether every product asked about (nearbyStores' productIds) has a SKU with units available "
    "at this store; null when none were asked about.",
)
async def products_in_stock(root: NearbyStore, info: strawberry.Info) -> bool | None:
    if not root._product_ids:
        return None
    stocked: bool = await info.context.loader(_stores_stocking).load((root.store.id, root._product_ids))
    return stocked


INVENTORY_EXTENSIONS = (products_in_stock,)
