"""GraphQL types of payments, and the fields payments adds to Order."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import strawberry

from ....api.enums import described_enum
from ....api.errors import UserError, borrowed_codes, user_error_type
from ....api.type_extensions import extends
from ...common.rows import saved_id
from ...coupons.errors import CouponErrorCode
from ...orders.errors import OrderErrorCode
from ...orders.graphql.types import ORDER_CODE_TEXTS, Money, Order, OrderUserError, money
from .. import services
from ..errors import PaymentErrorCode
from ..models import Payment as PaymentRow
from ..models import PaymentMethod as MethodValue
from ..models import PaymentStatus as StatusValue
from ..models import Refund as RefundRow
from ..models import RefundState as RefundStateValue

PAYMENT_CODE_TEXTS = {
    PaymentErrorCode.METHOD_NOT_ALLOWED: "Cash and card are taken by store staff at the counter.",
    PaymentErrorCode.TERMINAL_REFERENCE_REQUIRED: "A card payment needs the terminal's slip number.",
    PaymentErrorCode.PROVIDER_UNAVAILABLE: "The payment provider is not configured, or refused the request.",
    PaymentErrorCode.REFUND_EXCEEDS_PAID: "More than was paid and not yet refunded.",
    PaymentErrorCode.NOT_REFUNDABLE: "Nothing was paid for this order.",
}

if TYPE_CHECKING:  # user_error_type builds the class at run time: mypy knows it by its interface
    PaymentUserError = UserError
else:
    PaymentUserError = user_error_type(
        "Payment",
        PaymentErrorCode,
        PAYMENT_CODE_TEXTS,
        borrowed={
            OrderErrorCode.NOT_PAYABLE: ORDER_CODE_TEXTS[OrderErrorCode.NOT_PAYABLE],
            OrderErrorCode.WRONG_FULFILLMENT_STATE: ORDER_CODE_TEXTS[OrderErrorCode.WRONG_FULFILLMENT_STATE],
            **borrowed_codes(OrderUserError, [CouponErrorCode.COUPON_ALREADY_REDEEMED]),
        },
    )

PaymentMethod = MethodValue
described_enum(
    PaymentMethod,
    name="PaymentMethod",
    description="How she pays.",
    values={
        PaymentMethod.CASH: "Cash at the counter: settled at once.",
        PaymentMethod.CARD_TERMINAL: "The store's card terminal: settled at once with its slip number.",
        PaymentMethod.WECHAT_PAY: "WeChat Pay: she scans the QR code (native pay); settled by WeChat's notification.",
        PaymentMethod.ALIPAY: "Alipay: she scans the QR code; settled by Alipay's notification.",
    },
)
PaymentStatus = StatusValue
described_enum(
    PaymentStatus,
    name="PaymentStatus",
    description="Where a payment is.",
    values={
        PaymentStatus.PENDING: "Waiting for her to pay at the provider (show qrPayload).",
        PaymentStatus.SUCCEEDED: "Paid.",
        PaymentStatus.ORPHANED: "Paid after its order was cancelled, expired or paid another way: being refunded.",
        PaymentStatus.REFUNDED: "An orphaned payment, given back whole.",
        PaymentStatus.CLOSED: "Never paid; closed.",
        PaymentStatus.FAILED: "The provider refused to start it.",
    },
)
RefundStatus = RefundStateValue
described_enum(
    RefundStatus,
    name="RefundStatus",
    description="Where a refund is.",
    values={
        RefundStatus.PENDING: "Accepted by the provider; the money is on its way back.",
        RefundStatus.SUCCEEDED: "Given back.",
    },
)


@strawberry.type(description="Money taken (or being taken) for an order.")
class Payment:
    id: strawberry.ID = strawberry.field(description="The payment's id.")
    method: PaymentMethod = strawberry.field(description="How.")
    status: PaymentStatus = strawberry.field(description="Where it is.")
    amount: Money = strawberry.field(description="The order's total when it was started.")
    qr_payload: str | None = strawberry.field(
        description="WeChat Pay / Alipay: what the QR code she scans encodes; null for cash and card."
    )
    terminal_reference: str | None = strawberry.field(description="The card terminal's slip number, or cash note.")
    created_at: dt.datetime = strawberry.field(description="When it was started.")
    settled_at: dt.datetime | None = strawberry.field(description="When it was paid.")

    @classmethod
    def from_row(cls, row: PaymentRow) -> Payment:
        return cls(
            id=strawberry.ID(str(saved_id(row))),
            method=PaymentMethod(row.method),
            status=PaymentStatus(row.status),
            amount=money(row.amount, row.currency),
            qr_payload=row.qr_payload,
            terminal_reference=row.terminal_reference,
            created_at=row.created_at,
            settled_at=row.settled_at,
        )


@strawberry.type(description="Money given back for some units of a paid order.")
class Refund:
    id: strawberry.ID = strawberry.field(description="The refund's id.")
    amount: Money = strawberry.field(description="How much.")
    status: RefundStatus = strawberry.field(description="Where it is.")
    reason: str = strawberry.field(description="Why, as the manager wrote.")
    restock: bool = strawberry.field(description="Whether the units went back on the shelf.")
    created_at: dt.datetime = strawberry.field(description="When.")

    @classmethod
    def from_row(cls, row: RefundRow, currency: str) -> Refund:
        return cls(
            id=strawberry.ID(str(saved_id(row))),
            amount=money(row.amount, currency),
            status=RefundStatus(row.status),
            reason=row.reason,
            restock=row.restock,
            created_at=row.created_at,
        )


@extends(Order, "payments", description="Its payments, oldest first (a QR payment may have been retried).")
async def order_payments(root: Order, info: strawberry.Info) -> list[Payment]:
    rows = await info.context.loader(services.payments_of, default=[]).load(root.id)
    return [Payment.from_row(row) for row in rows]


@extends(Order, "refunds", description="Its refunds, oldest first.")
async def order_refunds(root: Order, info: strawberry.Info) -> list[Refund]:
    rows = await info.context.loader(services.refunds_of, default=[]).load(root.id)
    return [Refund.from_row(row, root.total.currency) for row in rows]


PAYMENT_EXTENSIONS = (order_payments, order_refunds)
