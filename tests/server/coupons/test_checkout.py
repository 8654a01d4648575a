"""Pricing a cart with her coupons and redeeming them: the service the orders domain calls inside its
transaction. Every refusal names its code and couponCodes index, and writes nothing."""

from __future__ import annotations

import itertools
from datetime import timedelta

import jwt
import pytest
import sqlalchemy as sa

from server.domains.auth.tokens import TokenPolicy
from server.domains.common.errors import DomainError
from server.domains.coupons import qr
from server.domains.coupons.models import Coupon, DiscountKind, RedemptionChannel
from server.domains.coupons.services import AppliedCoupon, CartLine, apply_coupons, redeem
from server.outbox import OutboxMessage
from tests.conftest import TEST_SECRET, count_rows
from tests.server.assertions import fetch

from .helpers import add_livestream, claim_as, persons, stored_campaign

TOKENS = TokenPolicy(secret=TEST_SECRET)


@pytest.fixture
async def shop(db, world, clock):
    """A live livestream and two customers; ``cart`` is serum ¥890 + lipstick ¥320."""
    live = await add_livestream(db, world, clock)
    her, other = await persons(db, 2)
    cart = [
        CartLine(key=1, product_id=world.ids["serum"], category_id=world.ids["skincare"], amount=89000),
        CartLine(key=2, product_id=world.ids["lipstick"], category_id=world.ids["makeup"], amount=32000),
    ]
    return {"live": live, "her": her, "other": other, "cart": cart, "now": clock.now(), "world": world}


async def coupon_of(db, shop, person: str = "her", **terms) -> Coupon:
    campaign = await stored_campaign(db, shop["world"], shop["live"], shop["now"], **terms)
    coupon = await claim_as(db, shop[person], campaign, shop["now"])
    assert isinstance(coupon, Coupon), coupon
    return coupon


async def price(db, shop, codes, *, store: str = "shanghai", online: bool = False, now=None, person: str = "her"):
    async with db.reader() as session:
        return await apply_coupons(
            session,
            person_id=shop[person],
            store_id=shop["world"].ids[store],
            online=online,
            lines=shop["cart"],
            codes=codes,
            now=now or shop["now"],
            tokens=TOKENS,
        )


async def refusals(db, shop, codes, **options) -> list[tuple[str, tuple[str, ...] | None]]:
    with pytest.raises(DomainError) as refused:
        await price(db, shop, codes, **options)
    return [(p.code.name, p.field) for p in refused.value.problems]


async def test_coupons_of_different_campaigns_stack_in_their_fixed_order(db, shop):
    fixed = await coupon_of(db, shop, amount_off=2000)
    pct = await coupon_of(db, shop, kind=DiscountKind.PERCENT, percent_off=10, max_discount=100000)
    applied = await price(db, shop, [pct.code, fixed.code])
    assert applied == [
        AppliedCoupon(fixed.id, fixed.campaign_id, fixed.code, 2000, {1: 1471, 2: 529}),
        AppliedCoupon(pct.id, pct.campaign_id, pct.code, 11900, {1: 8753, 2: 3147}),  # 10% of 119000
    ]
    for each in applied:
        assert sum(each.line_discounts.values()) == each.discount


async def test_the_order_of_the_codes_does_not_change_the_result(db, shop):
    coupons = [
        await coupon_of(db, shop, amount_off=777),
        await coupon_of(db, shop, kind=DiscountKind.PERCENT, percent_off=33, max_discount=20000),
        await coupon_of(db, shop, kind=DiscountKind.THRESHOLD, min_spend=100000, amount_off=5000),
    ]
    results = [await price(db, shop, [c.code for c in order]) for order in itertools.permutations(coupons)]
    assert all(result == results[0] for result in results)


async def test_a_code_is_read_whatever_its_case_and_spaces_and_a_scanned_qr_token_too(db, shop):
    coupon = await coupon_of(db, shop)
    [typed] = await price(db, shop, [f"  {coupon.code.lower()} "])
    token = qr.encode(TOKENS, coupon.code, shop["now"] + timedelta(days=7))
    [scanned] = await price(db, shop, [token])
    assert typed == scanned and typed.code == coupon.code and typed.discount == 2000


async def test_pricing_writes_nothing(db, shop):
    coupon = await coupon_of(db, shop)
    before = (await count_rows(db, "outbox"), await count_rows(db, "coupon"))
    await price(db, shop, [coupon.code])
    assert (await count_rows(db, "outbox"), await count_rows(db, "coupon")) == before
    [row] = await fetch(db, Coupon)
    assert row.status == "ISSUED"


async def test_no_codes_no_discount(db, shop):
    assert await price(db, shop, []) == []


