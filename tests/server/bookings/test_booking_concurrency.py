"""Racing bookings: the database holds the limits (real concurrent transactions, both backends)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import sqlalchemy as sa

from server.domains.bookings.models import Booking
from server.domains.bookings.services import BookingRequest, create_booking, reschedule_booking
from server.domains.common.actor import Actor, ActorKind
from server.domains.common.errors import DomainError
from server.domains.common.ratelimits import AbuseLimits, Limiter
from server.domains.identity.models import Person
from server.domains.schedule.models import CapacityOverride
from server.domains.tasks.services import TaskPolicy
from server.settings import Settings
from tests.conftest import count_rows
from tests.server.assertions import fetch

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


async def move(db, person_id: int, booking_id: int, slot_start, now) -> str:
    actor = Actor(kind=ActorKind.CUSTOMER, id=person_id)
    async with db.writer() as session:
        try:
            await reschedule_booking(session, actor, booking_id, slot_start, TaskPolicy(), now)
        except DomainError as error:
            return error.problems[0].code.name
    return "OK"


async def seats_for_five(db, world, slot) -> None:
    """Five seats at the slot's time in Shanghai and in Beijing."""
    await give_shifts(db, world, "sh.guide")
    await give_shifts(db, world, "bj.guide")
    async with db.writer() as session:
        session.add_all(
            CapacityOverride(store_id=world.ids[store], day=slot.astimezone(SHANGHAI).date(), capacity=5)
            for store in ("shanghai", "beijing")
        )
        await session.commit()


async def scalars(db, sql: str) -> list:
    async with db.engine.connect() as connection:
        return list((await connection.execute(sa.text(sql))).scalars().all())


async def test_a_thousand_racers_for_five_seats_make_five_bookings(db, world, clock):
    await give_shifts(db, world)
    slot = next_local(clock, MONDAY, 15)
    async with db.writer() as session:
        session.add(CapacityOverride(store_id=world.ids["shanghai"], day=slot.astimezone(SHANGHAI).date(), capacity=5))
        await session.commit()
    racers = await persons(db, 1000)
    request = BookingRequest(store_id=world.ids["shanghai"], slot_start=slot)
    # 25 in flight at once, all racing for the same row, within the pool's 30 connections: more
    # would only queue for a connection, and on a loaded machine the last of 1,000 waited past the
    # pool's 30 s timeout (a failure that said nothing about seats).
    in_flight = asyncio.Semaphore(25)

    async def racer(person: int) -> str:
        async with in_flight:
            return await attempt(db, person, request, clock.now())

    outcomes = await asyncio.gather(*(racer(p) for p in racers))
    assert outcomes.count("OK") == 5 and outcomes.count("SLOT_FULL") == 995
    assert await count_rows(db, "booking") == 5
    async with db.engine.connect() as connection:
        assert (await connection.execute(sa.text("SELECT booked FROM slot_ledger"))).scalar_one() == 5


async def test_one_customer_racing_for_many_slots_gets_three(db, world, clock):
    await give_shifts(db, world)
    [person] = await persons(db, 1)
    base = next_local(clock, MONDAY, 12)
    requests = [
        BookingRequest(store_id=world.ids["shanghai"], slot_start=base + timedelta(minutes=30 * n)) for n in range(12)
    ]
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
        record = (await connection.execute(sa.text("SELECT result_id FROM idempotency_record"))).scalar_one()
        assert record == (await connection.execute(sa.text("SELECT id FROM booking"))).scalar_one()


async def test_one_customer_racing_for_one_moment_at_two_stores_gets_one_booking(db, world, clock):
    slot = next_local(clock, MONDAY, 15)
    await seats_for_five(db, world, slot)
    [person] = await persons(db, 1)
    requests = [
        BookingRequest(store_id=world.ids[store], slot_start=slot)
        for _ in range(5)
        for store in ("shanghai", "beijing")
    ]
    outcomes = await asyncio.gather(*(attempt(db, person, r, clock.now()) for r in requests))
    assert outcomes.count("OK") == 1 and outcomes.count("OVERLAPPING_BOOKING") == 9
    assert await count_rows(db, "booking") == 1
    assert await scalars(db, "SELECT upcoming FROM customer_booking_count") == [1]
    assert sorted(await scalars(db, "SELECT booked FROM slot_ledger")) == [1]


async def test_a_reschedule_racing_a_booking_for_the_same_moment_leaves_her_in_one_place(db, world, clock):
    slot = next_local(clock, MONDAY, 15)
    await seats_for_five(db, world, slot)
    for person in await persons(db, 5):  # each: her noon booking moves to 15:00 while she books 15:00 elsewhere
        actor = Actor(kind=ActorKind.CUSTOMER, id=person)
        async with db.writer() as session:
            noon = await create_booking(
                session,
                actor,
                BookingRequest(store_id=world.ids["shanghai"], slot_start=next_local(clock, MONDAY, 12)),
                None,
                clock.now(),
                LIMITS,
            )
        outcomes = await asyncio.gather(
            move(db, person, noon.id, slot, clock.now()),
            attempt(db, person, BookingRequest(store_id=world.ids["beijing"], slot_start=slot), clock.now()),
        )
        assert sorted(outcomes) == ["OK", "OVERLAPPING_BOOKING"], outcomes
        held = [b for b in await fetch(db, Booking, person_id=person) if b.slot_start == slot]
        assert len(held) == 1 and held[0].status == "CONFIRMED"
