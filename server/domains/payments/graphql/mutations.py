"""Payment mutations: orderPay (counter or QR code) and orderRefund (managers)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession

from ....api.errors import mutate
from ....api.nodes import local_id
from ....api.permissions import authenticated, roles
from ...common.actor import Role
from ...orders.graphql.mutations import line_key
from ...orders.graphql.types import Order
from ...orders.refunds import RefundLine
from ...orders.services import orders_by_ids
from .. import services
from ..models import PaymentMethod as MethodValue
from .types import Payment, PaymentMethod, PaymentUserError, Refund

IDEMPOTENCY_KEY = "1-128 characters: a retry with the same key by you returns the first result and writes nothing."


@strawberry.input(description="Pay for an order.")
class OrderPayInput:
    order_id: strawberry.ID = strawberry.field(description="The Order (PENDING_PAYMENT).")
    method: PaymentMethod = strawberry.field(
        description="CASH and CARD_TERMINAL settle at once (store staff); WECHAT_PAY and ALIPAY answer a QR code "
        "to show her and settle when the provider tells us (orderPaid, live)."
    )
    terminal_reference: str | None = strawberry.field(
        default=None, description="CARD_TERMINAL: the slip number (required); CASH: an optional note. 1-64 characters."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input(description="Units of a line to refund.")
class RefundLineInput:
    line_id: strawberry.ID = strawberry.field(description="The OrderLine's id.")
    quantity: int = strawberry.field(description="1 up to the units paid and not yet refunded.")


@strawberry.input(description="Give money back for some units of a paid order.")
class OrderRefundInput:
    order_id: strawberry.ID = strawberry.field(description="The Order (PAID).")
    lines: list[RefundLineInput] = strawberry.field(description="1 to 30 lines; each line at most once.")
    reason: str = strawberry.field(description="1-200 characters.")
    restock: bool = strawberry.field(description="Whether the units go back on the shelf where they came from.")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.type(description="The answer to orderPay.")
class OrderPayPayload:
    order: Order | None = strawberry.field(default=None, description="The order (PAID when settled); null on errors.")
    payment: Payment | None = strawberry.field(
        default=None, description="The payment: SUCCEEDED, or PENDING with its qrPayload; null on errors."
    )
    errors: list[PaymentUserError] = strawberry.field(
        description="Why nothing was paid (NOT_PAYABLE, METHOD_NOT_ALLOWED, TERMINAL_REFERENCE_REQUIRED, "
        "PROVIDER_UNAVAILABLE, a coupon already redeemed, or an input check); empty on success."
    )


@strawberry.type(description="The answer to orderRefund.")
class OrderRefundPayload:
    order: Order | None = strawberry.field(default=None, description="The order after the refund; null on errors.")
    refund: Refund | None = strawberry.field(default=None, description="The refund; null on errors.")
    errors: list[PaymentUserError] = strawberry.field(
        description="Why nothing was given back (REFUND_EXCEEDS_PAID, NOT_REFUNDABLE, PROVIDER_UNAVAILABLE or an "
        "input check); empty on success."
    )


@strawberry.type
class PaymentMutation:
    @strawberry.mutation(
        extensions=authenticated(),
        description="Pay for an order: store staff at its store (any method), or the customer herself by QR code.",
    )
    async def order_pay(
        self, info: strawberry.Info, input: Annotated[OrderPayInput, strawberry.argument(description="The payment.")]
    ) -> OrderPayPayload:
        actor = await info.context.viewer()
        runtime = info.context.runtime
        method, order_id = MethodValue(input.method.value), local_id(input.order_id, "Order")

        async def action(session: AsyncSession) -> dict[str, Any]:
            now = runtime.clock.now()
            if method in services.AT_THE_COUNTER:
                payment = await services.pay_at_counter(
                    session, actor, order_id, method, input.terminal_reference, now, input.idempotency_key
                )
            else:
                payment = await services.open_online_payment(
                    session, actor, order_id, method, runtime.payments, now, input.idempotency_key
                )
                payment = await services.request_qr_code(
                    session, payment, runtime.payments, f"{runtime.settings.brand_name} SO{order_id:08d}"
                )
            order = (await orders_by_ids(session, [order_id]))[order_id]
            await session.refresh(order)
            return {"payment": Payment.from_row(payment), "order": Order.from_row(order)}

        return await mutate(info, OrderPayPayload, PaymentUserError, action)

    @strawberry.mutation(
        extensions=roles(Role.STORE_MANAGER, Role.HQ_ADMIN),
        description="Refund units of a paid order through the method that took the money; coupons are not given "
        "back. The store's manager, or HQ_ADMIN.",
    )
    async def order_refund(
        self, info: strawberry.Info, input: Annotated[OrderRefundInput, strawberry.argument(description="The refund.")]
    ) -> OrderRefundPayload:
        actor = await info.context.viewer()
        runtime = info.context.runtime
        request = services.RefundRequest(
            order_id=local_id(input.order_id, "Order"),
            lines=[RefundLine(line_key(line.line_id), line.quantity) for line in input.lines],
            reason=input.reason,
            restock=input.restock,
        )

        async def action(session: AsyncSession) -> dict[str, Any]:
            refund = await services.refund_order(
                session, actor, request, runtime.payments, runtime.clock.now(), input.idempotency_key
            )
            order = (await orders_by_ids(session, [request.order_id]))[request.order_id]
            await session.refresh(order)
            return {"refund": Refund.from_row(refund, order.currency), "order": Order.from_row(order)}

        return await mutate(info, OrderRefundPayload, PaymentUserError, action)
