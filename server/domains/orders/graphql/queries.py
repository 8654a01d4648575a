"""Order queries: one order, a store's orders, her own orders; and orderPaid, live."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from ....api.live import live_messages
from ....api.nodes import local_id
from ....api.pagination import After, Connection, First, paginate
from ....api.permissions import authenticated, roles
from ...common.actor import ActorKind, Role
from ...common.errors import Forbidden
from .. import listings, services
from ..models import OrderStatus as StatusValue
from ..models import SalesOrder as OrderRow
from ..topics import store_orders_topic
from .types import Order, OrderStatus

STORE_READERS = roles(Role.GUIDE, Role.STORE_MANAGER, Role.HQ_ADMIN, Role.ANALYST, Role.LIVESTREAM_OPS)


@strawberry.type
class OrderQuery:
    @strawberry.field(
        extensions=authenticated(),
        description="One order; null when unknown or not yours to see (staff: their store's; customers: their own).",
    )
    async def order(
        self, info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The Order.")]
    ) -> Order | None:
        actor = await info.context.viewer()
        row = await info.context.loader(services.orders_by_ids).load(local_id(id, "Order"))
        if row is None:
            return None
        try:
            services.require_order_access(actor, row)
        except Forbidden:
            return None
        return Order.from_row(row)

    @strawberry.field(
        extensions=STORE_READERS,
        description="A store's orders, newest first. Its staff; HQ roles every store's.",
    )
    async def store_orders(
        self,
        info: strawberry.Info,
        store_id: Annotated[strawberry.ID, strawberry.argument(description="The Store.")],
        first: First = None,
        after: After = None,
        status: Annotated[OrderStatus | None, strawberry.argument(description="Only orders in this status.")] = None,
    ) -> Connection[Order]:
        actor = await info.context.viewer()
        store = local_id(store_id, "Store")
        actor.require_store(store)
        statement = listings.store_orders(store, StatusValue(status.value) if status else None)
        return await paginate(info, statement, Order.from_row, first=first, after=after, newest_by=OrderRow.created_at)

    @strawberry.field(extensions=authenticated(), description="Your orders, newest first (signed-in customers).")
    async def my_orders(self, info: strawberry.Info, first: First = None, after: After = None) -> Connection[Order]:
        actor = await info.context.viewer()
        if actor.kind is not ActorKind.CUSTOMER:
            raise Forbidden("myOrders is a customer's own list; staff use storeOrders")
        statement = listings.customer_orders(actor.id)
        return await paginate(info, statement, Order.from_row, first=first, after=after, newest_by=OrderRow.created_at)


@strawberry.type
class OrderSubscription:
    @strawberry.subscription(
        extensions=roles(Role.GUIDE, Role.STORE_MANAGER, Role.HQ_ADMIN),
        description="A store's orders as they are paid (WeChat Pay and Alipay settle while the guide waits). The "
        "store's staff. A dropped socket loses nothing: storeOrders(status: PAID) catches up.",
    )
    async def order_paid(
        self, info: strawberry.Info, store_id: Annotated[strawberry.ID, strawberry.argument(description="The Store.")]
    ) -> AsyncGenerator[Order, None]:
        actor = await info.context.viewer()
        store = local_id(store_id, "Store")
        actor.require_store(store)
        async for message in live_messages(info, store_orders_topic(store)):
            if message.get("event") != "PAID":
                continue
            async with info.context.db() as session:
                row = (await services.orders_by_ids(session, [message["orderId"]])).get(message["orderId"])
            if row is not None:
                yield Order.from_row(row)