@pytest.mark.parametrize(
    "given",
    [
        "NOPE234567",
        "",
        "   ",
        "\ud800",
        "\x00\x1b[31m",
        "x" * 10_000,
        "a.b.c",
        "eyJ.eyJ.sig",
        "'; DROP TABLE coupon; --",
    ],
)
async def test_an_unknown_or_unreadable_code_is_not_found(db, shop, given):
    assert await refusals(db, shop, [given]) == [("COUPON_NOT_FOUND", ("couponCodes", "0"))]


async def test_another_customers_coupon_is_not_found(db, shop):
    theirs = await coupon_of(db, shop, person="other")
    assert await refusals(db, shop, [theirs.code]) == [("COUPON_NOT_FOUND", ("couponCodes", "0"))]


async def test_a_qr_token_signed_elsewhere_or_expired_is_not_found(db, shop):
    coupon = await coupon_of(db, shop)
    forged = qr.encode(TokenPolicy(secret="another-secret-" + "y" * 40), coupon.code, shop["now"] + timedelta(days=1))
    expired = qr.encode(TOKENS, coupon.code, shop["now"] - timedelta(seconds=1))
    wrong_audience = jwt.encode({"sub": coupon.code, "exp": 4102444800, "iss": "irs"}, TEST_SECRET)
    for token in (forged, expired, wrong_audience):
        assert await refusals(db, shop, [token]) == [("COUPON_NOT_FOUND", ("couponCodes", "0"))]


async def test_the_same_coupon_twice_is_refused_even_as_code_and_token(db, shop):
    coupon = await coupon_of(db, shop)
    token = qr.encode(TOKENS, coupon.code, shop["now"] + timedelta(days=7))
    assert await refusals(db, shop, [coupon.code, token]) == [("COUPON_DUPLICATE", ("couponCodes", "1"))]


async def test_two_coupons_of_one_campaign_are_refused(db, shop):
    campaign = await stored_campaign(db, shop["world"], shop["live"], shop["now"], per_customer_limit=2)
    first = await claim_as(db, shop["her"], campaign, shop["now"])
    second = await claim_as(db, shop["her"], campaign, shop["now"])
    assert await refusals(db, shop, [first.code, second.code]) == [("COUPON_SAME_CAMPAIGN", ("couponCodes", "1"))]


async def test_a_redeemed_coupon_is_refused(db, shop):
    coupon = await coupon_of(db, shop)
    async with db.writer() as session:
        await redeem(session, await price(db, shop, [coupon.code]), order_id=1, store_id=1, now=shop["now"])
        await session.commit()
    assert await refusals(db, shop, [coupon.code]) == [("COUPON_ALREADY_REDEEMED", ("couponCodes", "0"))]


async def test_a_coupon_is_valid_from_valid_from_until_before_valid_until(db, shop):
    now = shop["now"]
    coupon = await coupon_of(db, shop, valid_from=now + timedelta(hours=1), valid_until=now + timedelta(hours=2))
    for moment in (now, now + timedelta(hours=2)):
        assert await refusals(db, shop, [coupon.code], now=moment) == [("COUPON_NOT_VALID_NOW", ("couponCodes", "0"))]
    assert (await price(db, shop, [coupon.code], now=now + timedelta(hours=1)))[0].discount == 2000


async def test_a_switched_off_campaigns_coupon_is_not_valid_now(db, shop):
    coupon = await coupon_of(db, shop)
    async with db.writer() as session:
        await session.exec(sa.text("UPDATE coupon_campaign SET active = false"))
        await session.commit()
    assert await refusals(db, shop, [coupon.code]) == [("COUPON_NOT_VALID_NOW", ("couponCodes", "0"))]


async def test_the_channel_decides_where_a_coupon_is_redeemed(db, shop):
    in_store = await coupon_of(db, shop, channel=RedemptionChannel.IN_STORE_ONLY)
    online = await coupon_of(db, shop, channel=RedemptionChannel.ONLINE)
    anywhere = await coupon_of(db, shop, channel=RedemptionChannel.ANY)
    assert await refusals(db, shop, [in_store.code, anywhere.code], online=True) == [
        ("COUPON_WRONG_CHANNEL", ("couponCodes", "0"))
    ]
    assert await refusals(db, shop, [anywhere.code, online.code], online=False) == [
        ("COUPON_WRONG_CHANNEL", ("couponCodes", "1"))
    ]
    assert len(await price(db, shop, [online.code, anywhere.code], online=True)) == 2
    assert len(await price(db, shop, [in_store.code, anywhere.code], online=False)) == 2


async def test_a_coupon_for_some_stores_is_refused_elsewhere(db, shop):
    coupon = await coupon_of(db, shop, store_ids=[shop["world"].ids["beijing"]])
    assert await refusals(db, shop, [coupon.code], store="shanghai") == [("COUPON_WRONG_STORE", ("couponCodes", "0"))]
    assert len(await price(db, shop, [coupon.code], store="beijing")) == 1


