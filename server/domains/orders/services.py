"""Order use cases: create, change and cancel while unpaid; settle on payment; expire; look up.

An order reserves its units at each line's source location when it is created
(or a line added), so what the guide promises is held until payment; unpaid
orders expire after ORDER_TTL and give their units back. Payment (the payments
domain, above this one) settles an order with :func:`settle_paid` in its own
transaction: reserved units become sold, coupons are redeemed, the order is
PAID and everything it announces goes to the outbox.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ...db import claim
from ...outbox import emit
from ...unit_of_work import use_case
from ..auth.tokens import TokenPolicy
from ..bookings.reception import complete_by_purchase
from ..bookings.services import bookings_by_ids
from ..catalog.services import products_by_ids
from ..catalog.skus import skus_by_ids
from ..common.actor import Actor, ActorKind, Role
from ..common.errors import CommonErrorCode as Common
from ..common.errors import DomainError, Forbidden
from ..common.idempotency import create_once
from ..common.lookup import rows_by_id
from ..common.rows import saved_id
from ..common.validation import Path, Validator, not_found
from ..coupons.services import AppliedCoupon, redeem
from ..identity.events import EventType, RawEvent
from ..identity.persons import root_person
from ..identity.services import record_person_event
from ..inventory import levels
from ..inventory.services import location_of_store, locations_by_ids, nearest_stocked_warehouse
from ..stores.services import stores_by_ids
from . import refunds
from .addresses import ShippingAddress, checked_address
from .errors import OrderErrorCode as Code
from .models import Fulfillment, LineStatus, OrderChannel, OrderCoupon, OrderLine, OrderStatus, SalesOrder
from .pricing import Priced, PricedLine, price
from .refunds import RefundedLine, RefundLine
from .topics import ALL_ORDERS_TOPIC, store_orders_topic

ORDER_KEY_SCOPE = "orderCreate"
ORDER_TTL = timedelta(minutes=30)
MAX_LINES = 30
MAX_QUANTITY = 99
MAX_COUPONS = 5
SELLERS = (Role.GUIDE, Role.STORE_MANAGER)
ORDER_EVENT_SOURCE = "orders"
ONLINE_FULFILLMENTS = frozenset({Fulfillment.SHIP_TO_HOME, Fulfillment.PICKUP_IN_STORE})
AT_THE_STORE = frozenset({Fulfillment.TAKE_NOW, Fulfillment.PICKUP_IN_STORE})
AFTER_PAYMENT = {
    Fulfillment.TAKE_NOW: LineStatus.COMPLETED,
    Fulfillment.PICKUP_IN_STORE: LineStatus.TO_PREPARE,
    Fulfillment.SHIP_TO_HOME: LineStatus.TO_SHIP,
}
EXPIRY_BATCH = 100


@dataclass(frozen=True)
class LineRequest:
    sku_id: int
    quantity: int
    fulfillment: Fulfillment
    source_location_id: int | None = None


@dataclass(frozen=True)
class OrderRequest:
    store_id: int
    lines: Sequence[LineRequest]
    customer_id: int | None = None  # a customer ordering for herself leaves it out
    coupon_codes: Sequence[str] = ()
    booking_id: int | None = None
    shipping_address: ShippingAddress | None = None


def _seller(actor: Actor, store_id: int) -> None:
    """Guides and managers sell at their own store; a customer orders for herself."""
    if actor.kind is ActorKind.CUSTOMER:
        return
    actor.require_role(*SELLERS)
    actor.require_store(store_id)


def _check_lines(check: Validator, lines: Sequence[LineRequest], online: bool, path: Path = ("lines",)) -> None:
    if not lines:
        check.add(Common.REQUIRED, "an order needs at least one line", path)
    check.count(path, lines, MAX_LINES)
    for index, line in enumerate(lines[:MAX_LINES]):
        where = (*path, str(index))
        check.number_range((*where, "quantity"), line.quantity, 1, MAX_QUANTITY)
        if online and line.fulfillment not in ONLINE_FULFILLMENTS:
            check.add(
                Code.FULFILLMENT_NOT_ALLOWED, "an online order ships or is picked up in store", (*where, "fulfillment")
            )


async def _customer_of(session: AsyncSession, actor: Actor, request: OrderRequest) -> int:
    if actor.kind is ActorKind.CUSTOMER:
        if request.customer_id is not None and request.customer_id != actor.id:
            raise Forbidden("a customer orders for herself")
        return actor.id
    if request.customer_id is None:
        raise DomainError.single(Common.REQUIRED, "whom is she selling to?", ("customerId",))
    person = await root_person(session, request.customer_id)
    if person is None:
        raise not_found("customer", ("customerId",))
    return saved_id(person)


async def _check_booking(session: AsyncSession, booking_id: int | None, person_id: int, store_id: int) -> None:
    if booking_id is None:
        return
    booking = (await bookings_by_ids(session, [booking_id])).get(booking_id)
    if booking is None or booking.store_id != store_id:
        raise DomainError.single(Code.WRONG_BOOKING, "no such booking at this store", ("bookingId",))
    if (await root_person(session, booking.person_id)) != (await root_person(session, person_id)):
        raise DomainError.single(Code.WRONG_BOOKING, "that booking is another customer's", ("bookingId",))


async def _priced_lines(session: AsyncSession, lines: Sequence[LineRequest], path: Path) -> list[PricedLine]:
    skus = await skus_by_ids(session, [line.sku_id for line in lines])
    products = await products_by_ids(session, [sku.product_id for sku in skus.values()])
    check, priced = Validator(), []
    for index, line in enumerate(lines):
        where = (*path, str(index), "skuId")
        sku = skus.get(line.sku_id)
        product = products.get(sku.product_id) if sku else None
        if sku is None or product is None:
            check.add(Common.NOT_FOUND, "SKU not found", where)
        elif not (sku.active and product.active):
            check.add(Code.SKU_UNAVAILABLE, f"{sku.code} is not on sale", where)
        else:
            priced.append(PricedLine(sku, product, line.quantity))
    check.raise_if_any()
    return priced


async def _source(session: AsyncSession, line: LineRequest, store_location_id: int, path: Path) -> int:
    """Where a line's units come from: this store for TAKE_NOW and PICKUP_IN_STORE; for SHIP_TO_HOME the
    location asked for, else this store when it has them, else the nearest warehouse that has them."""
    if line.fulfillment in AT_THE_STORE:
        if line.source_location_id not in (None, store_location_id):
            raise DomainError.single(
                Code.WRONG_SOURCE, "taken now or picked up here: the units come from this store", path
            )
        return store_location_id
    if line.source_location_id is not None:
        location = (await locations_by_ids(session, [line.source_location_id])).get(line.source_location_id)
        if location is None or not location.active:
            raise not_found("stock location", path)
        return line.source_location_id
    here = await levels.available(session, store_location_id, line.sku_id)
    if here >= line.quantity:
        return store_location_id
    warehouse = await nearest_stocked_warehouse(session, store_location_id, line.sku_id, line.quantity)
    return warehouse if warehouse is not None else store_location_id


def _line_name(line: PricedLine) -> str:
    """The product's name and the SKU's attribute values, as the line keeps them (e.g. 唇膏 999)."""
    values = " ".join(value for _, value in sorted(line.sku.attributes.items()))
    return f"{line.product.name} {values}".strip()[:200]


def _new_lines(
    order: SalesOrder, priced: Priced, requests: Sequence[LineRequest], sources: list[int]
) -> list[OrderLine]:
    lines = []
    for index, (line, request) in enumerate(zip(priced.lines, requests, strict=True)):
        discount = priced.line_discount(index)
        lines.append(
            OrderLine(
                order_id=saved_id(order),
                sku_id=saved_id(line.sku),
                product_id=line.sku.product_id,
                name=_line_name(line),
                quantity=line.quantity,
                unit_price=line.unit_price,
                subtotal=line.subtotal,
                discount=discount,
                total=line.subtotal - discount,
                fulfillment=request.fulfillment.value,
                source_location_id=sources[index],
                created_at=order.created_at,
            )
        )
    return lines


@use_case
async def create_order(
    session: AsyncSession,
    actor: Actor,
    request: OrderRequest,
    now: datetime,
    tokens: TokenPolicy,
    idempotency_key: str | None = None,
) -> SalesOrder:
    """A guide sells at her store, or a customer orders online; its units are reserved until it is paid."""
    _seller(actor, request.store_id)
    online = actor.kind is ActorKind.CUSTOMER
    address = _checked_request(request, online)
    stores = await stores_by_ids(session, [request.store_id])
    if request.store_id not in stores or not stores[request.store_id].active:
        raise not_found("store", ("storeId",))
    person_id = await _customer_of(session, actor, request)
    await _check_booking(session, request.booking_id, person_id, request.store_id)

    async def create() -> SalesOrder:
        lines = await _priced_lines(session, request.lines, ("lines",))
        priced = await price(
            session,
            lines,
            person_id=person_id,
            store_id=request.store_id,
            online=online,
            coupon_codes=list(request.coupon_codes),
            now=now,
            tokens=tokens,
        )
        store_location = saved_id(await location_of_store(session, request.store_id))
        sources = [
            await _source(session, line, store_location, ("lines", str(i), "sourceLocationId"))
            for i, line in enumerate(request.lines)
        ]
        order = _new_order(actor, request, person_id, priced, address, now)
        session.add(order)
        await session.flush()
        order_lines = _new_lines(order, priced, request.lines, sources)
        session.add_all(order_lines)
        await session.flush()
        for index, line in enumerate(order_lines):
            path = ("lines", str(index), "quantity")
            await levels.reserve(session, line.source_location_id, line.sku_id, line.quantity, path)
        _record_coupons(session, order, priced, order_lines)
        _announce(session, order, "CREATED", now)
        return order

    return await create_once(
        session,
        actor=actor.key,
        scope=ORDER_KEY_SCOPE,
        key=idempotency_key,
        payload={**asdict(request), "customer": person_id},
        create=create,
        model=SalesOrder,
    )


def _checked_request(request: OrderRequest, online: bool) -> dict[str, str | None] | None:
    """Check what can be checked before reading anything; returns the shipping address as stored."""
    check = Validator()
    _check_lines(check, request.lines, online)
    check.count(("couponCodes",), request.coupon_codes, MAX_COUPONS)
    address = None
    if any(line.fulfillment is Fulfillment.SHIP_TO_HOME for line in request.lines):
        if request.shipping_address is None:
            check.add(Code.ADDRESS_REQUIRED, "a line ships: give the address", ("shippingAddress",))
        else:
            address = checked_address(check, ("shippingAddress",), request.shipping_address)
    check.raise_if_any()
    return address


def _new_order(
    actor: Actor,
    request: OrderRequest,
    person_id: int,
    priced: Priced,
    address: dict[str, str | None] | None,
    now: datetime,
) -> SalesOrder:
    online = actor.kind is ActorKind.CUSTOMER
    picked_up = any(line.fulfillment is Fulfillment.PICKUP_IN_STORE for line in request.lines)
    currencies = {line.sku.currency for line in priced.lines}
    return SalesOrder(
        person_id=person_id,
        store_id=request.store_id,
        booking_id=request.booking_id,
        channel=(OrderChannel.ONLINE if online else OrderChannel.IN_STORE).value,
        currency=currencies.pop(),  # the catalog's prices are all in the brand's currency
        subtotal=priced.subtotal,
        discount=priced.discount,
        total=priced.total,
        shipping_address=address,
        pickup_code=_pickup_code() if picked_up else None,
        guide_id=None if online else actor.id,
        created_by=actor.key,
        expires_at=now + ORDER_TTL,
        created_at=now,
        updated_at=now,
    )


def _pickup_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def _record_coupons(session: AsyncSession, order: SalesOrder, priced: Priced, lines: Sequence[OrderLine]) -> None:
    for coupon in priced.coupons:
        session.add(
            OrderCoupon(
                order_id=saved_id(order),
                coupon_id=coupon.coupon_id,
                campaign_id=coupon.campaign_id,
                code=coupon.code,
                discount=coupon.discount,
                line_discounts={str(saved_id(lines[key])): amount for key, amount in coupon.line_discounts.items()},
            )
        )


def _announce(session: AsyncSession, order: SalesOrder, event: str, now: datetime, **more: Any) -> None:
    message = {
        "orderId": order.id,
        "storeId": order.store_id,
        "customerId": order.person_id,
        "guideId": order.guide_id,
        "bookingId": order.booking_id,
        "status": order.status,
        "total": order.total,
        "currency": order.currency,
        **more,
    }
    emit(session, store_orders_topic(order.store_id), event, message, now)
    emit(session, ALL_ORDERS_TOPIC, event, message, now)


async def order_for_update(session: AsyncSession, order_id: int, path: Path = ("orderId",)) -> SalesOrder:
    order = await session.get(SalesOrder, order_id, with_for_update=True, populate_existing=True)
    if order is None:
        raise not_found("order", path)
    return order


def require_order_access(actor: Actor, order: SalesOrder) -> None:
    """Her own orders for a customer; the store's for its staff; every order for HQ roles."""
    if actor.kind is ActorKind.CUSTOMER:
        if actor.id != order.person_id:
            raise Forbidden("another customer's order")
        return
    actor.require_store(order.store_id)


