"""Inventory queries: what is where, the locations, and the movement ledger."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ....api.errors import query_problem
from ....api.nodes import local_id
from ....api.pagination import After, Connection, First, paginate
from ....api.permissions import roles
from ...catalog.graphql.types import Sku
from ...common.actor import Role
from ...common.errors import DomainError
from .. import services
from ..models import StockMovement as MovementRow
from .types import SkuInventory, StockLevel, StockLocation, StockLocationKind, StockMovement

STAFF = roles(*Role)


@strawberry.type
class InventoryQuery:
    @strawberry.field(
        extensions=STAFF,
        description="Where a SKU can be had: at the store asked about, in the nearest other stores that have it, "
        "and in the warehouses. Any staff member.",
    )
    async def inventory(
        self,
        info: strawberry.Info,
        sku_id: Annotated[strawberry.ID, strawberry.argument(description="The Sku.")],
        near: Annotated[
            strawberry.ID | None, strawberry.argument(description="The Store she is at: here, and distances.")
        ] = None,
    ) -> SkuInventory:
        async with info.context.db() as session:
            try:
                found = await services.sku_availability(
                    session, local_id(sku_id, "Sku"), local_id(near, "Store") if near else None
                )
            except DomainError as error:
                raise query_problem(error) from None
        sku = Sku.from_row(found.sku)
        return SkuInventory(
            sku=sku,
            here=StockLevel.of(found.here, sku.id) if found.here else None,
            nearby_stores=[StockLevel.of(a, sku.id) for a in found.nearby_stores],
            warehouses=[StockLevel.of(a, sku.id) for a in found.warehouses],
        )

    @strawberry.field(extensions=STAFF, description="Stock locations in id order. Any staff member.")
    async def stock_locations(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        kind: Annotated[StockLocationKind | None, strawberry.argument(description="Only this kind.")] = None,
    ) -> Connection[StockLocation]:
        statement = services.location_listing(kind)
        return await paginate(info, statement, StockLocation.from_row, first=first, after=after)

    @strawberry.field(
        extensions=STAFF,
        description="A store's stock location (every store has one); null for an unknown store. Any staff member.",
    )
    async def store_stock_location(
        self, info: strawberry.Info, store_id: Annotated[strawberry.ID, strawberry.argument(description="The Store.")]
    ) -> StockLocation | None:
        async with info.context.db() as session:
            row = await services.find_store_location(session, local_id(store_id, "Store"))
        return StockLocation.from_row(row) if row else None

    @strawberry.field(
        extensions=roles(Role.STORE_MANAGER, Role.HQ_ADMIN, Role.ANALYST),
        description="The movement ledger of a location, newest first: they sum to on hand. A store's manager for "
        "her store; HQ_ADMIN and ANALYST everywhere.",
    )
    async def stock_movements(
        self,
        info: strawberry.Info,
        location_id: Annotated[strawberry.ID, strawberry.argument(description="The StockLocation.")],
        first: First = None,
        after: After = None,
        sku_id: Annotated[strawberry.ID | None, strawberry.argument(description="Only this Sku's.")] = None,
    ) -> Connection[StockMovement]:
        actor = await info.context.viewer()
        location_key = local_id(location_id, "StockLocation")
        if not actor.has_role(Role.HQ_ADMIN, Role.ANALYST):
            async with info.context.db() as session:
                location = await session.get(services.StockLocation, location_key)
            actor.require_store(location.store_id if location else None)
        statement = services.movement_listing(location_key, local_id(sku_id, "Sku") if sku_id else None)
        return await paginate(
            info, statement, StockMovement.from_row, first=first, after=after, newest_by=MovementRow.created_at
        )
