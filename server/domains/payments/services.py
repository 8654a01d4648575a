"""Payment use cases: at the counter (cash, card terminal), by QR code (WeChat Pay, Alipay) with the
providers' notifications and a reconciliation job, and refunds back through the method that took the money.

A provider is called outside any open transaction when a payment starts (the
QR code), and inside the refund's transaction (its rows stay locked, and a
refused refund writes nothing); both vendors treat a retried out_refund_no as
the same refund.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ...db import claim
from ...outbox import emit
from ...unit_of_work import use_case
from ..common.actor import Actor, ActorKind, Role
from ..common.errors import DomainError
from ..common.idempotency import create_once
from ..common.rows import saved_id
from ..common.validation import Validator
from ..orders import services as orders
from ..orders.models import SalesOrder
from ..orders.refunds import RefundLine, announce_refund
from .errors import PaymentErrorCode as Code
from .models import Payment, PaymentMethod, PaymentStatus, Refund, RefundState
from .providers import ChargeState, ChargeStatus, NativeCharge, PaymentProvider, ProviderError, RefundCharge

logger = logging.getLogger("irs.payments")
PAY_KEY_SCOPE = "orderPay"
REFUND_KEY_SCOPE = "orderRefund"
AT_THE_COUNTER = frozenset({PaymentMethod.CASH, PaymentMethod.CARD_TERMINAL})
PROVIDER_OF = {PaymentMethod.WECHAT_PAY: "wechat_pay", PaymentMethod.ALIPAY: "alipay"}
RECONCILE_BATCH = 20
PAYMENTS_TOPIC = "payments.all"
ORPHAN_REASON = "paid after the order was closed"
# Charges a provider's success settles: pending, or closed here while the customer was still paying.
UNSETTLED = frozenset({PaymentStatus.PENDING.value, PaymentStatus.CLOSED.value, PaymentStatus.FAILED.value})


@dataclass(frozen=True)
class Providers:
    """The configured providers by name, and the public base URL their notifications come back to."""

    by_name: Mapping[str, PaymentProvider]
    public_url: str

    def for_method(self, method: PaymentMethod) -> PaymentProvider | None:
        name = PROVIDER_OF.get(method)
        return self.by_name.get(name) if name else None

    def notify_url(self, provider: PaymentProvider) -> str:
        return f"{self.public_url.rstrip('/')}/payments/{provider.name}/notify"


class UnknownCharge(Exception):
    """A notification for a charge IRS never made (or made with another provider)."""


class AmountMismatch(Exception):
    """A notification whose amount or currency is not the charge's: refused, nothing written."""


def _out_trade_no() -> str:
    return "IRS" + secrets.token_hex(12).upper()  # 27 characters, letters and digits: both vendors take it


def _require_payer(actor: Actor, order: SalesOrder, method: PaymentMethod) -> None:
    """Store staff take payment at their store; a customer pays her own order by QR code."""
    if actor.kind is ActorKind.CUSTOMER:
        orders.require_order_access(actor, order)
        if method in AT_THE_COUNTER:
            raise DomainError.single(Code.METHOD_NOT_ALLOWED, "cash and card are taken at the counter", ("method",))
        return
    actor.require_role(Role.GUIDE, Role.STORE_MANAGER)
    actor.require_store(order.store_id)


def _check_reference(method: PaymentMethod, reference: str | None) -> str | None:
    check = Validator()
    if method is PaymentMethod.CARD_TERMINAL and not (reference or "").strip():
        check.add(Code.TERMINAL_REFERENCE_REQUIRED, "give the card terminal's slip number", ("terminalReference",))
    elif reference is not None:
        reference = check.text(("terminalReference",), reference, max_length=64)
    check.raise_if_any()
    return reference


@use_case
async def pay_at_counter(
    session: AsyncSession,
    actor: Actor,
    order_id: int,
    method: PaymentMethod,
    terminal_reference: str | None,
    now: datetime,
    idempotency_key: str | None = None,
) -> Payment:
    """Cash or card at the store's terminal: settled at once, with the order, in one transaction."""
    if method not in AT_THE_COUNTER:
        raise ValueError("pay_at_counter takes CASH or CARD_TERMINAL")
    order = await orders.order_for_update(session, order_id)
    _require_payer(actor, order, method)
    reference = _check_reference(method, terminal_reference)

    async def settle() -> Payment:
        orders.require_payable(order)
        payment = Payment(
            order_id=order_id,
            method=method.value,
            status=PaymentStatus.SUCCEEDED.value,
            out_trade_no=_out_trade_no(),
            amount=order.total,
            currency=order.currency,
            terminal_reference=reference,
            created_by=actor.key,
            created_at=now,
            settled_at=now,
        )
        session.add(payment)
        await session.flush()
        await orders.settle_paid(session, order, _paid_message(payment), now)
        return payment

    payload = {"order": order_id, "method": method.value, "reference": reference}
    return await create_once(
        session,
        actor=actor.key,
        scope=PAY_KEY_SCOPE,
        key=idempotency_key,
        payload=payload,
        create=settle,
        model=Payment,
    )


