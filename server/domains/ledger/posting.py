"""Posting to the ledger from the orders' outbox events: PAID credits, REFUNDED reverses.

Run by a durable consumer (server.bus.DurableConsumer): each event is handled once, in the transaction
that records its receipt, whatever the number of replicas. A paid order's journey and the plan of each
line are frozen on its attribution; a refund reverses from the accruals themselves, never from plans.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ...outbox import Deferred, OutboxMessage, emit, register_durable, unhandled_by
from ..catalog.services import products_by_ids
from ..common.rows import exec_any, saved_id, select_columns, table_of
from ..coupons.services import grant_coupon
from ..orders import services as orders
from ..orders.models import OrderLine, SalesOrder
from ..orders.topics import ALL_ORDERS_TOPIC
from . import attribution, cache, standings
from .attribution import Journey, build_journey
from .errors import LedgerErrorCode as Code
from .models import EntryKind, LedgerEntry, OrderAttribution, Participant
from .periods import posting_period
from .plans import FrozenPlan, plan_for_line, plans_in_force
from .splits import Beneficiary, Part, commission_on, resolve_shares, reversal, split
from .topics import LEDGER_TOPIC

CONSUMER = "ledger"
register_durable(CONSUMER, (ALL_ORDERS_TOPIC,), ("PAID", "REFUNDED"))


@dataclass(frozen=True)
class Posting:
    """Where entries of one event go."""

    order: SalesOrder
    attribution: OrderAttribution
    kind: EntryKind
    event_key: str
    period: str
    at: datetime


async def handle_order_event(
    session: AsyncSession, message: OutboxMessage, now: datetime, zone: ZoneInfo
) -> str | None:
    try:
        if message.event == "PAID":
            return await credit_paid_order(session, message.payload["orderId"], now, zone)
        return await reverse_refund(session, message, now, zone)
    except BaseException:
        # Its savepoint is rolled back, and with it a period row's share lock this event may have taken,
        # and what it credited.
        cache.forget(session, "period:")
        if message.event == "PAID" and _is_id(message.payload):
            cache.keep(session, "credited", {message.payload["orderId"]: None})
        raise


async def read_ahead(session: AsyncSession, messages: Sequence[OutboxMessage]) -> None:
    """Read what crediting a batch's paid orders needs, a statement per kind instead of per order."""
    order_ids = sorted({m.payload["orderId"] for m in messages if m.event == "PAID" and _is_id(m.payload)})
    if not order_ids:
        return
    found = await cache.rows(session, "orders", order_ids, orders.orders_by_ids)
    lines = await cache.rows(session, "lines", order_ids, orders.lines_by_order)
    product_ids = sorted({line.product_id for found_lines in lines.values() for line in found_lines})
    await cache.rows(session, "products", product_ids, products_by_ids)
    await cache.rows(session, "coupons", order_ids, orders.coupons_by_order)
    credited = select(OrderAttribution.order_id).where(col(OrderAttribution.order_id).in_(order_ids))
    cache.keep(session, "credited", dict.fromkeys(order_ids, False) | dict.fromkeys(await session.exec(credited), True))
    await attribution.read_ahead(session, list(found.values()))


def _is_id(payload: dict[str, Any]) -> bool:
    return isinstance(payload.get("orderId"), int)


async def _credited(session: AsyncSession, order_id: int) -> bool:
    ahead = cache.known(session, "credited").get(order_id)
    if ahead is not None:
        return bool(ahead)
    return await session.get(OrderAttribution, order_id) is not None


async def credit_paid_order(session: AsyncSession, order_id: int, now: datetime, zone: ZoneInfo) -> str | None:
    """Attribute a paid order and credit each line's beneficiaries under the plan in force at payment."""
    order = (await cache.rows(session, "orders", [order_id], orders.orders_by_ids)).get(order_id)
    if order is None or order.paid_at is None:
        return Code.ORDER_NOT_CREDITED.value  # not a paid order (cannot happen for a PAID event)
    if await _credited(session, order_id):
        return "ALREADY_CREDITED"
    cache.keep(session, "credited", {order_id: True})
    lines = (await cache.rows(session, "lines", [order_id], orders.lines_by_order))[order_id]
    coupons = (await cache.rows(session, "coupons", [order_id], orders.coupons_by_order))[order_id]
    campaigns = [c.campaign_id for c in coupons]
    journey = await build_journey(session, order, order.paid_at)
    plans = await _plans_for(session, lines, campaigns, journey, order.paid_at)
    attribution = _attribution(order, journey, plans)
    session.add(attribution)
    posting = Posting(
        order,
        attribution,
        EntryKind.ACCRUAL,
        f"paid:{order_id}",
        await posting_period(session, order.paid_at, now, zone),
        order.paid_at,
    )
    parts = {}
    for line in lines:
        plan = plans[saved_id(line)]
        weights = resolve_shares(plan.shares, _present(order, journey), order.store_id)
        parts[saved_id(line)] = split(line.total, commission_on(line.total, plan.rate_basis_points), weights)
    await _post(session, posting, parts, plans, now, zone)
    await _reward_referrer(session, order_id, journey, plans, now)
    return None


