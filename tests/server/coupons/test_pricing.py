"""The arithmetic of coupons in a cart (pure, no database): the stacking rules by example, and their
invariants by property: exact splits, never more than the cart, no line below 0, any order of codes."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from server.domains.coupons.models import DiscountKind
from server.domains.coupons.pricing import CartLine, Terms, discounts, refusal

SERUM, LIPSTICK, MASK = 1, 2, 3
SKINCARE, MAKEUP = 10, 20


def line(key: int, amount: int, product: int = SERUM, category: int = SKINCARE) -> CartLine:
    return CartLine(key=key, product_id=product, category_id=category, amount=amount)


def fixed(campaign: int, off: int, **scope) -> Terms:
    return Terms(campaign_id=campaign, kind=DiscountKind.FIXED, amount_off=off, **scope)


def percent(campaign: int, pct: int, cap: int, **scope) -> Terms:
    return Terms(campaign_id=campaign, kind=DiscountKind.PERCENT, percent_off=pct, max_discount=cap, **scope)


def threshold(campaign: int, spend: int, off: int, **scope) -> Terms:
    return Terms(campaign_id=campaign, kind=DiscountKind.THRESHOLD, min_spend=spend, amount_off=off, **scope)


def test_a_fixed_discount_is_spread_over_its_lines_in_proportion():
    [d] = discounts([line(1, 10000), line(2, 5000)], [fixed(1, 2000)])
    assert (d.amount, d.line_discounts) == (2000, {1: 1333, 2: 667})


def test_fixed_and_threshold_apply_before_percent_and_percent_takes_from_what_is_left():
    cart = [line(1, 10000)]
    result = discounts(cart, [percent(1, 10, 5000), fixed(9, 2000)])
    assert [(d.campaign_id, d.amount) for d in result] == [(9, 2000), (1, 800)]  # 10% of 8000, not of 10000


def test_within_a_group_coupons_apply_by_campaign_id():
    result = discounts([line(1, 1000)], [fixed(5, 700), threshold(3, 500, 400)])
    assert [(d.campaign_id, d.amount) for d in result] == [(3, 400), (5, 600)]  # the second only takes what is left


def test_percent_is_rounded_down_to_the_fen_and_capped():
    assert discounts([line(1, 999)], [percent(1, 15, 10000)])[0].amount == 149  # 149.85
    assert discounts([line(1, 100000)], [percent(1, 50, 3000)])[0].amount == 3000


def test_a_discount_never_takes_more_than_is_left():
    assert discounts([line(1, 3000)], [fixed(1, 5000)])[0].line_discounts == {1: 3000}
    first, second = discounts([line(1, 3000)], [fixed(1, 3000), fixed(2, 100)])
    assert (first.amount, second.amount, second.line_discounts) == (3000, 0, {})


def test_a_coupon_applies_to_its_products_or_its_categories_only():
    cart = [line(1, 10000, SERUM, SKINCARE), line(2, 4000, LIPSTICK, MAKEUP), line(3, 6000, MASK, SKINCARE)]
    [by_product] = discounts(cart, [fixed(1, 1000, product_ids=frozenset({LIPSTICK}))])
    assert by_product.line_discounts == {2: 1000}
    [by_category] = discounts(cart, [fixed(1, 1000, category_ids=frozenset({SKINCARE}))])
    assert by_category.line_discounts == {1: 625, 3: 375}
    [either] = discounts(cart, [fixed(1, 1000, product_ids=frozenset({LIPSTICK}), category_ids=frozenset({999}))])
    assert either.line_discounts == {2: 1000}


def test_whether_a_coupon_applies_is_decided_on_the_cart_as_given():
    cart = [line(1, 20000, SERUM, SKINCARE), line(2, 9000, LIPSTICK, MAKEUP)]
    assert refusal(fixed(1, 100), cart) is None
    assert "nothing in the cart" in refusal(fixed(1, 100, product_ids=frozenset({MASK})), cart)
    assert refusal(threshold(1, 29000, 5000), cart) is None
    assert "short of its minimum spend" in refusal(threshold(1, 29001, 5000), cart)
    assert "short of" in refusal(threshold(1, 10000, 500, category_ids=frozenset({MAKEUP})), cart)


def test_the_last_fen_goes_to_the_largest_remainder_then_the_larger_line_then_the_lower_key():
    assert discounts([line(1, 100), line(2, 100), line(3, 100)], [fixed(1, 100)])[0].line_discounts == {
        1: 34,
        2: 33,
        3: 33,
    }
    assert discounts([line(7, 100), line(3, 100)], [fixed(1, 1)])[0].line_discounts == {3: 1}


# --- properties -----------------------------------------------------------------------------------

amounts = st.one_of(st.integers(0, 100_000), st.integers(0, 10**10))
carts = st.lists(
    st.builds(
        CartLine,
        key=st.integers(1, 50),
        product_id=st.integers(1, 4),
        category_id=st.integers(1, 3),
        amount=amounts,
    ),
    min_size=1,
    max_size=8,
    unique_by=lambda cart_line: cart_line.key,
)
scopes = st.fixed_dictionaries(
    {
        "product_ids": st.frozensets(st.integers(1, 4), max_size=2),
        "category_ids": st.frozensets(st.integers(1, 3), max_size=2),
    }
)


@st.composite
def coupon_terms(draw, campaign_id: int) -> Terms:
    kind = draw(st.sampled_from(DiscountKind))
    scope = draw(scopes)
    if kind is DiscountKind.PERCENT:
        return percent(campaign_id, draw(st.integers(1, 90)), draw(st.integers(1, 10**9)), **scope)
    off = draw(st.integers(1, 10**8))
    if kind is DiscountKind.THRESHOLD:
        return threshold(campaign_id, off + draw(st.integers(1, 10**8)), off, **scope)
    return fixed(campaign_id, off, **scope)


coupon_sets = st.lists(st.integers(1, 1000), max_size=5, unique=True).flatmap(
    lambda ids: st.tuples(*(coupon_terms(i) for i in ids)).map(list)
)


@settings(max_examples=400, deadline=None)
@given(cart=carts, coupons=coupon_sets)
def test_every_split_is_exact_and_no_line_goes_below_zero(cart, coupons):
    result = discounts(cart, coupons)
    by_id = {t.campaign_id: t for t in coupons}
    order = [(by_id[d.campaign_id].kind is DiscountKind.PERCENT, d.campaign_id) for d in result]
    assert order == sorted(order) and len(result) == len(coupons)  # FIXED and THRESHOLD first, then by id
    taken = dict.fromkeys((item.key for item in cart), 0)
    for d in result:
        assert sum(d.line_discounts.values()) == d.amount >= 0
        assert all(part > 0 for part in d.line_discounts.values())
        terms = by_id[d.campaign_id]
        assert all(terms.applies_to(item) for item in cart if item.key in d.line_discounts)
        assert d.amount <= (terms.max_discount if terms.kind is DiscountKind.PERCENT else terms.amount_off)
        for key, part in d.line_discounts.items():
            taken[key] += part
    assert all(taken[item.key] <= item.amount for item in cart)
    assert sum(d.amount for d in result) <= sum(item.amount for item in cart)


@settings(max_examples=200, deadline=None)
@given(cart=carts, coupons=coupon_sets, data=st.data())
def test_the_result_does_not_depend_on_the_order_of_the_codes_or_the_lines(cart, coupons, data):
    expected = discounts(cart, coupons)
    shuffled_coupons = data.draw(st.permutations(coupons))
    shuffled_cart = data.draw(st.permutations(cart))
    assert discounts(shuffled_cart, shuffled_coupons) == expected


def test_every_order_of_three_codes_gives_one_result():
    cart = [line(1, 12345), line(2, 6789, LIPSTICK, MAKEUP)]
    coupons = [percent(4, 33, 100000), fixed(2, 999), threshold(7, 5000, 1234)]
    results = {repr(discounts(cart, list(order))) for order in itertools.permutations(coupons)}
    assert len(results) == 1


@settings(max_examples=200, deadline=None)
@given(cart=carts, off=st.integers(1, 10**9))
def test_a_lone_fixed_coupon_takes_the_lesser_of_its_amount_and_the_cart(cart, off):
    [d] = discounts(cart, [fixed(1, off)])
    assert d.amount == min(off, sum(item.amount for item in cart))
