"""The customer 360° view: who may open it, what is masked, and the derived insights.

Every function runs a fixed number of statements whatever the length of the
customer's history (the 360° benchmark and a test hold it to that).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import case
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..common.actor import Actor, ActorKind, Role
from ..common.clock import aggregate_time
from ..common.dialect import age_in_days
from ..common.errors import Forbidden
from .events import EventType
from .models import CustomerEvent, Identifier, PersonConsent, PersonTrait

HQ_READERS = (Role.HQ_ADMIN, Role.ANALYST, Role.LIVESTREAM_OPS)
UNMASKED_HQ = (Role.HQ_ADMIN,)
INTEREST_WEIGHTS = {
    EventType.PRODUCT_VIEW: 1.0, EventType.LIVESTREAM_PRODUCT_CLICK: 2.0, EventType.CART_ADD: 3.0,
    EventType.LIVESTREAM_BOOK_CLICK: 3.0, EventType.POS_PURCHASE: 4.0, EventType.UGC_POST: 2.0,
}
INTEREST_HALF_LIFE_DAYS = 14.0
INTEREST_HORIZON = timedelta(days=180)
# Events that put a customer in a store's care: she was there, or bought there.
STORE_RELATIONSHIP_TYPES = (EventType.STORE_VISIT.value, EventType.POS_PURCHASE.value,
                            EventType.LIVESTREAM_BOOK_CLICK.value)


@dataclass(frozen=True)
class Access:
    """How a viewer may see one customer."""

    masked: bool
    audited: bool


async def has_store_relationship(session: AsyncSession, person_id: int, store_id: int) -> bool:
    """She has a booking at the store, or visited or bought there (her timeline says so)."""
    from ..bookings.services import has_booking_at  # bookings builds on identity: imported when used

    if await has_booking_at(session, person_id, store_id):
        return True
    statement = select(CustomerEvent.id).where(
        CustomerEvent.person_id == person_id, CustomerEvent.store_id == store_id,
        col(CustomerEvent.type).in_(STORE_RELATIONSHIP_TYPES)).limit(1)
    return (await session.exec(statement)).first() is not None


async def access_for(session: AsyncSession, actor: Actor, person_id: int) -> Access:
    """HQ roles always (masked but for HQ admins); store roles only for their store's customers."""
    if actor.kind is ActorKind.CUSTOMER:
        if actor.id != person_id:
            raise Forbidden("customers read only their own data")
        return Access(masked=False, audited=False)
    if actor.has_role(*HQ_READERS):
        unmasked = actor.has_role(*UNMASKED_HQ)
        return Access(masked=not unmasked, audited=unmasked)
    if actor.store_id is not None and await has_store_relationship(session, person_id, actor.store_id):
        return Access(masked=False, audited=True)
    raise Forbidden("this customer has no booking, task or order at your store")


async def identifiers_of(session: AsyncSession, person_ids: Sequence[int]) -> dict[int, list[Identifier]]:
    rows = await session.exec(select(Identifier).where(col(Identifier.person_id).in_(person_ids))
                              .order_by(Identifier.type, Identifier.id))
    result: dict[int, list[Identifier]] = {p: [] for p in person_ids}
    for row in rows:
        result[row.person_id].append(row)
    return result


async def traits_of(session: AsyncSession, person_ids: Sequence[int]) -> dict[int, dict[str, PersonTrait]]:
    rows = await session.exec(select(PersonTrait).where(col(PersonTrait.person_id).in_(person_ids)))
    result: dict[int, dict[str, PersonTrait]] = {p: {} for p in person_ids}
    for row in rows:
        result[row.person_id][row.name] = row
    return result


async def consents_of(session: AsyncSession, person_ids: Sequence[int]) -> dict[int, list[PersonConsent]]:
    rows = await session.exec(select(PersonConsent).where(col(PersonConsent.person_id).in_(person_ids))
                              .order_by(PersonConsent.kind))
    result: dict[int, list[PersonConsent]] = {p: [] for p in person_ids}
    for row in rows:
        result[row.person_id].append(row)
    return result


@dataclass(frozen=True)
class Summary:
    """Facts drawn from the timeline with one aggregate query."""

    event_count: int
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    last_visit_at: datetime | None
    purchase_count: int
    lifetime_value: int  # fen, from POS purchases until orders land


async def summaries_of(session: AsyncSession, person_ids: Sequence[int]) -> dict[int, Summary]:
    visit = col(CustomerEvent.type).in_(STORE_RELATIONSHIP_TYPES[:2])
    purchase = CustomerEvent.type == EventType.POS_PURCHASE.value
    amount = CustomerEvent.properties["amount"].as_integer()  # checked to be an integer at ingestion
    rows = await session.exec(
        select(CustomerEvent.person_id, func.count(), func.min(CustomerEvent.occurred_at),
               func.max(CustomerEvent.occurred_at), func.max(case((visit, CustomerEvent.occurred_at))),
               func.sum(case((purchase, 1), else_=0)), func.sum(case((purchase, amount), else_=0)))
        .where(col(CustomerEvent.person_id).in_(person_ids)).group_by(CustomerEvent.person_id))
    result = {p: Summary(0, None, None, None, 0, 0) for p in person_ids}
    for person_id, count, first, last, last_visit, purchases, value in rows:
        result[person_id] = Summary(count, _aware(first), _aware(last), _aware(last_visit), int(purchases or 0),
                                    int(value or 0))
    return result


