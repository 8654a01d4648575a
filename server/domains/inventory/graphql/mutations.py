"""Inventory mutations: warehouses (HQ_ADMIN), adjustments and transfers (STORE_MANAGER at her store, HQ_ADMIN)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession

from ....api.errors import mutate
from ....api.nodes import local_id
from ....api.permissions import roles
from ...common.actor import Role
from .. import services
from ..models import MovementReason
from ..models import StockLocation as LocationRow
from ..models import StockMovement as MovementRow
from .inputs import StockAdjustInput, StockTransferInput, WarehouseCreateInput
from .types import InventoryUserError, StockLevel, StockLocation, StockMovement


@strawberry.type(description="The answer to warehouseCreate.")
class WarehouseCreatePayload:
    location: StockLocation | None = strawberry.field(
        default=None, description="The new warehouse (or the one a retry's key names); null on errors."
    )
    errors: list[InventoryUserError] = strawberry.field(
        description="Why nothing was written (DUPLICATE_CODE or an input check); empty on success."
    )


@strawberry.type(description="The answer to stockAdjust and stockTransfer.")
class StockMovementPayload:
    movement: StockMovement | None = strawberry.field(
        default=None,
        description="What was recorded (a transfer: its TRANSFER_OUT; a retry: the first answer's); null on errors.",
    )
    level: StockLevel | None = strawberry.field(
        default=None, description="The level at the location afterwards (a transfer: at the sender); null on errors."
    )
    errors: list[InventoryUserError] = strawberry.field(
        description="Why nothing was written (INSUFFICIENT_STOCK, SAME_LOCATION, INACTIVE_LOCATION, NOT_FOUND or "
        "an input check); empty on success."
    )


async def _answer(session: AsyncSession, movement: MovementRow) -> dict[str, Any]:
    level = await services.level_of(session, movement.location_id, movement.sku_id)
    location = await session.get(LocationRow, movement.location_id)
    return {
        "movement": StockMovement.from_row(movement),
        "level": StockLevel.from_row(level, location) if level and location else None,
    }


KEEPERS = roles(Role.STORE_MANAGER, Role.HQ_ADMIN)


@strawberry.type
class InventoryMutation:
    @strawberry.mutation(extensions=roles(Role.HQ_ADMIN), description="Add a warehouse. HQ_ADMIN only.")
    async def warehouse_create(
        self,
        info: strawberry.Info,
        input: Annotated[WarehouseCreateInput, strawberry.argument(description="The new warehouse.")],
    ) -> WarehouseCreatePayload:
        actor = await info.context.viewer()

        async def action(session: AsyncSession) -> dict[str, Any]:
            draft = services.WarehouseDraft(
                code=input.code, name=input.name, city=input.city, latitude=input.latitude, longitude=input.longitude
            )
            row = await services.create_warehouse(session, actor, draft, input.idempotency_key)
            return {"location": StockLocation.from_row(row)}

        return await mutate(info, WarehouseCreatePayload, InventoryUserError, action)

    @strawberry.mutation(
        extensions=KEEPERS,
        description="Record stock received, damaged, sent or counted. A store's manager at her store; "
        "HQ_ADMIN anywhere (warehouses: HQ_ADMIN only).",
    )
    async def stock_adjust(
        self,
        info: strawberry.Info,
        input: Annotated[StockAdjustInput, strawberry.argument(description="Where, what, why and how many.")],
    ) -> StockMovementPayload:
        actor = await info.context.viewer()

        async def action(session: AsyncSession) -> dict[str, Any]:
            adjustment = services.Adjustment(
                location_id=local_id(input.location_id, "StockLocation"),
                sku_id=local_id(input.sku_id, "Sku"),
                reason=MovementReason(input.reason.value),
                quantity=input.quantity,
                note=input.note,
            )
            now = info.context.runtime.clock.now()
            movement = await services.adjust_stock(session, actor, adjustment, now, input.idempotency_key)
            return await _answer(session, movement)

        return await mutate(info, StockMovementPayload, InventoryUserError, action)

    @strawberry.mutation(
        extensions=KEEPERS,
        description="Move available units to another location (one TRANSFER_OUT and one TRANSFER_IN, together). "
        "The sending store's manager, or HQ_ADMIN.",
    )
    async def stock_transfer(
        self,
        info: strawberry.Info,
        input: Annotated[StockTransferInput, strawberry.argument(description="From, to, what and how many.")],
    ) -> StockMovementPayload:
        actor = await info.context.viewer()

        async def action(session: AsyncSession) -> dict[str, Any]:
            transfer = services.Transfer(
                from_location_id=local_id(input.from_location_id, "StockLocation"),
                to_location_id=local_id(input.to_location_id, "StockLocation"),
                sku_id=local_id(input.sku_id, "Sku"),
                quantity=input.quantity,
                note=input.note,
            )
            now = info.context.runtime.clock.now()
            movement = await services.transfer_stock(session, actor, transfer, now, input.idempotency_key)
            return await _answer(session, movement)

        return await mutate(info, StockMovementPayload, InventoryUserError, action)