async def _unpaid(session: AsyncSession, actor: Actor, order_id: int) -> SalesOrder:
    order = await order_for_update(session, order_id)
    _seller(actor, order.store_id)
    require_order_access(actor, order)
    if order.status != OrderStatus.PENDING_PAYMENT.value:
        raise DomainError.single(Code.NOT_CHANGEABLE, f"the order is {order.status}", ("orderId",))
    return order


async def lines_of(session: AsyncSession, order_id: int) -> list[OrderLine]:
    statement = select(OrderLine).where(OrderLine.order_id == order_id).order_by(col(OrderLine.id))
    return list((await session.exec(statement)).all())


async def coupons_of(session: AsyncSession, order_id: int) -> list[OrderCoupon]:
    statement = select(OrderCoupon).where(OrderCoupon.order_id == order_id).order_by(col(OrderCoupon.id))
    return list((await session.exec(statement)).all())


async def _reprice(
    session: AsyncSession, order: SalesOrder, now: datetime, tokens: TokenPolicy, codes: Sequence[str] | None = None
) -> None:
    """After a line or the coupons changed: prices and coupon discounts again, over the lines still held,
    with ``codes`` (default: the coupons it has)."""
    held = [line for line in await lines_of(session, saved_id(order)) if line.status == LineStatus.RESERVED.value]
    skus = await skus_by_ids(session, [line.sku_id for line in held])
    products = await products_by_ids(session, [line.product_id for line in held])
    priced_lines = [PricedLine(skus[line.sku_id], products[line.product_id], line.quantity) for line in held]
    old = await coupons_of(session, saved_id(order))
    priced = await price(
        session,
        priced_lines,
        person_id=order.person_id,
        store_id=order.store_id,
        online=order.channel == OrderChannel.ONLINE.value,
        coupon_codes=[c.code for c in old] if codes is None else list(codes),
        now=now,
        tokens=tokens,
    )
    for coupon in old:
        await session.delete(coupon)
    await session.flush()
    for index, line in enumerate(held):
        line.unit_price, line.subtotal = priced_lines[index].unit_price, priced_lines[index].subtotal
        line.discount = priced.line_discount(index)
        line.total = line.subtotal - line.discount
    _record_coupons(session, order, priced, held)
    order.subtotal, order.discount, order.total = priced.subtotal, priced.discount, priced.total
    order.updated_at = now