def _paid_message(payment: Payment) -> dict[str, object]:
    return {"paymentId": payment.id, "method": payment.method, "amount": payment.amount}


@use_case
async def open_online_payment(
    session: AsyncSession,
    actor: Actor,
    order_id: int,
    method: PaymentMethod,
    providers: Providers,
    now: datetime,
    idempotency_key: str | None = None,
) -> Payment:
    """A PENDING charge for the order's total (the QR code comes from the provider next, outside this
    transaction). The order stays unpaid, and does not expire, while the charge is pending."""
    order = await orders.order_for_update(session, order_id)
    _require_payer(actor, order, method)
    if providers.for_method(method) is None:
        raise DomainError.single(Code.PROVIDER_UNAVAILABLE, f"{method.value} is not configured here", ("method",))

    async def open_charge() -> Payment:
        orders.require_payable(order)
        payment = Payment(
            order_id=order_id,
            method=method.value,
            status=PaymentStatus.PENDING.value,
            out_trade_no=_out_trade_no(),
            amount=order.total,
            currency=order.currency,
            created_by=actor.key,
            created_at=now,
        )
        session.add(payment)
        await session.flush()
        return payment

    payload = {"order": order_id, "method": method.value}
    return await create_once(
        session,
        actor=actor.key,
        scope=PAY_KEY_SCOPE,
        key=idempotency_key,
        payload=payload,
        create=open_charge,
        model=Payment,
    )


async def request_qr_code(session: AsyncSession, payment: Payment, providers: Providers, description: str) -> Payment:
    """Ask the provider for the charge's QR code and keep it; a provider that refuses fails the charge."""
    if payment.status != PaymentStatus.PENDING.value or payment.qr_payload:
        return payment
    provider = providers.for_method(PaymentMethod(payment.method))
    assert provider is not None, "open_online_payment checked it"
    charge = NativeCharge(payment.out_trade_no, description[:100], payment.amount, payment.currency)
    try:
        qr = await provider.create_native(charge, providers.notify_url(provider))
    except ProviderError as error:
        logger.warning("payment %s: %s refused the charge: %s", payment.id, provider.name, error)
        await _fail(session, saved_id(payment))
        raise DomainError.single(
            Code.PROVIDER_UNAVAILABLE, f"{provider.name} refused: {error.code}", ("method",)
        ) from None
    return await _keep_qr(session, saved_id(payment), qr)


@use_case
async def _keep_qr(session: AsyncSession, payment_id: int, qr: str) -> Payment:
    payment = await session.get(Payment, payment_id, with_for_update=True, populate_existing=True)
    assert payment is not None
    payment.qr_payload = qr[:512]
    return payment


@use_case
async def _fail(session: AsyncSession, payment_id: int) -> None:
    payment = await session.get(Payment, payment_id, with_for_update=True, populate_existing=True)
    if payment is not None and payment.status == PaymentStatus.PENDING.value:
        payment.status = PaymentStatus.FAILED.value


@use_case
async def record_charge(session: AsyncSession, provider_name: str, status: ChargeStatus, now: datetime) -> Payment:
    """What the provider says of a charge (a verified notification, or its answer to reconciliation).

    A success settles the order with its payment in one transaction; a repeat is harmless. A charge IRS
    never made is UnknownCharge, a success whose amount or currency is not the charge's AmountMismatch:
    both write nothing.
    """
    statement = select(Payment).where(Payment.out_trade_no == status.out_trade_no).with_for_update()
    payment = (await session.exec(statement)).first()
    if payment is None or PROVIDER_OF.get(PaymentMethod(payment.method)) != provider_name:
        raise UnknownCharge(status.out_trade_no)
    if status.state is ChargeState.SUCCEEDED:
        if (status.amount, status.currency) != (payment.amount, payment.currency):
            raise AmountMismatch(
                f"{status.amount} {status.currency} for a charge of {payment.amount} {payment.currency}"
            )
        if payment.status in UNSETTLED:  # a repeat, or news of one settled already, changes nothing
            await _settle(session, payment, status, now)
    elif status.state in (ChargeState.CLOSED, ChargeState.FAILED) and payment.status == PaymentStatus.PENDING.value:
        payment.status = PaymentStatus.CLOSED.value
    return payment


