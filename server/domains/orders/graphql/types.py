"""GraphQL types of orders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

import strawberry
from strawberry import relay

from ....api.enums import described_enum
from ....api.errors import UserError, borrowed_codes, user_error_type
from ....api.nodes import load_nodes
from ....api.scalars import Money, MoneyAmount
from ...bookings.graphql.types import Booking
from ...bookings.services import bookings_by_ids
from ...catalog.graphql.types import Sku
from ...catalog.skus import skus_by_ids
from ...common.actor import ActorKind
from ...common.errors import Forbidden
from ...common.rows import saved_id
from ...coupons.errors import CouponErrorCode
from ...coupons.graphql.types import CouponUserError
from ...identity.graphql.types import Customer, open_customer
from ...inventory.errors import InventoryErrorCode
from ...inventory.graphql.types import INVENTORY_CODE_TEXTS, StockLocation
from ...inventory.services import locations_by_ids
from ...stores.graphql.types import Store
from ...stores.services import stores_by_ids
from .. import services
from ..errors import OrderErrorCode
from ..models import Fulfillment as FulfillmentValue
from ..models import LineStatus as LineStatusValue
from ..models import OrderChannel as ChannelValue
from ..models import OrderCoupon as CouponRow
from ..models import OrderLine as LineRow
from ..models import OrderStatus as StatusValue
from ..models import SalesOrder as OrderRow

# What pricing an order with her coupons, and redeeming them, may refuse.
PRICING_CODES = (
    CouponErrorCode.COUPON_NOT_FOUND,
    CouponErrorCode.COUPON_ALREADY_REDEEMED,
    CouponErrorCode.COUPON_NOT_VALID_NOW,
    CouponErrorCode.COUPON_WRONG_CHANNEL,
    CouponErrorCode.COUPON_WRONG_STORE,
    CouponErrorCode.COUPON_NOT_APPLICABLE,
    CouponErrorCode.COUPON_SAME_CAMPAIGN,
    CouponErrorCode.COUPON_DUPLICATE,
)
ORDER_CODE_TEXTS = {
    OrderErrorCode.SKU_UNAVAILABLE: "The SKU or its product is not on sale.",
    OrderErrorCode.FULFILLMENT_NOT_ALLOWED: "An online order ships or is picked up in store (not TAKE_NOW).",
    OrderErrorCode.WRONG_SOURCE: "Lines taken now or picked up come from the order's store.",
    OrderErrorCode.ADDRESS_REQUIRED: "A line ships to her home: give a shipping address.",
    OrderErrorCode.INVALID_PHONE: "The shipping address's mobile is not a mainland China mobile number.",
    OrderErrorCode.NOT_PAYABLE: "The order is not waiting for payment (paid, cancelled or expired).",
    OrderErrorCode.NOT_CHANGEABLE: "Only an unpaid order's lines change, and only an unpaid order is cancelled.",
    OrderErrorCode.LAST_LINE: "An order keeps at least one line: cancel it instead.",
    OrderErrorCode.WRONG_BOOKING: "The booking is not hers, or not at this store.",
    OrderErrorCode.WRONG_FULFILLMENT_STATE: "No line is in the state this step starts from.",
    OrderErrorCode.WRONG_PICKUP_CODE: "Not this order's pickup code.",
    OrderErrorCode.REFUND_EXCEEDS_PAID: "More units than were paid and not yet refunded.",
}

if TYPE_CHECKING:  # user_error_type builds the class at run time: mypy knows it by its interface
    OrderUserError = UserError
else:
    OrderUserError = user_error_type(
        "Order",
        OrderErrorCode,
        ORDER_CODE_TEXTS,
        borrowed={
            InventoryErrorCode.INSUFFICIENT_STOCK: INVENTORY_CODE_TEXTS[InventoryErrorCode.INSUFFICIENT_STOCK],
            **borrowed_codes(CouponUserError, PRICING_CODES),
        },
    )

OrderStatus = StatusValue
described_enum(
    OrderStatus,
    name="OrderStatus",
    description="PENDING_PAYMENT → PAID, or CANCELLED, or EXPIRED (unpaid for 30 minutes).",
    values={
        OrderStatus.PENDING_PAYMENT: "Created; its units are reserved until it is paid.",
        OrderStatus.PAID: "Paid: its units are sold.",
        OrderStatus.CANCELLED: "Cancelled before payment; its units went back.",
        OrderStatus.EXPIRED: "Not paid in time; its units went back.",
    },
)
OrderChannel = ChannelValue
described_enum(
    OrderChannel,
    name="OrderChannel",
    description="Where it was ordered.",
    values={
        OrderChannel.IN_STORE: "A guide sold it at her store.",
        OrderChannel.ONLINE: "The customer ordered it herself (mini-program).",
    },
)
Fulfillment = FulfillmentValue
described_enum(
    Fulfillment,
    name="Fulfillment",
    description="How a line reaches her.",
    values={
        Fulfillment.TAKE_NOW: "She takes it from the store now (in-store orders only).",
        Fulfillment.SHIP_TO_HOME: "Shipped to her address, from any store or warehouse.",
        Fulfillment.PICKUP_IN_STORE: "She picks it up at the order's store with its pickup code.",
    },
)
OrderLineStatus = LineStatusValue
described_enum(
    OrderLineStatus,
    name="OrderLineStatus",
    description="Where a line is: RESERVED until paid; then by its fulfilment.",
    values={
        OrderLineStatus.RESERVED: "Unpaid: its units are held at its source.",
        OrderLineStatus.RELEASED: "Cancelled or expired: its units went back.",
        OrderLineStatus.COMPLETED: "Taken away at payment.",
        OrderLineStatus.TO_PREPARE: "Paid; the store prepares it for pickup.",
        OrderLineStatus.READY_FOR_PICKUP: "Ready; she was told with her pickup code.",
        OrderLineStatus.PICKED_UP: "She collected it.",
        OrderLineStatus.TO_SHIP: "Paid; waiting to ship.",
        OrderLineStatus.SHIPPED: "Handed to the carrier (see carrier and trackingNumber).",
        OrderLineStatus.DELIVERED: "Delivered.",
    },
)


def money(amount: int, currency: str) -> Money:
    return Money(amount=MoneyAmount(amount), currency=currency)


@strawberry.type(description="Where a shipped order goes (a mainland China address).")
class ShippingAddress:
    province: str = strawberry.field(description="Province, e.g. 上海市.")
    city: str = strawberry.field(description="City.")
    district: str = strawberry.field(description="District.")
    detail: str = strawberry.field(description="Street and number, building, room.")
    recipient: str = strawberry.field(description="Who receives it.")
    mobile: str = strawberry.field(description="The recipient's mobile, E.164 (+86…).")


@strawberry.type(description="One SKU of an order, its price and how it reaches her.")
class OrderLine:
    id: strawberry.ID = strawberry.field(description="The line's id (for orderRemoveLine, orderRefund, orderShip).")
    name: str = strawberry.field(description="The product's name and the SKU's attributes when ordered.")
    quantity: int = strawberry.field(description="Units, 1 to 99.")
    unit_price: Money = strawberry.field(description="The SKU's price when ordered.")
    subtotal: Money = strawberry.field(description="unitPrice × quantity.")
    discount: Money = strawberry.field(description="This line's share of the coupons' discount.")
    total: Money = strawberry.field(description="subtotal - discount.")
    fulfillment: Fulfillment = strawberry.field(description="How it reaches her.")
    status: OrderLineStatus = strawberry.field(description="Where it is.")
    refunded_quantity: int = strawberry.field(description="Units refunded so far.")
    refunded: Money = strawberry.field(description="Money given back for this line so far.")
    carrier: str | None = strawberry.field(description="Carrier code once shipped, e.g. SF_EXPRESS.")
    tracking_number: str | None = strawberry.field(description="The carrier's tracking number once shipped.")
    sku_id: strawberry.Private[int]
    source_location_id: strawberry.Private[int]

    @strawberry.field(description="The SKU sold.")
    async def sku(self, info: strawberry.Info) -> Sku:
        return Sku.from_row(await info.context.loader(skus_by_ids).load(self.sku_id))

    @strawberry.field(description="Where its units come from (reserved there until paid).")
    async def source_location(self, info: strawberry.Info) -> StockLocation:
        return StockLocation.from_row(await info.context.loader(locations_by_ids).load(self.source_location_id))

    @classmethod
    def from_row(cls, row: LineRow, currency: str) -> OrderLine:
        return cls(
            id=strawberry.ID(str(saved_id(row))),
            name=row.name,
            quantity=row.quantity,
            unit_price=money(row.unit_price, currency),
            subtotal=money(row.subtotal, currency),
            discount=money(row.discount, currency),
            total=money(row.total, currency),
            fulfillment=Fulfillment(row.fulfillment),
            status=OrderLineStatus(row.status),
            refunded_quantity=row.refunded_quantity,
            refunded=money(row.refunded_amount, currency),
            carrier=row.carrier,
            tracking_number=row.tracking_number,
            sku_id=row.sku_id,
            source_location_id=row.source_location_id,
        )


@strawberry.type(description="A coupon an order uses.")
class OrderCoupon:
    code: str = strawberry.field(description="The coupon's code.")
    discount: Money = strawberry.field(description="What it takes off the order.")

    @classmethod
    def from_row(cls, row: CouponRow, currency: str) -> OrderCoupon:
        return cls(code=row.code, discount=money(row.discount, currency))


@strawberry.type(description="What a customer buys: at a store from a guide, or online.")
class Order(relay.Node):
    id: relay.NodeID[int]
    number: str = strawberry.field(description="Its number for people: SO and 8 digits.")
    status: OrderStatus = strawberry.field(description="Where it is in its life.")
    channel: OrderChannel = strawberry.field(description="In store or online.")
    subtotal: Money = strawberry.field(description="Sum of the lines' list prices.")
    discount: Money = strawberry.field(description="Sum of the coupons' discounts.")
    total: Money = strawberry.field(description="What she pays: subtotal - discount.")
    refunded: Money = strawberry.field(description="Money given back so far.")
    shipping_address: ShippingAddress | None = strawberry.field(
        description="Where shipped lines go; null if none ship."
    )
    expires_at: dt.datetime = strawberry.field(description="An unpaid order expires then and its units go back.")
    paid_at: dt.datetime | None = strawberry.field(description="When it was paid.")
    created_at: dt.datetime = strawberry.field(description="When it was created.")
    updated_at: dt.datetime = strawberry.field(description="When it last changed.")
    _row: strawberry.Private[OrderRow]

    @strawberry.field(
        description="Her pickup code (6 digits) when a line is picked up in store; shown to her and "
        "to the store's staff only."
    )
    async def pickup_code(self, info: strawberry.Info) -> str | None:
        actor = await info.context.viewer()
        if actor.kind is ActorKind.CUSTOMER or actor.store_id == self._row.store_id:
            return self._row.pickup_code
        return None

    @strawberry.field(description="Its lines, in the order they were added.")
    async def lines(self, info: strawberry.Info) -> list[OrderLine]:
        rows = await info.context.loader(services.lines_by_order, default=[]).load(self.id)
        return [OrderLine.from_row(row, self._row.currency) for row in rows]

    @strawberry.field(description="The coupons it uses (at most one per campaign).")
    async def coupons(self, info: strawberry.Info) -> list[OrderCoupon]:
        rows = await info.context.loader(services.coupons_by_order, default=[]).load(self.id)
        return [OrderCoupon.from_row(row, self._row.currency) for row in rows]

    @strawberry.field(description="The customer, as you may see her.")
    async def customer(self, info: strawberry.Info) -> Customer | None:
        return await open_customer(info, self._row.person_id, hidden_as_none=True)

    @strawberry.field(description="The store it belongs to (where it was sold, or picked up).")
    async def store(self, info: strawberry.Info) -> Store:
        return Store.from_row(await info.context.loader(stores_by_ids).load(self._row.store_id))

    @strawberry.field(description="The booking she came with; null if none.")
    async def booking(self, info: strawberry.Info) -> Booking | None:
        if self._row.booking_id is None:
            return None
        row = await info.context.loader(bookings_by_ids).load(self._row.booking_id)
        return Booking.from_row(row) if row else None

    @classmethod
    def from_row(cls, row: OrderRow) -> Order:
        address = row.shipping_address
        return cls(
            id=saved_id(row),
            number=f"SO{saved_id(row):08d}",
            status=OrderStatus(row.status),
            channel=OrderChannel(row.channel),
            subtotal=money(row.subtotal, row.currency),
            discount=money(row.discount, row.currency),
            total=money(row.total, row.currency),
            refunded=money(row.refunded_amount, row.currency),
            shipping_address=ShippingAddress(**address) if address else None,
            expires_at=row.expires_at,
            paid_at=row.paid_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            _row=row,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # relay.Node's signature is untyped; this is its form
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Order | None]:
        actor = await info.context.viewer()

        def visible(_actor: object, row: OrderRow) -> bool:
            try:
                services.require_order_access(actor, row)
            except Forbidden:
                return False
            return True

        return await load_nodes(info, services.orders_by_ids, node_ids, cls.from_row, visible)