async def _reward_referrer(
    session: AsyncSession, order_id: int, journey: Journey, plans: dict[int, FrozenPlan], now: datetime
) -> None:
    """A referred sale gives her referrer a coupon of each reward campaign its plans name, once per sale
    and campaign (the grant's key; the PAID event is handled once anyway)."""
    if journey.referrer_id is None:
        return
    for campaign_id in sorted({p.reward_campaign_id for p in plans.values() if p.reward_campaign_id}):
        key = f"referral:{order_id}:{campaign_id}"
        await grant_coupon(session, campaign_id, journey.referrer_id, now, reason_key=key)


async def _plans_for(
    session: AsyncSession, lines: Sequence[OrderLine], campaigns: list[int], journey: Journey, paid_at: datetime
) -> dict[int, FrozenPlan]:
    in_force = await plans_in_force(session, paid_at)
    products = await cache.rows(session, "products", sorted({line.product_id for line in lines}), products_by_ids)
    return {
        saved_id(line): plan_for_line(
            in_force,
            products[line.product_id].category_id if line.product_id in products else None,
            campaigns,
            journey.livestream_id,
        )
        for line in lines
    }


def _present(order: SalesOrder, journey: Journey) -> dict[Participant, int | None]:
    return {
        Participant.GUIDE: journey.guide_id,
        Participant.LIVESTREAM_TEAM: journey.team_id,
        Participant.STORE: order.store_id,
        Participant.REFERRER: journey.referrer_id,
    }


def _attribution(order: SalesOrder, journey: Journey, plans: dict[int, FrozenPlan]) -> OrderAttribution:
    return OrderAttribution(
        order_id=saved_id(order),
        person_id=order.person_id,
        store_id=order.store_id,
        guide_id=journey.guide_id,
        booking_id=order.booking_id,
        livestream_id=journey.livestream_id,
        team_id=journey.team_id,
        referrer_id=journey.referrer_id,
        journey={**journey.as_json(), "plans": {str(line): plan.as_json() for line, plan in plans.items()}},
        total=order.total,
        paid_at=order.paid_at or order.updated_at,
    )


async def _post(
    session: AsyncSession,
    posting: Posting,
    parts_by_line: dict[int, list[Part]],
    plans: dict[int, FrozenPlan],
    now: datetime,
    zone: ZoneInfo,
) -> None:
    sign = -1 if posting.kind is EntryKind.REVERSAL else 1
    credited: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    entries = []
    for line_id, parts in parts_by_line.items():
        for part in parts:
            if part.revenue == 0 and part.commission == 0:
                continue
            entries.append(_entry(posting, line_id, part, sign, plans.get(line_id), now))
            key = (part.beneficiary.kind.value, part.beneficiary.id)
            credited[key][0] += sign * part.revenue
            credited[key][1] += sign * part.commission
    if entries:
        await exec_any(session, ENTRY_INSERT, entries)
    await standings.record(session, entries, zone)
    emit(
        session,
        LEDGER_TOPIC,
        posting.kind.value,
        {
            "orderId": posting.order.id,
            "storeId": posting.order.store_id,
            "livestreamId": posting.attribution.livestream_id,
            "period": posting.period,
            "beneficiaries": [
                {"kind": kind, "id": bid, "revenue": amounts[0], "commission": amounts[1]}
                for (kind, bid), amounts in sorted(credited.items())
            ],
        },
        now,
    )


ENTRY_INSERT = sa.insert(table_of(LedgerEntry))  # entries are written by the batch, not one object each