_aware = aggregate_time


@dataclass(frozen=True)
class Interest:
    product_id: int
    score: float
    reason: str


_VERBS = {
    EventType.PRODUCT_VIEW: "view", EventType.LIVESTREAM_PRODUCT_CLICK: "livestream click",
    EventType.CART_ADD: "cart add", EventType.LIVESTREAM_BOOK_CLICK: "booking click",
    EventType.POS_PURCHASE: "purchase", EventType.UGC_POST: "post",
}


async def interests_of(session: AsyncSession, person_id: int, now: datetime, limit: int = 10) -> list[Interest]:
    """Products ranked by weighted interactions, each halving in weight every 14 days (summed in SQL)."""
    kinds = list(INTEREST_WEIGHTS)
    weight = case(*((CustomerEvent.type == k.value, w) for k, w in INTEREST_WEIGHTS.items()), else_=0.0)
    decay = func.power(0.5, age_in_days(session, CustomerEvent.occurred_at, now) / INTEREST_HALF_LIFE_DAYS)
    score = func.sum(weight * decay).label("score")
    per_kind = [func.sum(case((CustomerEvent.type == k.value, 1), else_=0)) for k in kinds]
    rows = await session.exec(
        select(CustomerEvent.product_id, score, func.max(CustomerEvent.occurred_at), *per_kind)
        .where(CustomerEvent.person_id == person_id, col(CustomerEvent.product_id).is_not(None),
               col(CustomerEvent.type).in_([k.value for k in kinds]),
               CustomerEvent.occurred_at >= now - INTEREST_HORIZON)
        .group_by(CustomerEvent.product_id).order_by(score.desc(), CustomerEvent.product_id).limit(limit))
    interests = []
    for product_id, total, latest, *counts in rows:
        by_kind = {k: int(n) for k, n in zip(kinds, counts) if n}
        interests.append(Interest(product_id, round(float(total), 3), _explain(by_kind, _aware(latest), now)))
    return interests


def _explain(counts: dict[EventType, int], latest: datetime, now: datetime) -> str:
    parts = [f"{n} {_VERBS[k]}{'s' if n > 1 else ''}" for k, n in sorted(counts.items(), key=lambda kv: -kv[1])]
    days = max((now - latest).days, 0)
    when = "today" if days == 0 else f"{days} day{'s' if days > 1 else ''} ago"
    return f"{', '.join(parts)}; last {when}"


async def co_purchases(session: AsyncSession, person_id: int, limit: int = 5) -> list[tuple[int, int]]:
    """(product, buyers): bought by people who bought what she bought, that she has not.

    Bounded whatever the history: her 5 latest purchases, 300 purchases of those products by others.
    """
    purchase = CustomerEvent.type == EventType.POS_PURCHASE.value
    recent_own = (select(CustomerEvent.product_id).where(
        CustomerEvent.person_id == person_id, purchase, col(CustomerEvent.product_id).is_not(None))
        .order_by(col(CustomerEvent.occurred_at).desc()).limit(5).subquery())
    bought = select(recent_own.c.product_id)
    # Any 300 purchases of those products (no ordering: the scan stops early on a large history).
    some_buyers = (select(CustomerEvent.person_id).where(
        purchase, col(CustomerEvent.product_id).in_(bought), CustomerEvent.person_id != person_id)
        .limit(300).subquery())
    peers = select(some_buyers.c.person_id)
    all_bought = select(CustomerEvent.product_id).where(
        CustomerEvent.person_id == person_id, purchase, col(CustomerEvent.product_id).is_not(None))
    rows = await session.exec(
        select(CustomerEvent.product_id, func.count(func.distinct(CustomerEvent.person_id)).label("buyers"))
        .where(purchase, col(CustomerEvent.person_id).in_(peers),
               col(CustomerEvent.product_id).is_not(None), col(CustomerEvent.product_id).not_in(all_bought))
        .group_by(CustomerEvent.product_id).order_by(func.count(func.distinct(CustomerEvent.person_id)).desc(),
                                                     CustomerEvent.product_id).limit(limit))
    return [(product_id, buyers) for product_id, buyers in rows]


async def livestreams_watched(session: AsyncSession, person_id: int) -> list[int]:
    rows = await session.exec(
        select(CustomerEvent.livestream_id, func.max(CustomerEvent.occurred_at).label("last"))
        .where(CustomerEvent.person_id == person_id, col(CustomerEvent.livestream_id).is_not(None),
               CustomerEvent.type == EventType.LIVESTREAM_JOIN.value)
        .group_by(CustomerEvent.livestream_id).order_by(func.max(CustomerEvent.occurred_at).desc()))
    return [livestream_id for livestream_id, _ in rows]


def timeline_statement(person_id: int, types: Sequence[EventType] | None = None):
    statement = select(CustomerEvent).where(CustomerEvent.person_id == person_id)
    if types:
        statement = statement.where(col(CustomerEvent.type).in_([t.value for t in types]))
    return statement


async def has_any_event(session: AsyncSession, person_id: int, types: Sequence[str]) -> bool:
    statement = select(CustomerEvent.id).where(CustomerEvent.person_id == person_id,
                                               col(CustomerEvent.type).in_(list(types))).limit(1)
    return (await session.exec(statement)).first() is not None
