"""Order mutations: create and change unpaid orders; fulfil paid ones."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession

from ....api.errors import mutate
from ....api.nodes import local_id
from ....api.permissions import authenticated, roles
from ...common.actor import Role
from .. import fulfilment, services
from ..addresses import ShippingAddress
from ..models import Fulfillment as FulfillmentValue
from ..models import SalesOrder as OrderRow
from .inputs import (
    OrderAddLineInput,
    OrderApplyCouponsInput,
    OrderCreateInput,
    OrderIdInput,
    OrderLineInput,
    OrderPickUpInput,
    OrderRemoveLineInput,
    OrderShipInput,
)
from .types import Order, OrderUserError


@strawberry.type(description="The answer to an order mutation.")
class OrderPayload:
    order: Order | None = strawberry.field(default=None, description="The order as it is now; null on errors.")
    errors: list[OrderUserError] = strawberry.field(
        description="Why nothing was written (a code of OrderErrorCode, INSUFFICIENT_STOCK, a coupon's code, "
        "NOT_FOUND or an input check); empty on success."
    )


def line_request(given: OrderLineInput) -> services.LineRequest:
    return services.LineRequest(
        sku_id=local_id(given.sku_id, "Sku"),
        quantity=given.quantity,
        fulfillment=FulfillmentValue(given.fulfillment.value),
        source_location_id=local_id(given.source_location_id, "StockLocation"),
    )


def line_key(raw: strawberry.ID) -> int:
    """An OrderLine's id as a row id; anything else names no line (NOT_FOUND)."""
    return int(raw) if str(raw).isdigit() and len(str(raw)) < 10 else 0


async def _order_action(info: strawberry.Info, run: Callable[[AsyncSession, Any], Awaitable[OrderRow]]) -> OrderPayload:
    actor = await info.context.viewer()

    async def action(session: AsyncSession) -> dict[str, Any]:
        return {"order": Order.from_row(await run(session, actor))}

    return await mutate(info, OrderPayload, OrderUserError, action)


FULFILLERS = roles(Role.GUIDE, Role.STORE_MANAGER, Role.HQ_ADMIN)