async def test_a_coupon_needs_a_line_it_applies_to(db, shop):
    world = shop["world"]
    makeup = await coupon_of(db, shop, category_ids=[world.ids["makeup"]])
    [applied] = await price(db, shop, [makeup.code])
    assert applied.line_discounts == {2: 2000}
    shop["cart"] = shop["cart"][:1]  # the serum alone
    assert await refusals(db, shop, [makeup.code]) == [("COUPON_NOT_APPLICABLE", ("couponCodes", "0"))]


async def test_a_threshold_coupon_needs_its_minimum_spend_on_what_it_applies_to(db, shop):
    world = shop["world"]
    reached = await coupon_of(db, shop, kind=DiscountKind.THRESHOLD, min_spend=121000, amount_off=10000)
    short = await coupon_of(
        db, shop, kind=DiscountKind.THRESHOLD, min_spend=40000, amount_off=5000, product_ids=[world.ids["lipstick"]]
    )
    assert await refusals(db, shop, [reached.code, short.code]) == [("COUPON_NOT_APPLICABLE", ("couponCodes", "1"))]
    assert (await price(db, shop, [reached.code]))[0].discount == 10000


async def test_a_coupon_with_nothing_left_to_take_off_is_refused_so_she_keeps_it(db, shop):
    world = shop["world"]
    lipstick = [world.ids["lipstick"]]
    whole = await coupon_of(db, shop, amount_off=32000, product_ids=lipstick)
    more = await coupon_of(db, shop, kind=DiscountKind.PERCENT, percent_off=50, max_discount=9999, product_ids=lipstick)
    assert await refusals(db, shop, [more.code, whole.code]) == [("COUPON_NOT_APPLICABLE", ("couponCodes", "0"))]


async def test_every_refused_code_is_told_at_once(db, shop):
    mine = await coupon_of(db, shop, channel=RedemptionChannel.ONLINE)
    theirs = await coupon_of(db, shop, person="other")
    fine = await coupon_of(db, shop)
    assert await refusals(db, shop, [fine.code, mine.code, theirs.code, fine.code]) == [
        ("COUPON_WRONG_CHANNEL", ("couponCodes", "1")),
        ("COUPON_NOT_FOUND", ("couponCodes", "2")),
        ("COUPON_DUPLICATE", ("couponCodes", "3")),
    ]


async def test_more_than_ten_codes_are_too_many(db, shop):
    assert await refusals(db, shop, ["ABCDEFGHJK"] * 11) == [("TOO_MANY", ("couponCodes",))]


# --- redemption -----------------------------------------------------------------------------------


async def test_redeeming_marks_each_coupon_for_the_order_and_tells_the_campaign(db, shop):
    first = await coupon_of(db, shop)
    second = await coupon_of(db, shop, kind=DiscountKind.PERCENT, percent_off=5, max_discount=1000)
    store = shop["world"].ids["shanghai"]
    later = shop["now"] + timedelta(minutes=5)
    async with db.writer() as session:
        applied = await apply_coupons(
            session,
            person_id=shop["her"],
            store_id=store,
            online=False,
            lines=shop["cart"],
            codes=[first.code, second.code],
            now=later,
            tokens=TOKENS,
        )
        await redeem(session, applied, order_id=42, store_id=store, now=later)
        held = await session.get(Coupon, first.id)
        assert held is not None and held.status == "REDEEMED"  # the session's own copy follows
        await session.commit()
    rows = sorted(await fetch(db, Coupon), key=lambda c: c.id)
    assert [(c.status, c.redeemed_at, c.redeemed_order_id, c.redeemed_store_id) for c in rows] == [
        ("REDEEMED", later, 42, store)
    ] * 2
    messages = [m for m in await fetch(db, OutboxMessage) if m.event == "REDEEMED"]
    assert sorted((m.topic, m.payload["couponId"], m.payload["orderId"]) for m in messages) == [
        (f"coupons.campaign:{first.campaign_id}", first.id, 42),
        (f"coupons.campaign:{second.campaign_id}", second.id, 42),
    ]


async def test_redeeming_a_coupon_twice_refuses_the_second_order_and_it_writes_nothing(db, shop):
    coupon = await coupon_of(db, shop)
    applied = await price(db, shop, [coupon.code])
    async with db.writer() as session:
        await redeem(session, applied, order_id=1, store_id=1, now=shop["now"])
        await session.commit()
    before = await count_rows(db, "outbox")
    async with db.writer() as session:
        with pytest.raises(DomainError) as refused:
            await redeem(session, applied, order_id=2, store_id=2, now=shop["now"])
        await session.rollback()
    assert [(p.code.name, p.field) for p in refused.value.problems] == [("COUPON_ALREADY_REDEEMED", ("couponCodes",))]
    [row] = await fetch(db, Coupon)
    assert (row.redeemed_order_id, row.redeemed_store_id) == (1, 1)
    assert await count_rows(db, "outbox") == before