async def _settle(session: AsyncSession, payment: Payment, status: ChargeStatus, now: datetime) -> None:
    payment.status, payment.settled_at = PaymentStatus.SUCCEEDED.value, status.paid_at or now
    payment.provider_transaction_id = status.transaction_id
    order = await orders.order_for_update(session, payment.order_id)
    if order.status == orders.OrderStatus.PENDING_PAYMENT.value:
        await orders.settle_paid(session, order, _paid_message(payment), now)
        return
    # Paid after the order was cancelled, expired or paid another way: the money goes back (refund_orphans).
    logger.warning("payment %s succeeded for order %s, which is %s: refunding it", payment.id, order.id, order.status)
    payment.status = PaymentStatus.ORPHANED.value
    message = {"paymentId": payment.id, "orderId": order.id, "orderStatus": order.status, "amount": payment.amount}
    emit(session, PAYMENTS_TOPIC, "ORPHANED", message, now)


@use_case
async def refund_orphans(session: AsyncSession, providers: Providers, now: datetime) -> int:
    """Give back, whole, what was paid for an order that could no longer be paid (a batch per run, rows
    claimed with SKIP LOCKED). The refund number is derived from the charge's, so a retry after a crash
    is the same refund at the vendor."""
    statement = (
        select(Payment)
        .where(Payment.status == PaymentStatus.ORPHANED.value)
        .order_by(col(Payment.id))
        .limit(RECONCILE_BATCH)
    )
    orphans = list((await session.exec(claim(statement, session))).all())
    for payment in orphans:
        provider = providers.for_method(PaymentMethod(payment.method))
        if provider is None:
            continue
        refund_no = "RF" + payment.out_trade_no[3:]
        charge = RefundCharge(
            payment.out_trade_no, refund_no, payment.amount, payment.amount, payment.currency, ORPHAN_REASON
        )
        try:
            answer = await provider.refund(charge)
        except ProviderError as error:
            logger.warning("refunding orphaned payment %s: %s", payment.id, error)
            continue
        session.add(
            Refund(
                order_id=payment.order_id,
                payment_id=saved_id(payment),
                out_refund_no=refund_no,
                amount=payment.amount,
                status=(RefundState.SUCCEEDED if answer.succeeded else RefundState.PENDING).value,
                reason=ORPHAN_REASON,
                restock=False,
                lines=[],
                provider_refund_id=answer.refund_id,
                created_by="payments",
                created_at=now,
                settled_at=now if answer.succeeded else None,
            )
        )
        payment.status, payment.refunded_amount = PaymentStatus.REFUNDED.value, payment.amount
        emit(session, PAYMENTS_TOPIC, "REFUNDED", {"paymentId": payment.id, "orderId": payment.order_id}, now)
    return len(orphans)


async def pending_order_ids(session: AsyncSession, since: datetime) -> list[int]:
    """Orders with a charge pending at a provider, opened after ``since``: they do not expire yet."""
    statement = select(Payment.order_id).where(
        Payment.status == PaymentStatus.PENDING.value, Payment.created_at > since
    )
    return list(set((await session.exec(statement)).all()))


@use_case
async def expire_unpaid_orders(session: AsyncSession, now: datetime, reconcile_after: timedelta) -> int:
    """Unpaid orders past their time give their units back, except those with a charge still pending at
    a provider (reconciliation settles or closes it first)."""
    keep = await pending_order_ids(session, since=now - orders.ORDER_TTL - reconcile_after * 2)
    return await orders.expire_unpaid_orders(session, now, keep)


@use_case
async def reconcile(session: AsyncSession, providers: Providers, now: datetime, older_than: timedelta) -> int:
    """Ask the providers about charges pending for longer than ``older_than`` (a notification may have
    been lost); a batch per run, rows claimed with SKIP LOCKED. Charges still pending after the order's
    time plus ``older_than`` are closed here, so the order can expire."""
    statement = (
        select(Payment)
        .where(Payment.status == PaymentStatus.PENDING.value, Payment.created_at <= now - older_than)
        .order_by(col(Payment.created_at))
        .limit(RECONCILE_BATCH)
    )
    due = list((await session.exec(claim(statement, session))).all())
    for payment in due:
        provider = providers.for_method(PaymentMethod(payment.method))
        if provider is None:
            continue
        try:
            status = await provider.query(payment.out_trade_no)
        except ProviderError as error:
            logger.warning("reconciling payment %s: %s", payment.id, error)
            continue
        if status.state is ChargeState.SUCCEEDED and (status.amount, status.currency) == (
            payment.amount,
            payment.currency,
        ):
            await _settle(session, payment, status, now)
        elif (
            status.state in (ChargeState.CLOSED, ChargeState.FAILED)
            or payment.created_at <= now - orders.ORDER_TTL - older_than
        ):
            payment.status = PaymentStatus.CLOSED.value
    return len(due)


