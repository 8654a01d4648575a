"""GraphQL types of inventory."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

import strawberry
from strawberry import relay

from ....api.enums import described_enum
from ....api.errors import UserError, user_error_type
from ....api.nodes import load_nodes
from ...catalog.graphql.types import Sku
from ...catalog.skus import skus_by_ids
from ...common.rows import saved_id
from ...stores.graphql.types import GeoPoint, Store
from ...stores.services import stores_by_ids
from .. import services
from ..errors import InventoryErrorCode
from ..models import LocationKind as LocationKindValue
from ..models import MovementReason as MovementReasonValue
from ..models import StockLevel as LevelRow
from ..models import StockLocation as LocationRow
from ..models import StockMovement as MovementRow

INVENTORY_CODE_TEXTS = {
    InventoryErrorCode.INSUFFICIENT_STOCK: "Fewer units are available there than asked for.",
    InventoryErrorCode.SAME_LOCATION: "A transfer must go to another location.",
    InventoryErrorCode.DUPLICATE_CODE: "A stock location with this code exists.",
    InventoryErrorCode.INACTIVE_LOCATION: "The location no longer takes stock.",
}

if TYPE_CHECKING:  # user_error_type builds the class at run time: mypy knows it by its interface
    InventoryUserError = UserError
else:
    InventoryUserError = user_error_type("Inventory", InventoryErrorCode, INVENTORY_CODE_TEXTS)

StockLocationKind = LocationKindValue
described_enum(
    StockLocationKind,
    name="StockLocationKind",
    description="What a stock location is.",
    values={
        StockLocationKind.STORE: "A store's own stock (made for each store the first time it is needed).",
        StockLocationKind.WAREHOUSE: "A warehouse: ships to customers and to stores.",
    },
)
StockMovementReason = MovementReasonValue
described_enum(
    StockMovementReason,
    name="StockMovementReason",
    description="Why on-hand stock changed.",
    values={
        StockMovementReason.RECEIPT: "Goods received (by a manager): adds units.",
        StockMovementReason.COUNT: "A stock count (by a manager): sets on hand to what was counted.",
        StockMovementReason.DAMAGE: "Damaged or lost (by a manager): takes units away.",
        StockMovementReason.TRANSFER_OUT: "Sent to another location: takes units away.",
        StockMovementReason.TRANSFER_IN: "Received from another location: adds units.",
        StockMovementReason.SALE: "Sold by a paid order (recorded by the order).",
        StockMovementReason.RETURN: "Returned by a refund that restocks (recorded by the refund).",
    },
)


@strawberry.type(description="Where stock is kept: a store or a warehouse.")
class StockLocation(relay.Node):
    id: relay.NodeID[int]
    code: str = strawberry.field(description="Unique code, e.g. STORE-S001 or WH-EAST.")
    name: str = strawberry.field(description="Display name.")
    kind: StockLocationKind = strawberry.field(description="A store or a warehouse.")
    city: str = strawberry.field(description="City; may be empty.")
    location: GeoPoint | None = strawberry.field(description="Where it is (WGS-84); null when unknown.")
    active: bool = strawberry.field(description="Whether it takes and gives stock.")
    store_id: strawberry.Private[int | None]

    @strawberry.field(description="The store, when it is a store's stock; null for a warehouse.")
    async def store(self, info: strawberry.Info) -> Store | None:
        if self.store_id is None:
            return None
        row = await info.context.loader(stores_by_ids).load(self.store_id)
        return Store.from_row(row) if row else None

    @classmethod
    def from_row(cls, row: LocationRow) -> StockLocation:
        located = row.latitude is not None and row.longitude is not None
        return cls(
            id=saved_id(row),
            code=row.code,
            name=row.name,
            kind=StockLocationKind(row.kind),
            city=row.city,
            location=GeoPoint(latitude=row.latitude, longitude=row.longitude) if located else None,  # type: ignore[arg-type]  # both set when located
            active=row.active,
            store_id=row.store_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # relay.Node's signature is untyped; this is its form
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[StockLocation | None]:
        return await load_nodes(info, services.locations_by_ids, node_ids, cls.from_row)


@strawberry.type(description="Units of one SKU at one location.")
class StockLevel:
    on_hand: int = strawberry.field(description="Units physically there.")
    reserved: int = strawberry.field(description="Units held for unpaid orders.")
    available: int = strawberry.field(description="Units that can be sold or moved: on hand - reserved.")
    location: StockLocation = strawberry.field(description="Where.")
    distance_meters: int | None = strawberry.field(
        description="From the store asked about (inventory's near); null when not asked or not located."
    )
    sku_id: strawberry.Private[int]

    @strawberry.field(description="Which SKU.")
    async def sku(self, info: strawberry.Info) -> Sku:
        row = await info.context.loader(skus_by_ids).load(self.sku_id)
        return Sku.from_row(row)

    @classmethod
    def of(cls, found: services.Availability, sku_id: int) -> StockLevel:
        distance = found.distance_m
        return cls(
            on_hand=found.on_hand,
            reserved=found.reserved,
            available=found.available,
            location=StockLocation.from_row(found.location),
            distance_meters=round(distance) if distance is not None else None,
            sku_id=sku_id,
        )

    @classmethod
    def from_row(cls, row: LevelRow, location: LocationRow) -> StockLevel:
        return cls.of(services.Availability(location, row.on_hand, row.reserved), row.sku_id)


@strawberry.type(description="Where a SKU can be had: here, in the nearest stores, in the warehouses.")
class SkuInventory:
    sku: Sku = strawberry.field(description="The SKU asked about.")
    here: StockLevel | None = strawberry.field(description="At the store asked about (near); null without one.")
    nearby_stores: list[StockLevel] = strawberry.field(
        description="The 5 nearest other stores with units available, nearest first (distance from near)."
    )
    warehouses: list[StockLevel] = strawberry.field(
        description="Every active warehouse, nearest first when near is given (available may be 0)."
    )


@strawberry.type(description="One change of on-hand stock (append-only: they sum to on hand).")
class StockMovement:
    id: int = strawberry.field(description="Ledger entry number, increasing.")
    quantity: int = strawberry.field(description="Units added to on hand; negative when taken away.")
    reason: StockMovementReason = strawberry.field(description="Why.")
    note: str = strawberry.field(description="What the person who recorded it wrote; may be empty.")
    reference: str = strawberry.field(description="What caused it, e.g. order:12, transfer:…, adjustment:….")
    created_at: datetime = strawberry.field(description="When (UTC).")
    location_id: strawberry.Private[int]
    sku_id: strawberry.Private[int]

    @strawberry.field(description="Where.")
    async def location(self, info: strawberry.Info) -> StockLocation:
        row = await info.context.loader(services.locations_by_ids).load(self.location_id)
        return StockLocation.from_row(row)

    @strawberry.field(description="Which SKU.")
    async def sku(self, info: strawberry.Info) -> Sku:
        row = await info.context.loader(skus_by_ids).load(self.sku_id)
        return Sku.from_row(row)

    @classmethod
    def from_row(cls, row: MovementRow) -> StockMovement:
        return cls(
            id=saved_id(row),
            quantity=row.quantity,
            reason=StockMovementReason(row.reason),
            note=row.note,
            reference=row.reference,
            created_at=row.created_at,
            location_id=row.location_id,
            sku_id=row.sku_id,
        )