def _entry(
    posting: Posting, line_id: int, part: Part, sign: int, plan: FrozenPlan | None, now: datetime
) -> dict[str, Any]:
    """One entry's column values."""
    return {
        "beneficiary_kind": part.beneficiary.kind.value,
        "beneficiary_id": part.beneficiary.id,
        "order_id": saved_id(posting.order),
        "line_id": line_id,
        "kind": posting.kind.value,
        "revenue": sign * part.revenue,
        "commission": sign * part.commission,
        "period": posting.period,
        "event_key": posting.event_key,
        "store_id": posting.order.store_id,
        "livestream_id": posting.attribution.livestream_id,
        "plan_id": plan.plan_id if plan else None,
        "note": None,
        "occurred_at": posting.at,
        "created_at": now,
    }


async def reverse_refund(session: AsyncSession, message: OutboxMessage, now: datetime, zone: ZoneInfo) -> str | None:
    """Take back, from each beneficiary, her share of what the refunded units earned (cumulatively)."""
    payload: dict[str, Any] = message.payload
    order_id = payload["orderId"]
    attribution = await session.get(OrderAttribution, order_id)
    if attribution is None:
        if await _payment_pending(session, order_id, saved_id(message)):
            raise Deferred(f"order {order_id}'s payment is not credited yet")
        return Code.ORDER_NOT_CREDITED.value
    order = (await orders.orders_by_ids(session, [order_id]))[order_id]
    refunded_now = {line["lineId"]: line["amount"] for line in payload["lines"]}
    accrued, reversed_so_far = await _line_credits(session, order_id, list(refunded_now))
    parts = {}
    for line_id, amount in refunded_now.items():
        done = reversed_so_far.get(line_id, {})
        already = sum(revenue for revenue, _ in done.values())
        parts[line_id] = reversal(accrued.get(line_id, []), done, already + amount)
    refund_key = payload.get("refundId") or f"message-{message.id}"
    posting = Posting(
        order,
        attribution,
        EntryKind.REVERSAL,
        f"refund:{refund_key}",
        await posting_period(session, message.created_at, now, zone),
        message.created_at,
    )
    plans = {int(k): FrozenPlan.from_json(v) for k, v in attribution.journey.get("plans", {}).items()}
    await _post(session, posting, parts, plans, now, zone)
    return None


async def _payment_pending(session: AsyncSession, order_id: int, before_message: int) -> bool:
    """Is this order's PAID event still waiting for the ledger (another replica holds it, say)?"""
    statement = select(OutboxMessage.id).where(
        unhandled_by(CONSUMER),
        col(OutboxMessage.event) == "PAID",
        col(OutboxMessage.id) < before_message,
        col(OutboxMessage.payload)["orderId"].as_integer() == order_id,
    )
    return (await session.exec(statement.limit(1))).first() is not None


Credits = dict[Beneficiary, tuple[int, int]]


async def _line_credits(
    session: AsyncSession, order_id: int, line_ids: list[int]
) -> tuple[dict[int, list[Part]], dict[int, Credits]]:
    """Per line: what each beneficiary was credited, and what she has given back so far (positive)."""
    statement = (
        select_columns(
            LedgerEntry.line_id,
            LedgerEntry.kind,
            LedgerEntry.beneficiary_kind,
            LedgerEntry.beneficiary_id,
            sa.func.sum(LedgerEntry.revenue),
            sa.func.sum(LedgerEntry.commission),
        )
        .where(col(LedgerEntry.order_id) == order_id, col(LedgerEntry.line_id).in_(line_ids))
        .group_by(
            col(LedgerEntry.line_id),
            col(LedgerEntry.kind),
            col(LedgerEntry.beneficiary_kind),
            col(LedgerEntry.beneficiary_id),
        )
    )
    accrued: dict[int, list[Part]] = defaultdict(list)
    reversed_so_far: dict[int, Credits] = defaultdict(dict)
    for line_id, kind, beneficiary_kind, beneficiary_id, revenue, commission in await exec_any(session, statement):
        beneficiary = Beneficiary(Participant(beneficiary_kind), beneficiary_id)
        if kind == EntryKind.ACCRUAL.value:
            accrued[line_id].append(Part(beneficiary, int(revenue), int(commission)))
        elif kind == EntryKind.REVERSAL.value:
            reversed_so_far[line_id][beneficiary] = (-int(revenue), -int(commission))
    return accrued, reversed_so_far
