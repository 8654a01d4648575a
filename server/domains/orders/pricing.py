"""An order's prices, from the catalog and the coupons: computed on the server, never taken from the client."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from ..auth.tokens import TokenPolicy
from ..catalog.models import Product, ProductSku
from ..coupons.services import AppliedCoupon, CartLine, apply_coupons


@dataclass(frozen=True)
class PricedLine:
    sku: ProductSku
    product: Product
    quantity: int

    @property
    def unit_price(self) -> int:
        return self.sku.price_amount

    @property
    def subtotal(self) -> int:
        return self.sku.price_amount * self.quantity


@dataclass(frozen=True)
class Priced:
    lines: list[PricedLine]
    coupons: list[AppliedCoupon]

    @property
    def subtotal(self) -> int:
        return sum(line.subtotal for line in self.lines)

    def line_discount(self, index: int) -> int:
        return sum(coupon.line_discounts.get(index, 0) for coupon in self.coupons)

    @property
    def discount(self) -> int:
        return sum(coupon.discount for coupon in self.coupons)

    @property
    def total(self) -> int:
        return self.subtotal - self.discount


async def price(
    session: AsyncSession,
    lines: Sequence[PricedLine],
    *,
    person_id: int,
    store_id: int,
    online: bool,
    coupon_codes: Sequence[str],
    now: datetime,
    tokens: TokenPolicy,
) -> Priced:
    """List prices per line, then the coupons (their rules and stacking are the coupons domain's); line
    keys are the lines' positions."""
    cart = [
        CartLine(key=index, product_id=line.product.id or 0, category_id=line.product.category_id, amount=line.subtotal)
        for index, line in enumerate(lines)
    ]
    coupons = await apply_coupons(
        session,
        person_id=person_id,
        store_id=store_id,
        online=online,
        lines=cart,
        codes=coupon_codes,
        now=now,
        tokens=tokens,
    )
    return Priced(list(lines), coupons)
