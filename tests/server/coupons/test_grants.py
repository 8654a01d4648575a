"""Coupons granted outside the claim flow (referral rewards): once per reason key, even when asked at
the same time, within the campaign's stock; an unknown, switched-off or sold-out campaign grants none
and leaves the caller's transaction standing."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from server.domains.coupons.models import Coupon, CouponCampaign, CouponGrant
from server.domains.coupons.services import grant_coupon
from server.outbox import OutboxMessage
from tests.conftest import count_rows
from tests.server.assertions import fetch

from .helpers import add_livestream, persons, stored_campaign


async def grant(db, campaign_id: int, person_id: int, now, reason_key: str | None) -> int | None:
    async with db.writer() as session:
        granted = await grant_coupon(session, campaign_id, person_id, now, reason_key=reason_key)
        await session.commit()
        return granted


async def test_a_grant_is_given_once_per_reason_and_takes_the_stock(db, world, clock):
    campaign = await stored_campaign(db, world, await add_livestream(db, world, clock), clock.now(), total_stock=5)
    [her] = await persons(db, 1)
    first = await grant(db, campaign, her, clock.now(), "referral:order:1")
    assert first is not None
    assert await grant(db, campaign, her, clock.now(), "referral:order:1") == first
    second = await grant(db, campaign, her, clock.now(), "referral:order:2")
    assert second not in (None, first)
    coupons = await fetch(db, Coupon)
    assert {c.id for c in coupons} == {first, second} and {c.person_id for c in coupons} == {her}
    [row] = await fetch(db, CouponCampaign)
    assert row.claimed == 2
    assert {g.reason_key: g.coupon_id for g in await fetch(db, CouponGrant)} == {
        "referral:order:1": first,
        "referral:order:2": second,
    }
    assert len([m for m in await fetch(db, OutboxMessage) if m.event == "GRANTED"]) == 2


async def test_racing_grants_for_one_reason_give_one_coupon(db, world, clock):
    campaign = await stored_campaign(db, world, await add_livestream(db, world, clock), clock.now(), total_stock=50)
    [her] = await persons(db, 1)
    answers = await asyncio.gather(*(grant(db, campaign, her, clock.now(), "referral:order:7") for _ in range(10)))
    assert len(set(answers)) == 1 and answers[0] is not None
    assert await count_rows(db, "coupon") == 1 and await count_rows(db, "coupon_grant") == 1
    [row] = await fetch(db, CouponCampaign)
    assert row.claimed == 1


async def test_grants_stop_at_the_stock(db, world, clock):
    campaign = await stored_campaign(db, world, await add_livestream(db, world, clock), clock.now(), total_stock=3)
    people = await persons(db, 8)
    answers = await asyncio.gather(*(grant(db, campaign, p, clock.now(), f"referral:{p}") for p in people))
    assert Counter(a is None for a in answers) == {False: 3, True: 5}
    assert await count_rows(db, "coupon") == 3 and await count_rows(db, "coupon_grant") == 3
    [row] = await fetch(db, CouponCampaign)
    assert row.claimed == 3


async def test_an_unknown_or_switched_off_campaign_grants_nothing(db, world, clock):
    campaign = await stored_campaign(db, world, await add_livestream(db, world, clock), clock.now())
    [her] = await persons(db, 1)
    assert await grant(db, 2**31 - 1, her, clock.now(), "referral:unknown") is None
    async with db.writer() as session:
        row = await session.get(CouponCampaign, campaign)
        row.active = False
        await session.commit()
    assert await grant(db, campaign, her, clock.now(), "referral:off") is None
    assert await count_rows(db, "coupon") == 0 and await count_rows(db, "coupon_grant") == 0


async def test_without_a_reason_each_call_grants_and_a_bad_key_is_a_programming_error(db, world, clock):
    campaign = await stored_campaign(db, world, await add_livestream(db, world, clock), clock.now())
    [her] = await persons(db, 1)
    assert await grant(db, campaign, her, clock.now(), None) != await grant(db, campaign, her, clock.now(), None)
    for bad in ("", "k" * 129):
        with pytest.raises(ValueError):
            await grant(db, campaign, her, clock.now(), bad)
    assert await count_rows(db, "coupon") == 2
