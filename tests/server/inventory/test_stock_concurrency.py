"""Stock under racing transactions and random operations: never negative, never over-reserved, and the
movement ledger always sums to on hand (both backends)."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.clock import utcnow
from server.domains.common.errors import DomainError
from server.domains.inventory import levels
from server.domains.inventory.models import MovementReason, StockLevel, StockMovement
from server.domains.inventory.services import movement_sum
from tests.server.assertions import fetch


async def stock(db, world, units: int) -> tuple[int, int]:
    location, sku = world.ids["loc:shanghai"], world.ids["sku:serum"]
    async with db.writer() as session:
        await levels.add(session, location, sku, units, MovementReason.RECEIPT, levels.Origin("test", "test", utcnow()))
        await session.commit()
    return location, sku


async def test_racing_reservations_take_exactly_what_is_there(db, world):
    location, sku = await stock(db, world, 10)
    in_flight = asyncio.Semaphore(20)

    async def reserve(quantity: int) -> str:
        async with in_flight, db.writer() as session:
            try:
                await levels.reserve(session, location, sku, quantity)
                await session.commit()
            except DomainError as error:
                return error.problems[0].code.name
            return "OK"

    outcomes = await asyncio.gather(*(reserve(1) for _ in range(60)))
    assert outcomes.count("OK") == 10 and outcomes.count("INSUFFICIENT_STOCK") == 50
    (level,) = await fetch(db, StockLevel, location_id=location, sku_id=sku)
    assert (level.on_hand, level.reserved) == (10, 10)


async def test_racing_sales_and_damage_never_take_more_than_on_hand(db, world):
    location, sku = await stock(db, world, 6)
    async with db.writer() as session:
        await levels.reserve(session, location, sku, 3)
        await session.commit()

    async def damage() -> str:
        async with db.writer() as session:
            try:
                await levels.take(session, location, sku, 1, MovementReason.DAMAGE, levels.Origin("d", "t", utcnow()))
                await session.commit()
            except DomainError:
                return "SHORT"
            return "OK"

    async def sell() -> str:
        async with db.writer() as session:
            await levels.sell(session, location, sku, 1, levels.Origin("order:1", "t", utcnow()))
            await session.commit()
            return "SOLD"

    outcomes = await asyncio.gather(*(damage() for _ in range(10)), *(sell() for _ in range(3)))
    assert outcomes.count("SOLD") == 3 and outcomes.count("OK") == 3  # reserved units were not damaged
    (level,) = await fetch(db, StockLevel, location_id=location, sku_id=sku)
    assert (level.on_hand, level.reserved) == (0, 0)
    async with db.reader() as session:
        assert await movement_sum(session, location, sku) == 0


operations = st.lists(
    st.tuples(st.sampled_from(["receive", "damage", "count", "reserve", "release", "sell"]), st.integers(0, 7)),
    min_size=1,
    max_size=25,
)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(steps=operations)
async def test_any_sequence_keeps_the_level_sound_and_the_ledger_equal_to_on_hand(db, world, steps):
    location, sku = world.ids["loc:beijing"], world.ids["sku:lip-red"]
    async with db.writer() as session:
        await session.exec(
            StockLevel.__table__.delete().where(StockLevel.location_id == location)  # type: ignore[attr-defined]
        )
        await session.exec(StockMovement.__table__.delete().where(StockMovement.location_id == location))  # type: ignore[attr-defined]
        await session.commit()
    for name, quantity in steps:
        async with db.writer() as session:
            origin = levels.Origin("p", "t", utcnow())
            try:
                if name == "receive" and quantity:
                    await levels.add(session, location, sku, quantity, MovementReason.RECEIPT, origin)
                elif name == "damage" and quantity:
                    await levels.take(session, location, sku, quantity, MovementReason.DAMAGE, origin)
                elif name == "count":
                    await levels.count(session, location, sku, quantity, origin)
                elif name == "reserve" and quantity:
                    await levels.reserve(session, location, sku, quantity)
                elif name == "release" and quantity:
                    await levels.release(session, location, sku, quantity)
                elif name == "sell" and quantity:
                    await levels.sell(session, location, sku, quantity, origin)
                await session.commit()
            except (DomainError, LookupError):
                await session.rollback()
        async with db.reader() as session:
            level = await session.get(StockLevel, (location, sku))
            on_hand, reserved = (level.on_hand, level.reserved) if level else (0, 0)
            assert 0 <= reserved <= on_hand
            assert await movement_sum(session, location, sku) == on_hand