@use_case
async def add_line(
    session: AsyncSession, actor: Actor, order_id: int, line: LineRequest, now: datetime, tokens: TokenPolicy
) -> SalesOrder:
    order = await _unpaid(session, actor, order_id)
    online = order.channel == OrderChannel.ONLINE.value
    check = Validator()
    _check_lines(check, [line], online, ("line",))
    if line.fulfillment is Fulfillment.SHIP_TO_HOME and order.shipping_address is None:
        check.add(Code.ADDRESS_REQUIRED, "the order has no shipping address", ("line", "fulfillment"))
    check.raise_if_any()
    held = [x for x in await lines_of(session, order_id) if x.status == LineStatus.RESERVED.value]
    if len(held) >= MAX_LINES:
        raise DomainError.single(Common.TOO_MANY, f"at most {MAX_LINES} lines", ("line",))
    (priced_line,) = await _priced_lines(session, [line], ("line",))
    store_location = await location_of_store(session, order.store_id)
    source = await _source(session, line, saved_id(store_location), ("line", "sourceLocationId"))
    new = OrderLine(
        order_id=order_id,
        sku_id=saved_id(priced_line.sku),
        product_id=priced_line.sku.product_id,
        name=_line_name(priced_line),
        quantity=line.quantity,
        unit_price=priced_line.unit_price,
        subtotal=priced_line.subtotal,
        total=priced_line.subtotal,
        fulfillment=line.fulfillment.value,
        source_location_id=source,
        created_at=now,
    )
    session.add(new)
    await session.flush()
    await levels.reserve(session, source, new.sku_id, new.quantity, ("line", "quantity"))
    if line.fulfillment is Fulfillment.PICKUP_IN_STORE and order.pickup_code is None:
        order.pickup_code = _pickup_code()
    await _reprice(session, order, now, tokens)
    _announce(session, order, "CHANGED", now)
    return order


