"""Stock levels changed by single conditional statements: correct under concurrency on both databases.

Each function adds to the caller's unit of work. Reserving, selling and taking
stock away check what is there in the UPDATE's own WHERE clause, so two
transactions can never both take the last unit; the table's CHECK constraints
back that up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from ..common.dialect import insert_ignore
from ..common.errors import DomainError
from ..common.rows import exec_any, table_of
from ..common.validation import Path
from .errors import InventoryErrorCode as Code
from .models import MovementReason, StockLevel, StockMovement

_level = table_of(StockLevel)


@dataclass(frozen=True)
class Origin:
    """Who moved stock, when, and what caused it (e.g. order:12), as the movement ledger records it."""

    reference: str
    actor: str
    now: datetime
    note: str = ""


def _at(location_id: int, sku_id: int) -> sa.ColumnElement[bool]:
    return sa.and_(_level.c.location_id == location_id, _level.c.sku_id == sku_id)


def _short(path: Path) -> DomainError:
    problem: DomainError = DomainError.single(Code.INSUFFICIENT_STOCK, "not enough stock available there", path)
    return problem


async def _changed(session: AsyncSession, statement: sa.Update) -> bool:
    return (await session.exec(statement)).rowcount == 1


async def reserve(session: AsyncSession, location_id: int, sku_id: int, quantity: int, path: Path = ()) -> None:
    """Hold ``quantity`` units for an unpaid order, only if that many are available."""
    statement = (
        sa.update(_level)
        .where(_at(location_id, sku_id), _level.c.on_hand - _level.c.reserved >= quantity)
        .values(reserved=_level.c.reserved + quantity)
    )
    if not await _changed(session, statement):
        raise _short(path)


async def release(session: AsyncSession, location_id: int, sku_id: int, quantity: int) -> None:
    """Give back a reservation (an order cancelled, expired, or a line removed)."""
    statement = (
        sa.update(_level)
        .where(_at(location_id, sku_id), _level.c.reserved >= quantity)
        .values(reserved=_level.c.reserved - quantity)
    )
    if not await _changed(session, statement):
        raise LookupError(f"no reservation of {quantity} of SKU {sku_id} at location {location_id}")


async def sell(session: AsyncSession, location_id: int, sku_id: int, quantity: int, origin: Origin) -> None:
    """A paid order takes its reserved units: on hand and reserved both go down, and the sale is a movement."""
    statement = (
        sa.update(_level)
        .where(_at(location_id, sku_id), _level.c.reserved >= quantity, _level.c.on_hand >= quantity)
        .values(on_hand=_level.c.on_hand - quantity, reserved=_level.c.reserved - quantity, updated_at=origin.now)
    )
    if not await _changed(session, statement):
        raise LookupError(f"no reservation of {quantity} of SKU {sku_id} at location {location_id} to sell")
    _record(session, location_id, sku_id, -quantity, MovementReason.SALE, origin)


async def add(
    session: AsyncSession,
    location_id: int,
    sku_id: int,
    quantity: int,
    reason: MovementReason,
    origin: Origin,
) -> None:
    """Units arrive (a receipt, a transfer in, a return): the level row is created when missing."""
    await _ensure_level(session, location_id, sku_id)
    await exec_any(
        session,
        sa.update(_level)
        .where(_at(location_id, sku_id))
        .values(on_hand=_level.c.on_hand + quantity, updated_at=origin.now),
    )
    _record(session, location_id, sku_id, quantity, reason, origin)


async def take(
    session: AsyncSession,
    location_id: int,
    sku_id: int,
    quantity: int,
    reason: MovementReason,
    origin: Origin,
    path: Path = (),
) -> None:
    """Units leave without a sale (damage, a transfer out), only from what is available (not reserved)."""
    statement = (
        sa.update(_level)
        .where(_at(location_id, sku_id), _level.c.on_hand - _level.c.reserved >= quantity)
        .values(on_hand=_level.c.on_hand - quantity, updated_at=origin.now)
    )
    if not await _changed(session, statement):
        raise _short(path)
    _record(session, location_id, sku_id, -quantity, reason, origin)


async def count(
    session: AsyncSession,
    location_id: int,
    sku_id: int,
    counted: int,
    origin: Origin,
    path: Path = (),
) -> int:
    """A stock count sets on hand to what was counted; the difference is the movement (0 when the count
    agrees: the count is on record). Returns the difference.

    The row is locked first (FOR UPDATE; SQLite's writers are serialised), so the difference is
    taken from the value the update replaces. Counting fewer than are reserved is refused.
    """
    await _ensure_level(session, location_id, sku_id)
    locked = sa.select(_level.c.on_hand, _level.c.reserved).where(_at(location_id, sku_id)).with_for_update()
    row = (await exec_any(session, locked)).one()
    if counted < row.reserved:
        raise DomainError.single(
            Code.INSUFFICIENT_STOCK, f"{row.reserved} units are reserved for unpaid orders: count at least that", path
        )
    difference: int = counted - row.on_hand
    await exec_any(
        session, sa.update(_level).where(_at(location_id, sku_id)).values(on_hand=counted, updated_at=origin.now)
    )
    _record(session, location_id, sku_id, difference, MovementReason.COUNT, origin)
    return difference


async def _ensure_level(session: AsyncSession, location_id: int, sku_id: int) -> None:
    empty = {"location_id": location_id, "sku_id": sku_id, "on_hand": 0, "reserved": 0}
    await exec_any(session, insert_ignore(session, StockLevel, empty))


def _record(
    session: AsyncSession, location_id: int, sku_id: int, quantity: int, reason: MovementReason, origin: Origin
) -> None:
    session.add(
        StockMovement(
            location_id=location_id,
            sku_id=sku_id,
            quantity=quantity,
            reason=reason.value,
            reference=origin.reference,
            actor=origin.actor,
            note=origin.note,
            created_at=origin.now,
        )
    )


async def available(session: AsyncSession, location_id: int, sku_id: int) -> int:
    """Units of a SKU that can be reserved at a location now (0 when none was ever kept there)."""
    found = (
        await exec_any(session, sa.select(_level.c.on_hand - _level.c.reserved).where(_at(location_id, sku_id)))
    ).first()
    return int(found[0]) if found else 0
