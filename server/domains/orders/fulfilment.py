"""After payment: pickup orders are made ready and collected against their code; shipped lines get a
carrier and tracking number, then are delivered. Each step moves lines from one state to the next in one
conditional change, under the order's row lock."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from ...outbox import emit
from ...unit_of_work import use_case
from ..common.actor import Actor, Role
from ..common.errors import DomainError
from ..common.rows import saved_id
from ..common.validation import Validator
from ..messaging.services import MessageKind, queue
from .errors import OrderErrorCode as Code
from .models import LineStatus, OrderLine, OrderStatus, SalesOrder
from .services import lines_of, order_for_update
from .topics import ALL_ORDERS_TOPIC, store_orders_topic

CARRIER_PATTERN = r"[A-Z0-9_]{2,32}"
TRACKING_PATTERN = r"[A-Za-z0-9-]{6,40}"


async def _paid_order(session: AsyncSession, actor: Actor, order_id: int) -> tuple[SalesOrder, list[OrderLine]]:
    actor.require_role(Role.GUIDE, Role.STORE_MANAGER, Role.HQ_ADMIN)
    order = await order_for_update(session, order_id)
    actor.require_store(order.store_id)
    if order.status != OrderStatus.PAID.value:
        raise DomainError.single(Code.WRONG_FULFILLMENT_STATE, f"the order is {order.status}", ("orderId",))
    return order, await lines_of(session, order_id)


def _move(
    lines: Sequence[OrderLine], source: LineStatus, target: LineStatus, now: datetime, path: tuple[str, ...]
) -> list[OrderLine]:
    moving = [line for line in lines if line.status == source.value]
    if not moving:
        raise DomainError.single(Code.WRONG_FULFILLMENT_STATE, f"no line is {source.value}", path)
    for line in moving:
        line.status, line.fulfilled_at = target.value, now
    return moving


def _announce(session: AsyncSession, order: SalesOrder, event: str, lines: Sequence[OrderLine], now: datetime) -> None:
    order.updated_at = now
    message = {"orderId": order.id, "storeId": order.store_id, "lineIds": [line.id for line in lines]}
    emit(session, store_orders_topic(order.store_id), event, message, now)
    emit(session, ALL_ORDERS_TOPIC, event, message, now)


@use_case
async def ready_for_pickup(session: AsyncSession, actor: Actor, order_id: int, brand: str, now: datetime) -> SalesOrder:
    """The store has her pickup lines ready: she is told, with her pickup code, on her message channels."""
    order, lines = await _paid_order(session, actor, order_id)
    moved = _move(lines, LineStatus.TO_PREPARE, LineStatus.READY_FOR_PICKUP, now, ("orderId",))
    await queue(
        session,
        order.person_id,
        MessageKind.ORDER_READY_FOR_PICKUP,
        f"order:{order.id}:ready",
        {"orderId": order.id, "storeId": order.store_id, "pickupCode": order.pickup_code, "brand": brand},
        now,
    )
    _announce(session, order, "READY_FOR_PICKUP", moved, now)
    return order


@use_case
async def pick_up(session: AsyncSession, actor: Actor, order_id: int, pickup_code: str, now: datetime) -> SalesOrder:
    order, lines = await _paid_order(session, actor, order_id)
    if order.pickup_code is None or not hmac.compare_digest(order.pickup_code, pickup_code.strip()[:6]):
        raise DomainError.single(Code.WRONG_PICKUP_CODE, "that is not this order's pickup code", ("pickupCode",))
    moved = _move(lines, LineStatus.READY_FOR_PICKUP, LineStatus.PICKED_UP, now, ("orderId",))
    _announce(session, order, "PICKED_UP", moved, now)
    return order


@use_case
async def ship(
    session: AsyncSession,
    actor: Actor,
    order_id: int,
    line_ids: Sequence[int],
    carrier: str,
    tracking: str,
    now: datetime,
) -> SalesOrder:
    order, lines = await _paid_order(session, actor, order_id)
    check = Validator()
    carrier = check.text(("carrier",), carrier, max_length=32, pattern=CARRIER_PATTERN, pattern_hint="e.g. SF_EXPRESS")
    tracking = check.text(
        ("trackingNumber",), tracking, max_length=40, pattern=TRACKING_PATTERN, pattern_hint="6-40 letters, digits or -"
    )
    check.raise_if_any()
    wanted = set(line_ids) or {saved_id(line) for line in lines if line.status == LineStatus.TO_SHIP.value}
    chosen = [line for line in lines if saved_id(line) in wanted]
    if len(chosen) != len(wanted) or any(line.status != LineStatus.TO_SHIP.value for line in chosen) or not chosen:
        raise DomainError.single(Code.WRONG_FULFILLMENT_STATE, "only paid lines waiting to ship can ship", ("lineIds",))
    for line in chosen:
        line.status, line.fulfilled_at = LineStatus.SHIPPED.value, now
        line.carrier, line.tracking_number = carrier, tracking
    _announce(session, order, "SHIPPED", chosen, now)
    return order


@use_case
async def deliver(session: AsyncSession, actor: Actor, order_id: int, now: datetime) -> SalesOrder:
    order, lines = await _paid_order(session, actor, order_id)
    moved = _move(lines, LineStatus.SHIPPED, LineStatus.DELIVERED, now, ("orderId",))
    _announce(session, order, "DELIVERED", moved, now)
    return order