@use_case
async def apply_coupons_to(
    session: AsyncSession, actor: Actor, order_id: int, codes: Sequence[str], now: datetime, tokens: TokenPolicy
) -> SalesOrder:
    """Her coupons for an unpaid order, replacing those it had (none: it has none); priced again."""
    order = await _unpaid(session, actor, order_id)
    check = Validator()
    check.count(("couponCodes",), codes, MAX_COUPONS)
    check.raise_if_any()
    await _reprice(session, order, now, tokens, codes)
    _announce(session, order, "CHANGED", now)
    return order


@use_case
async def remove_line(
    session: AsyncSession, actor: Actor, order_id: int, line_id: int, now: datetime, tokens: TokenPolicy
) -> SalesOrder:
    order = await _unpaid(session, actor, order_id)
    held = [x for x in await lines_of(session, order_id) if x.status == LineStatus.RESERVED.value]
    line = next((x for x in held if x.id == line_id), None)
    if line is None:
        raise not_found("order line", ("lineId",))
    if len(held) == 1:
        raise DomainError.single(Code.LAST_LINE, "an order keeps at least one line: cancel it instead", ("lineId",))
    await levels.release(session, line.source_location_id, line.sku_id, line.quantity)
    await session.delete(line)
    await session.flush()
    await _reprice(session, order, now, tokens)
    _announce(session, order, "CHANGED", now)
    return order


