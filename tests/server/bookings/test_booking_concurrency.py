"""Racing bookings: the database holds the limits (real concurrent transactions, both backends)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import sqlalchemy as sa

from server.domains.bookings.services import BookingRequest, create_booking
from server.domains.common.actor import Actor, ActorKind
from server.domains.common.errors import DomainError
from server.domains.common.ratelimits import AbuseLimits, Limiter
from server.domains.identity.models import Person
from server.domains.schedule.models import CapacityOverride
from server.settings import Settings
from tests.conftest import count_rows

from .helpers import SHANGHAI, give_shifts, next_local

MONDAY = 0


async def persons(db, n: int) -> list[int]:
    async with db.writer() as session:
        rows = [Person() for _ in range(n)]
        session.add_all(rows)
        await session.commit()
        return [row.id for row in rows]


# These races test the database's limits: the per-customer rate limit is set out of their way.
LIMITS = AbuseLimits.from_settings(Settings(limit_bookings_per_customer="1000 per minute"), Limiter.connect(None, ""))


async def attempt(db, person_id: int, request: BookingRequest, now, key: str | None = None) -> str:
    actor = Actor(kind=ActorKind.CUSTOMER, id=person_id)
    async with db.writer() as session:
        try:
            await create_booking(session, actor, request, key, now, LIMITS)
        except DomainError as error:
            return error.problems[0].code.name
    return "OK"


async def test_a_thousand_racers_for_five_seats_make_five_bookings(db, world, clock):
    await give_shifts(db, world)
    slot = next_local(clock, MONDAY, 15)
    async with db.writer() as session:
        session.add(CapacityOverride(store_id=world.ids["shanghai"], day=slot.astimezone(SHANGHAI).date(),
                                     capacity=5))
        await session.commit()
    racers = await persons(db, 1000)
    request = BookingRequest(store_id=world.ids["shanghai"], slot_start=slot)
    outcomes = await asyncio.gather(*(attempt(db, p, request, clock.now()) for p in racers))
    assert outcomes.count("OK") == 5 and outcomes.count("SLOT_FULL") == 995
    assert await count_rows(db, "booking") == 5
    async with db.engine.connect() as connection:
        assert (await connection.execute(sa.text("SELECT booked FROM slot_ledger"))).scalar_one() == 5


async def test_one_customer_racing_for_many_slots_gets_three(db, world, clock):
    await give_shifts(db, world)
    [person] = await persons(db, 1)
    base = next_local(clock, MONDAY, 12)
    requests = [BookingRequest(store_id=world.ids["shanghai"], slot_start=base + timedelta(minutes=30 * n))
                for n in range(12)]
    outcomes = await asyncio.gather(*(attempt(db, person, r, clock.now()) for r in requests))
    assert outcomes.count("OK") == 3 and outcomes.count("TOO_MANY_ACTIVE_BOOKINGS") == 9
    assert await count_rows(db, "booking") == 3


async def test_retries_racing_with_one_key_make_one_booking(db, world, clock):
    await give_shifts(db, world)
    [person] = await persons(db, 1)
    request = BookingRequest(store_id=world.ids["shanghai"], slot_start=next_local(clock, MONDAY, 15))
    outcomes = await asyncio.gather(*(attempt(db, person, request, clock.now(), key="tap") for _ in range(10)))
    assert outcomes == ["OK"] * 10
    assert await count_rows(db, "booking") == 1
    async with db.engine.connect() as connection:
        assert (await connection.execute(sa.text("SELECT booked FROM slot_ledger"))).scalar_one() == 1