@dataclass(frozen=True)
class RefundRequest:
    order_id: int
    lines: Sequence[RefundLine]
    reason: str
    restock: bool


@use_case
async def refund_order(
    session: AsyncSession,
    actor: Actor,
    request: RefundRequest,
    providers: Providers,
    now: datetime,
    idempotency_key: str | None = None,
) -> Refund:
    """A manager gives money back for some units of a paid order, through the method that took it."""
    actor.require_role(Role.STORE_MANAGER, Role.HQ_ADMIN)
    order = await orders.order_for_update(session, request.order_id)
    actor.require_store(order.store_id)
    check = Validator()
    reason = check.text(("reason",), request.reason, max_length=200)
    check.raise_if_any()

    async def give_back() -> Refund:
        payment = await _taken(session, order)
        refunded = await orders.apply_refund(session, order, request.lines, request.restock, actor.key, now)
        amount = sum(line.amount for line in refunded)
        refund = Refund(
            order_id=saved_id(order),
            payment_id=saved_id(payment),
            out_refund_no="RF" + secrets.token_hex(12).upper(),
            amount=amount,
            status=RefundState.SUCCEEDED.value,
            reason=reason,
            restock=request.restock,
            lines=[asdict(line) for line in refunded],
            created_by=actor.key,
            created_at=now,
            settled_at=now,
        )
        session.add(refund)
        payment.refunded_amount += amount
        await session.flush()
        await _through_provider(payment, refund, providers, now)
        announce_refund(session, order, refund.id, amount, refunded, now)
        return refund

    payload = {**asdict(request), "lines": [asdict(line) for line in request.lines]}
    return await create_once(
        session,
        actor=actor.key,
        scope=REFUND_KEY_SCOPE,
        key=idempotency_key,
        payload=payload,
        create=give_back,
        model=Refund,
    )


async def _taken(session: AsyncSession, order: SalesOrder) -> Payment:
    statement = (
        select(Payment)
        .where(Payment.order_id == order.id, Payment.status == PaymentStatus.SUCCEEDED.value)
        .with_for_update()
    )
    payment = (await session.exec(statement.order_by(col(Payment.id)))).first()
    if payment is None or order.status != orders.OrderStatus.PAID.value:
        raise DomainError.single(Code.NOT_REFUNDABLE, f"the order is {order.status}: nothing was paid", ("orderId",))
    return payment


async def _through_provider(payment: Payment, refund: Refund, providers: Providers, now: datetime) -> None:
    method = PaymentMethod(payment.method)
    if method in AT_THE_COUNTER:
        return  # handed back at the counter
    provider = providers.for_method(method)
    if provider is None:
        raise DomainError.single(Code.PROVIDER_UNAVAILABLE, f"{method.value} is not configured here", ())
    charge = RefundCharge(
        payment.out_trade_no, refund.out_refund_no, refund.amount, payment.amount, payment.currency, refund.reason
    )
    try:
        answer = await provider.refund(charge)
    except ProviderError as error:
        raise DomainError.single(
            Code.PROVIDER_UNAVAILABLE, f"{provider.name} refused the refund: {error.code}", ()
        ) from None
    refund.provider_refund_id = answer.refund_id
    if not answer.succeeded:  # accepted, still processing at the vendor
        refund.status, refund.settled_at = RefundState.PENDING.value, None


async def payments_of(session: AsyncSession, order_ids: Sequence[int]) -> dict[int, list[Payment]]:
    found: dict[int, list[Payment]] = {order_id: [] for order_id in order_ids}
    statement = select(Payment).where(col(Payment.order_id).in_(list(order_ids))).order_by(col(Payment.id))
    for payment in await session.exec(statement):
        found[payment.order_id].append(payment)
    return found


async def refunds_of(session: AsyncSession, order_ids: Sequence[int]) -> dict[int, list[Refund]]:
    found: dict[int, list[Refund]] = {order_id: [] for order_id in order_ids}
    statement = select(Refund).where(col(Refund.order_id).in_(list(order_ids))).order_by(col(Refund.id))
    for refund in await session.exec(statement):
        found[refund.order_id].append(refund)
    return found