async def _release_all(session: AsyncSession, order: SalesOrder, status: OrderStatus, now: datetime) -> None:
    for line in await lines_of(session, saved_id(order)):
        if line.status == LineStatus.RESERVED.value:
            await levels.release(session, line.source_location_id, line.sku_id, line.quantity)
            line.status = LineStatus.RELEASED.value
    order.status, order.closed_at, order.updated_at = status.value, now, now
    _announce(session, order, status.value, now)


@use_case
async def cancel_order(session: AsyncSession, actor: Actor, order_id: int, now: datetime) -> SalesOrder:
    order = await _unpaid(session, actor, order_id)
    await _release_all(session, order, OrderStatus.CANCELLED, now)
    return order


async def expire_unpaid_orders(session: AsyncSession, now: datetime, keep: Sequence[int] = ()) -> int:
    """Unpaid orders past their time give their units back (one batch; rows claimed with SKIP LOCKED, so
    replicas share the work). ``keep``: orders whose payment is still under way at a provider."""
    statement = (
        select(SalesOrder)
        .where(SalesOrder.status == OrderStatus.PENDING_PAYMENT.value, SalesOrder.expires_at <= now)
        .order_by(col(SalesOrder.expires_at))
        .limit(EXPIRY_BATCH)
    )
    if keep:
        statement = statement.where(col(SalesOrder.id).not_in(list(keep)))
    due = list((await session.exec(claim(statement, session))).all())
    for order in due:
        await _release_all(session, order, OrderStatus.EXPIRED, now)
    return len(due)


