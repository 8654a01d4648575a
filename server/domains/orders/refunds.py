"""What a refund does to an order: which units of which lines, for how much, and whether they go back on
the shelf. Payments (above) decides how the money goes back and calls :func:`apply_refund`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from ...outbox import emit
from ..common.errors import DomainError
from ..common.rows import saved_id
from ..common.validation import Validator
from ..inventory import levels
from ..inventory.models import MovementReason
from .errors import OrderErrorCode as Code
from .models import OrderLine, SalesOrder
from .topics import ALL_ORDERS_TOPIC, store_orders_topic

MAX_REFUND_LINES = 30


@dataclass(frozen=True)
class RefundLine:
    line_id: int
    quantity: int


@dataclass(frozen=True)
class RefundedLine:
    line_id: int
    quantity: int
    amount: int  # fen given back for these units now
    sku_id: int
    product_id: int


def refunded_total(line_total: int, quantity: int, units_refunded: int) -> int:
    """What the first ``units_refunded`` of a line's ``quantity`` units are worth, cumulatively: the whole
    line when all of them are, otherwise the line's total in proportion, rounded down. Each refund gives
    the difference with what was given before, so refunds never exceed the line, in any steps."""
    if units_refunded >= quantity:
        return line_total
    return line_total * units_refunded // quantity


def _check(lines: Sequence[RefundLine], held: dict[int, OrderLine]) -> None:
    check = Validator()
    if not lines:
        check.add(Code.REFUND_EXCEEDS_PAID, "a refund names at least one line", ("lines",))
    check.count(("lines",), lines, MAX_REFUND_LINES)
    seen: set[int] = set()
    for index, asked in enumerate(lines[:MAX_REFUND_LINES]):
        where = ("lines", str(index))
        line = held.get(asked.line_id)
        if line is None:
            check.add(Code.WRONG_FULFILLMENT_STATE, "not a line of this order", (*where, "lineId"))
            continue
        if asked.line_id in seen:
            check.add(Code.WRONG_FULFILLMENT_STATE, "each line once", (*where, "lineId"))
        seen.add(asked.line_id)
        left = line.quantity - line.refunded_quantity
        if not 1 <= asked.quantity <= left:
            check.add(Code.REFUND_EXCEEDS_PAID, f"1 to {left} units of this line can be refunded", (*where, "quantity"))
    check.raise_if_any()


async def apply_refund(
    session: AsyncSession,
    order: SalesOrder,
    lines: Sequence[RefundLine],
    restock: bool,
    actor_key: str,
    now: datetime,
    held: Sequence[OrderLine],
) -> list[RefundedLine]:
    """Mark units of a PAID order's lines refunded (and put them back at their source when ``restock``),
    in the caller's transaction. Refused, writing nothing, beyond what was paid and not yet refunded."""
    by_id = {saved_id(line): line for line in held}
    _check(lines, by_id)
    refunded = []
    for asked in lines:
        line = by_id[asked.line_id]
        before = refunded_total(line.total, line.quantity, line.refunded_quantity)
        after = refunded_total(line.total, line.quantity, line.refunded_quantity + asked.quantity)
        line.refunded_quantity += asked.quantity
        line.refunded_amount += after - before
        if restock:
            origin = levels.Origin(f"order:{order.id}", actor_key, now, "refund")
            await levels.add(
                session, line.source_location_id, line.sku_id, asked.quantity, MovementReason.RETURN, origin
            )
        refunded.append(RefundedLine(asked.line_id, asked.quantity, after - before, line.sku_id, line.product_id))
    amount = sum(r.amount for r in refunded)
    if order.refunded_amount + amount > order.total:  # cannot happen line by line; the database checks it too
        raise DomainError.single(Code.REFUND_EXCEEDS_PAID, "more than was paid", ("lines",))
    order.refunded_amount += amount
    order.updated_at = now
    return refunded


def announce_refund(
    session: AsyncSession,
    order: SalesOrder,
    refund_id: int | None,
    amount: int,
    lines: Sequence[RefundedLine],
    now: datetime,
) -> None:
    """REFUNDED on the order topics: the commission ledger reverses what these units earned."""
    message = {
        "orderId": order.id,
        "storeId": order.store_id,
        "customerId": order.person_id,
        "refundId": refund_id,
        "amount": amount,
        "refundedAmount": order.refunded_amount,
        "total": order.total,
        "currency": order.currency,
        "lines": [{"lineId": r.line_id, "quantity": r.quantity, "amount": r.amount, "skuId": r.sku_id} for r in lines],
    }
    emit(session, store_orders_topic(order.store_id), "REFUNDED", message, now)
    emit(session, ALL_ORDERS_TOPIC, "REFUNDED", message, now)
