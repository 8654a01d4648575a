"""The arithmetic of pricing a cart with coupons: pure functions, no database (property-tested).

Stacking rules
--------------
1. At most one coupon per campaign; coupons of different campaigns stack.
2. A coupon applies to the cart lines whose product is among its campaign's products or whose category
   is among its categories; when both lists are empty, to every line.
3. Whether a coupon applies at all is decided on the cart as given, before any coupon: it needs an
   applicable line, and a THRESHOLD coupon needs its applicable lines to add up to minSpend or more.
4. Coupons apply one after another in a fixed order: FIXED and THRESHOLD first, then PERCENT; within
   each group by campaign id. Each takes its discount from what is left of its applicable lines after
   the coupons before it.
5. FIXED and THRESHOLD take amountOff; PERCENT takes percentOff % of what is left, rounded down to the
   fen, and at most maxDiscount. No coupon takes more than what is left of its lines: no line goes below
   0 and the total discount never exceeds the subtotal.
6. Each coupon's discount is spread over its applicable lines by ``allocate`` (largest remainder) in
   proportion to what is left of each, lines in key order, so its line discounts sum to it exactly.
7. A coupon whose discount comes out 0 (its lines are already fully discounted, or a percent of a few
   fen rounds down to 0) is refused by the caller (COUPON_NOT_APPLICABLE), so she keeps it.

The result does not depend on the order the coupons (or the lines) are given in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..common.money import allocate
from .models import CouponCampaign, DiscountKind


@dataclass(frozen=True)
class CartLine:
    """One line of the caller's cart."""

    key: int  # the caller's line key
    product_id: int
    category_id: int
    amount: int  # the line's subtotal in fen (unit price × quantity)


@dataclass(frozen=True)
class Terms:
    """What a coupon of a campaign takes off, and from what."""

    campaign_id: int
    kind: DiscountKind
    amount_off: int = 0  # fen; FIXED and THRESHOLD
    percent_off: int = 0  # 1-90; PERCENT
    max_discount: int = 0  # fen; PERCENT's cap
    min_spend: int = 0  # fen; THRESHOLD
    product_ids: frozenset[int] = field(default_factory=frozenset)
    category_ids: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def of(cls, campaign: CouponCampaign) -> Terms:
        if campaign.id is None:
            raise ValueError("a campaign's terms need a stored campaign")
        return cls(
            campaign_id=campaign.id,
            kind=DiscountKind(campaign.discount_kind),
            amount_off=campaign.amount_off,
            percent_off=campaign.percent_off,
            max_discount=campaign.max_discount,
            min_spend=campaign.min_spend,
            product_ids=frozenset(campaign.product_ids),
            category_ids=frozenset(campaign.category_ids),
        )

    def applies_to(self, line: CartLine) -> bool:
        if not self.product_ids and not self.category_ids:
            return True
        return line.product_id in self.product_ids or line.category_id in self.category_ids


def refusal(terms: Terms, lines: Sequence[CartLine]) -> str | None:
    """Why a coupon with these terms does not apply to the cart as given (rule 3), or None when it does."""
    applicable = [line for line in lines if terms.applies_to(line)]
    if not applicable:
        return "nothing in the cart is a product or category this coupon applies to"
    spent = sum(line.amount for line in applicable)
    if terms.kind is DiscountKind.THRESHOLD and spent < terms.min_spend:
        return f"what it applies to comes to {spent} fen, short of its minimum spend of {terms.min_spend} fen"
    return None


@dataclass(frozen=True)
class Discount:
    """What one coupon takes off: in total, and from each line (line key -> fen, summing to ``amount``)."""

    campaign_id: int
    amount: int
    line_discounts: dict[int, int]


def stacking_order(terms: Terms) -> tuple[int, int]:
    """Rule 4: FIXED and THRESHOLD before PERCENT, then by campaign id."""
    return (1 if terms.kind is DiscountKind.PERCENT else 0, terms.campaign_id)


def _discount_of(terms: Terms, left: int) -> int:
    if terms.kind is DiscountKind.PERCENT:
        taken = min(left * terms.percent_off // 100, terms.max_discount)
    else:
        taken = terms.amount_off
    return max(0, min(taken, left))


def discounts(lines: Sequence[CartLine], coupons: Sequence[Terms]) -> list[Discount]:
    """Each coupon's discount, in the order they apply (rules 4-6); a coupon that takes nothing has 0.

    Line keys and campaign ids must be unique, amounts 0 or more (else ValueError).
    """
    if len({line.key for line in lines}) != len(lines):
        raise ValueError("cart line keys must be unique")
    if any(line.amount < 0 for line in lines):
        raise ValueError("cart line amounts are 0 or more")
    if len({terms.campaign_id for terms in coupons}) != len(coupons):
        raise ValueError("at most one coupon per campaign")
    ordered_lines = sorted(lines, key=lambda line: line.key)
    left = {line.key: line.amount for line in ordered_lines}
    result = []
    for terms in sorted(coupons, key=stacking_order):
        keys = [line.key for line in ordered_lines if terms.applies_to(line)]
        weights = [left[key] for key in keys]
        amount = _discount_of(terms, sum(weights))
        parts = allocate(amount, weights) if keys else []
        for key, part in zip(keys, parts, strict=True):
            left[key] -= part
        result.append(Discount(terms.campaign_id, amount, {k: p for k, p in zip(keys, parts, strict=True) if p}))
    return result
