"""GraphQL inputs of inventory."""

from __future__ import annotations

import strawberry

from .types import StockMovementReason

IDEMPOTENCY_KEY = "1-128 characters: a retry with the same key by you returns the first result and writes nothing."


@strawberry.input(description="A new warehouse.")
class WarehouseCreateInput:
    code: str = strawberry.field(description="Unique, 2-32 upper-case letters, digits or -, e.g. WH-EAST.")
    name: str = strawberry.field(description="1-100 characters.")
    city: str = strawberry.field(description="1-50 characters.")
    latitude: float = strawberry.field(description="WGS-84, -90 to 90.")
    longitude: float = strawberry.field(description="WGS-84, -180 to 180.")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input(description="Stock received, damaged, sent, or counted at one location.")
class StockAdjustInput:
    location_id: strawberry.ID = strawberry.field(description="The StockLocation (see stockLocations, storeStock).")
    sku_id: strawberry.ID = strawberry.field(description="The Sku.")
    reason: StockMovementReason = strawberry.field(
        description="RECEIPT or TRANSFER_IN add units, DAMAGE or TRANSFER_OUT take available units away, COUNT "
        "sets on hand to what was counted. SALE and RETURN are recorded by orders and refunds only."
    )
    quantity: int = strawberry.field(
        description="Units moved, 1 to 1,000,000; for COUNT the units counted on hand, 0 to 1,000,000."
    )
    note: str = strawberry.field(default="", description="At most 200 characters.")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input(description="Move available units of a SKU from one location to another.")
class StockTransferInput:
    from_location_id: strawberry.ID = strawberry.field(description="The StockLocation sending them.")
    to_location_id: strawberry.ID = strawberry.field(description="The StockLocation receiving them.")
    sku_id: strawberry.ID = strawberry.field(description="The Sku.")
    quantity: int = strawberry.field(description="1 to 1,000,000 units, no more than are available.")
    note: str = strawberry.field(default="", description="At most 200 characters.")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)
