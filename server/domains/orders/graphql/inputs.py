"""GraphQL inputs of orders."""

from __future__ import annotations

import strawberry

from .types import Fulfillment

IDEMPOTENCY_KEY = "1-128 characters: a retry with the same key by you returns the first result and writes nothing."


@strawberry.input(description="One SKU to sell, how many, and how it reaches her.")
class OrderLineInput:
    sku_id: strawberry.ID = strawberry.field(description="The Sku.")
    quantity: int = strawberry.field(description="1 to 99 units.")
    fulfillment: Fulfillment = strawberry.field(
        default=Fulfillment.TAKE_NOW, description="TAKE_NOW (in store only), SHIP_TO_HOME or PICKUP_IN_STORE."
    )
    source_location_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Where the units come from. TAKE_NOW and PICKUP_IN_STORE: the order's store (leave it out). "
        "SHIP_TO_HOME: any StockLocation; left out, this store when it has them, else the nearest warehouse "
        "that has them.",
    )


@strawberry.input(description="A mainland China shipping address.")
class ShippingAddressInput:
    province: str = strawberry.field(description="1-20 characters, e.g. 上海市.")
    city: str = strawberry.field(description="1-30 characters.")
    district: str = strawberry.field(description="1-30 characters.")
    detail: str = strawberry.field(description="1-120 characters: street, number, building, room.")
    recipient: str = strawberry.field(description="1-30 characters.")
    mobile: str = strawberry.field(description="A mainland China mobile number (11 digits, or +86…).")


@strawberry.input(description="A new order: a guide sells at her store, or a customer orders online.")
class OrderCreateInput:
    store_id: strawberry.ID = strawberry.field(
        description="The Store: where she buys, or (online) picks up and is served from."
    )
    lines: list[OrderLineInput] = strawberry.field(description="1 to 30 lines.")
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="The Customer (staff sell to her); a customer ordering for herself leaves it out."
    )
    coupon_codes: list[str] = strawberry.field(
        default_factory=list,
        description="Her coupons' codes, or their scanned QR tokens: at most 5, one per campaign (see README).",
    )
    booking_id: strawberry.ID | None = strawberry.field(
        default=None, description="The Booking she came with: paying completes it and its reception."
    )
    shipping_address: ShippingAddressInput | None = strawberry.field(
        default=None, description="Required when a line is SHIP_TO_HOME."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input(description="Another line for an unpaid order.")
class OrderAddLineInput:
    order_id: strawberry.ID = strawberry.field(description="The Order (PENDING_PAYMENT).")
    line: OrderLineInput = strawberry.field(description="The line; prices and coupons are worked out again.")


@strawberry.input(description="A line to take out of an unpaid order.")
class OrderRemoveLineInput:
    order_id: strawberry.ID = strawberry.field(description="The Order (PENDING_PAYMENT).")
    line_id: strawberry.ID = strawberry.field(description="The OrderLine's id; its units go back.")


@strawberry.input(description="The coupons an unpaid order uses.")
class OrderApplyCouponsInput:
    order_id: strawberry.ID = strawberry.field(description="The Order (PENDING_PAYMENT).")
    coupon_codes: list[str] = strawberry.field(
        description="Her coupons' codes or scanned QR tokens, at most 5, replacing those it had; empty removes them."
    )


@strawberry.input(description="An order to act on.")
class OrderIdInput:
    order_id: strawberry.ID = strawberry.field(description="The Order.")


@strawberry.input(description="Her pickup code, to hand over a pickup order.")
class OrderPickUpInput:
    order_id: strawberry.ID = strawberry.field(description="The Order.")
    pickup_code: str = strawberry.field(description="The 6 digits she was sent.")


@strawberry.input(description="Lines handed to a carrier.")
class OrderShipInput:
    order_id: strawberry.ID = strawberry.field(description="The Order.")
    carrier: str = strawberry.field(description="2-32 upper-case letters, digits or _, e.g. SF_EXPRESS.")
    tracking_number: str = strawberry.field(description="6-40 letters, digits or -.")
    line_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="The lines shipped; empty: every line waiting to ship."
    )