def require_payable(order: SalesOrder, path: Path = ("orderId",)) -> None:
    if order.status != OrderStatus.PENDING_PAYMENT.value:
        raise DomainError.single(Code.NOT_PAYABLE, f"the order is {order.status}", path)


async def settle_paid(session: AsyncSession, order: SalesOrder, payment: dict[str, Any], now: datetime) -> None:
    """The order was paid (``payment``: method and reference, as announced): in the caller's transaction,
    its reserved units are sold, its coupons redeemed, it is PAID, her purchase goes on her timeline, her
    booking and reception complete, and the outbox announces it. Lock the order first (order_for_update)."""
    require_payable(order)
    lines = await lines_of(session, saved_id(order))
    origin = levels.Origin(f"order:{order.id}", order.created_by, now)
    for line in lines:
        await levels.sell(session, line.source_location_id, line.sku_id, line.quantity, origin)
        status = AFTER_PAYMENT[Fulfillment(line.fulfillment)]
        line.status = status.value
        if status is LineStatus.COMPLETED:
            line.fulfilled_at = now
    applied = [
        AppliedCoupon(c.coupon_id, c.campaign_id, c.code, c.discount, {})
        for c in await coupons_of(session, saved_id(order))
    ]
    await redeem(session, applied, order_id=saved_id(order), store_id=order.store_id, now=now)
    order.status, order.paid_at, order.updated_at = OrderStatus.PAID.value, now, now
    await _record_purchase(session, order, lines, now)
    if order.booking_id is not None:
        await complete_by_purchase(session, order.booking_id, f"order:{order.id}", now)
    _announce(session, order, "PAID", now, payment=payment, lines=[_line_message(line) for line in lines])


def _line_message(line: OrderLine) -> dict[str, Any]:
    return {
        "lineId": line.id,
        "skuId": line.sku_id,
        "productId": line.product_id,
        "quantity": line.quantity,
        "total": line.total,
        "discount": line.discount,
    }


async def _record_purchase(session: AsyncSession, order: SalesOrder, lines: Sequence[OrderLine], now: datetime) -> None:
    """POS_PURCHASE on her timeline: the 360° view's spend and lifetime value count it."""
    await record_person_event(
        session,
        order.person_id,
        ORDER_EVENT_SOURCE,
        RawEvent(
            event_id=f"order:{order.id}",
            type=EventType.POS_PURCHASE,
            occurred_at=now,
            identifiers=[],
            store_id=order.store_id,
            product_id=lines[0].product_id if lines else None,
            properties={
                "amount": order.total,
                "currency": order.currency,
                "orderId": order.id,
                "channel": order.channel,
                "items": sum(line.quantity for line in lines),
            },
        ),
        now,
    )


async def orders_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, SalesOrder]:
    return await rows_by_id(session, SalesOrder, ids)


async def lines_by_order(session: AsyncSession, order_ids: Sequence[int]) -> dict[int, list[OrderLine]]:
    found: dict[int, list[OrderLine]] = {order_id: [] for order_id in order_ids}
    statement = select(OrderLine).where(col(OrderLine.order_id).in_(list(order_ids))).order_by(col(OrderLine.id))
    for line in await session.exec(statement):
        found[line.order_id].append(line)
    return found


async def coupons_by_order(session: AsyncSession, order_ids: Sequence[int]) -> dict[int, list[OrderCoupon]]:
    found: dict[int, list[OrderCoupon]] = {order_id: [] for order_id in order_ids}
    statement = select(OrderCoupon).where(col(OrderCoupon.order_id).in_(list(order_ids))).order_by(col(OrderCoupon.id))
    for coupon in await session.exec(statement):
        found[coupon.order_id].append(coupon)
    return found


async def apply_refund(
    session: AsyncSession,
    order: SalesOrder,
    lines: Sequence[RefundLine],
    restock: bool,
    actor_key: str,
    now: datetime,
) -> list[RefundedLine]:
    """Units of a locked PAID order's lines refunded (see refunds.apply_refund), in the caller's transaction."""
    return await refunds.apply_refund(
        session, order, lines, restock, actor_key, now, held=await lines_of(session, saved_id(order))
    )
