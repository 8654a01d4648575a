"""Racing claims and redemptions: the database holds the stock, her limit and single use (real concurrent
transactions on both backends; on PostgreSQL they truly interleave)."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from server.domains.auth.tokens import TokenPolicy
from server.domains.common.errors import DomainError
from server.domains.coupons.models import Coupon, CouponCampaign, CouponClaimCount
from server.domains.coupons.services import CartLine, apply_coupons, redeem
from server.outbox import OutboxMessage
from tests.conftest import TEST_SECRET, count_rows
from tests.server.assertions import fetch

from .helpers import add_livestream, claim_as, persons, stored_campaign

# Within the pool's 30 connections: more would only queue for a connection (see the booking races).
IN_FLIGHT = 25


def outcome(result) -> str:
    return "OK" if isinstance(result, Coupon) else result


async def test_two_hundred_customers_racing_for_fifty_coupons_get_fifty(db, world, clock):
    live = await add_livestream(db, world, clock)
    campaign = await stored_campaign(db, world, live, clock.now(), total_stock=50)
    racers = await persons(db, 200)
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def racer(person: int) -> str:
        async with gate:
            return outcome(await claim_as(db, person, campaign, clock.now()))

    outcomes = Counter(await asyncio.gather(*(racer(p) for p in racers)))
    assert outcomes == {"OK": 50, "SOLD_OUT": 150}
    assert await count_rows(db, "coupon") == 50
    [row] = await fetch(db, CouponCampaign)
    assert row.claimed == 50
    counters = await fetch(db, CouponClaimCount)
    assert len(counters) == 50 and {c.claimed for c in counters} == {1}
    assert len({c.code for c in await fetch(db, Coupon)}) == 50


async def test_one_customer_firing_ten_claims_gets_her_limit_of_two(db, world, clock):
    live = await add_livestream(db, world, clock)
    campaign = await stored_campaign(db, world, live, clock.now(), per_customer_limit=2)
    [her] = await persons(db, 1)
    outcomes = Counter(
        outcome(r) for r in await asyncio.gather(*(claim_as(db, her, campaign, clock.now()) for _ in range(10)))
    )
    assert outcomes == {"OK": 2, "CLAIM_LIMIT_REACHED": 8}
    assert await count_rows(db, "coupon") == 2
    [counter] = await fetch(db, CouponClaimCount)
    assert counter.claimed == 2
    [row] = await fetch(db, CouponCampaign)
    assert row.claimed == 2


async def test_retries_racing_with_one_key_make_one_coupon(db, world, clock):
    live = await add_livestream(db, world, clock)
    campaign = await stored_campaign(db, world, live, clock.now(), per_customer_limit=5)
    [her] = await persons(db, 1)
    results = await asyncio.gather(*(claim_as(db, her, campaign, clock.now(), key="tap") for _ in range(10)))
    assert {outcome(r) for r in results} == {"OK"} and len({r.id for r in results}) == 1
    assert await count_rows(db, "coupon") == 1
    [row] = await fetch(db, CouponCampaign)
    assert row.claimed == 1


@pytest.mark.parametrize("orders", [2, 20])
async def test_orders_racing_to_redeem_one_coupon_redeem_it_once(db, world, clock, orders):
    live = await add_livestream(db, world, clock)
    campaign = await stored_campaign(db, world, live, clock.now())
    [her] = await persons(db, 1)
    coupon = await claim_as(db, her, campaign, clock.now())
    store = world.ids["shanghai"]
    cart = [CartLine(key=1, product_id=world.ids["serum"], category_id=world.ids["skincare"], amount=89000)]
    ready = asyncio.Event()
    priced = Counter[str]()

    async def order(order_id: int) -> str:
        """An order's transaction: price the cart with her coupon, then (once every order has priced it,
        so they all saw it ISSUED) redeem it with the order."""
        async with db.writer() as session:
            try:
                applied = await apply_coupons(
                    session,
                    person_id=her,
                    store_id=store,
                    online=False,
                    lines=cart,
                    codes=[coupon.code],
                    now=clock.now(),
                    tokens=TokenPolicy(secret=TEST_SECRET),
                )
                priced["priced"] += 1
                if priced["priced"] == orders or db.is_sqlite:  # SQLite's writers run one at a time
                    ready.set()
                await ready.wait()
                await redeem(session, applied, order_id=order_id, store_id=store, now=clock.now())
                await session.commit()
            except DomainError as error:
                await session.rollback()
                return error.problems[0].code.name
        return "OK"

    outcomes = Counter(await asyncio.gather(*(order(n) for n in range(1, orders + 1))))
    assert outcomes == {"OK": 1, "COUPON_ALREADY_REDEEMED": orders - 1}
    [row] = await fetch(db, Coupon)
    assert row.status == "REDEEMED" and 1 <= row.redeemed_order_id <= orders
    redeemed = [m.payload["orderId"] for m in await fetch(db, OutboxMessage) if m.event == "REDEEMED"]
    assert redeemed == [row.redeemed_order_id]