@strawberry.type
class OrderMutation:
    @strawberry.mutation(
        extensions=authenticated(),
        description="Create an order: a guide or manager at her store, or a signed-in customer online "
        "(SHIP_TO_HOME, PICKUP_IN_STORE). Prices and discounts are worked out here; its units are reserved "
        "until it is paid (30 minutes).",
    )
    async def order_create(
        self, info: strawberry.Info, input: Annotated[OrderCreateInput, strawberry.argument(description="The order.")]
    ) -> OrderPayload:
        address = input.shipping_address
        request = services.OrderRequest(
            store_id=local_id(input.store_id, "Store"),
            lines=[line_request(line) for line in input.lines],
            customer_id=local_id(input.customer_id, "Customer"),
            coupon_codes=list(input.coupon_codes),
            booking_id=local_id(input.booking_id, "Booking"),
            shipping_address=ShippingAddress(
                address.province, address.city, address.district, address.detail, address.recipient, address.mobile
            )
            if address
            else None,
        )
        now = info.context.runtime.clock.now()
        return await _order_action(
            info,
            lambda session, actor: services.create_order(
                session, actor, request, now, info.context.runtime.tokens, input.idempotency_key
            ),
        )

    @strawberry.mutation(extensions=authenticated(), description="Add a line to an unpaid order.")
    async def order_add_line(
        self, info: strawberry.Info, input: Annotated[OrderAddLineInput, strawberry.argument(description="The line.")]
    ) -> OrderPayload:
        now = info.context.runtime.clock.now()
        order_id, line = local_id(input.order_id, "Order"), line_request(input.line)
        return await _order_action(
            info,
            lambda session, actor: services.add_line(session, actor, order_id, line, now, info.context.runtime.tokens),
        )

    @strawberry.mutation(extensions=authenticated(), description="Take a line out of an unpaid order.")
    async def order_remove_line(
        self,
        info: strawberry.Info,
        input: Annotated[OrderRemoveLineInput, strawberry.argument(description="The order and line.")],
    ) -> OrderPayload:
        now = info.context.runtime.clock.now()
        order_id, line_id = local_id(input.order_id, "Order"), line_key(input.line_id)
        return await _order_action(
            info,
            lambda session, actor: services.remove_line(
                session, actor, order_id, line_id, now, info.context.runtime.tokens
            ),
        )

    @strawberry.mutation(
        extensions=authenticated(),
        description="Set the coupons of an unpaid order (e.g. one scanned at the till, or dropping one another "
        "order redeemed first); prices are worked out again.",
    )
    async def order_apply_coupons(
        self,
        info: strawberry.Info,
        input: Annotated[OrderApplyCouponsInput, strawberry.argument(description="The order and its coupons.")],
    ) -> OrderPayload:
        now, order_id = info.context.runtime.clock.now(), local_id(input.order_id, "Order")
        codes, tokens = list(input.coupon_codes), info.context.runtime.tokens
        return await _order_action(
            info, lambda session, actor: services.apply_coupons_to(session, actor, order_id, codes, now, tokens)
        )

    @strawberry.mutation(
        extensions=authenticated(), description="Cancel an unpaid order: its units go back. Its seller or customer."
    )
    async def order_cancel(
        self, info: strawberry.Info, input: Annotated[OrderIdInput, strawberry.argument(description="The order.")]
    ) -> OrderPayload:
        now = info.context.runtime.clock.now()
        order_id = local_id(input.order_id, "Order")
        return await _order_action(info, lambda session, actor: services.cancel_order(session, actor, order_id, now))

    @strawberry.mutation(
        extensions=FULFILLERS,
        description="Her pickup lines are ready: she is told with her pickup code. The store's staff.",
    )
    async def order_mark_ready_for_pickup(
        self, info: strawberry.Info, input: Annotated[OrderIdInput, strawberry.argument(description="The order.")]
    ) -> OrderPayload:
        now, brand = info.context.runtime.clock.now(), info.context.settings.brand_name
        order_id = local_id(input.order_id, "Order")
        return await _order_action(
            info, lambda session, actor: fulfilment.ready_for_pickup(session, actor, order_id, brand, now)
        )

    @strawberry.mutation(extensions=FULFILLERS, description="Hand over a ready pickup order against her code.")
    async def order_pick_up(
        self,
        info: strawberry.Info,
        input: Annotated[OrderPickUpInput, strawberry.argument(description="The order and her code.")],
    ) -> OrderPayload:
        now, order_id = info.context.runtime.clock.now(), local_id(input.order_id, "Order")
        return await _order_action(
            info, lambda session, actor: fulfilment.pick_up(session, actor, order_id, input.pickup_code, now)
        )

    @strawberry.mutation(extensions=FULFILLERS, description="Lines handed to a carrier, with the tracking number.")
    async def order_ship(
        self, info: strawberry.Info, input: Annotated[OrderShipInput, strawberry.argument(description="What shipped.")]
    ) -> OrderPayload:
        now, order_id = info.context.runtime.clock.now(), local_id(input.order_id, "Order")
        line_ids = [line_key(line) for line in input.line_ids]
        return await _order_action(
            info,
            lambda session, actor: fulfilment.ship(
                session, actor, order_id, line_ids, input.carrier, input.tracking_number, now
            ),
        )

    @strawberry.mutation(extensions=FULFILLERS, description="Shipped lines were delivered.")
    async def order_deliver(
        self, info: strawberry.Info, input: Annotated[OrderIdInput, strawberry.argument(description="The order.")]
    ) -> OrderPayload:
        now, order_id = info.context.runtime.clock.now(), local_id(input.order_id, "Order")
        return await _order_action(info, lambda session, actor: fulfilment.deliver(session, actor, order_id, now))
