"""The customer 360° view: who may open it, what is masked, and the derived insights.

Every function runs a fixed number of statements whatever the length of the
customer's history (the 360° benchmark and a test hold it to that).

The insight statements are built once per dialect with bound parameters:
building and hashing them anew cost more Python time than running them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy import case
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ...clock import aggregate_time
from ...unit_of_work import use_case
from ..common.actor import Actor, ActorKind, Role
from ..common.audit import audit
from ..common.dialect import age_in_days, among, dialect_of, now_parameter
from ..common.errors import Forbidden
from ..common.rows import select_columns, table_of
from . import hooks
from .events import EventType
from .models import CustomerEvent, Identifier, PersonConsent, PersonTrait

HQ_READERS = (Role.HQ_ADMIN, Role.ANALYST, Role.LIVESTREAM_OPS)
UNMASKED_HQ = (Role.HQ_ADMIN,)
INTEREST_WEIGHTS = {
    EventType.PRODUCT_VIEW: 1.0,
    EventType.LIVESTREAM_PRODUCT_CLICK: 2.0,
    EventType.CART_ADD: 3.0,
    EventType.LIVESTREAM_BOOK_CLICK: 3.0,
    EventType.POS_PURCHASE: 4.0,
    EventType.UGC_POST: 2.0,
}
INTEREST_HALF_LIFE_DAYS = 14.0
INTEREST_HORIZON = timedelta(days=180)
# Events that put a customer in a store's care: she was there, or bought there.
STORE_RELATIONSHIP_TYPES = (
    EventType.STORE_VISIT.value,
    EventType.POS_PURCHASE.value,
    EventType.LIVESTREAM_BOOK_CLICK.value,
)


@use_case
async def record_unmasked_read(
    session: AsyncSession, actor_key: str, person_id: int, now: datetime, request_id: str | None
) -> None:
    """Staff saw her unmasked: the audit log says who, when, and in which request."""
    audit(session, actor_key, "customer.read_unmasked", f"person:{person_id}", now, requestId=request_id)


@dataclass(frozen=True)
class Access:
    """How a viewer may see one customer."""

    masked: bool
    audited: bool


async def has_store_relationship(session: AsyncSession, person_id: int, store_id: int) -> bool:
    """She has a booking at the store (or what another domain above counts), or visited or bought there
    (her timeline says so)."""
    if await hooks.related_elsewhere(session, person_id, store_id):
        return True
    statement = (
        select(CustomerEvent.id)
        .where(
            CustomerEvent.person_id == person_id,
            CustomerEvent.store_id == store_id,
            col(CustomerEvent.type).in_(STORE_RELATIONSHIP_TYPES),
        )
        .limit(1)
    )
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


_aware = aggregate_time


# Statements of table columns (Core, not ORM): rows come back as plain tuples named as the models' fields,
# and SQLAlchemy spends less on each.
_event, _identifier = table_of(CustomerEvent).c, table_of(Identifier).c
_trait, _consent = table_of(PersonTrait).c, table_of(PersonConsent).c


class IdentifierRow(NamedTuple):
    type: str
    namespace: str
    value: str
    created_at: datetime


class TraitRow(NamedTuple):
    value: Any
    occurred_at: datetime


class ConsentRow(NamedTuple):
    kind: str
    granted: bool
    occurred_at: datetime


@dataclass
class Profile:
    """What a person's touchpoints told about her: identifiers (by type), traits (by name), consents (by kind)."""

    identifiers: list[IdentifierRow] = field(default_factory=list)
    traits: dict[str, TraitRow] = field(default_factory=dict)
    consents: list[ConsentRow] = field(default_factory=list)


@lru_cache
def _profile_statement(dialect: str):
    """Identifiers, traits and consents in one statement (one round trip rather than three): each
    table fills its own columns of (part, person_id, name, value, namespace, data, granted, at, id)."""

    def nothing(kind):
        return sa.cast(sa.null(), kind)

    def of(table, *columns):
        return select(*columns).where(among(dialect, table.person_id, "person_ids"))

    union = sa.union_all(
        of(
            _identifier,
            sa.literal("identifier").label("part"),
            _identifier.person_id,
            _identifier.type.label("name"),
            _identifier.value,
            _identifier.namespace,
            nothing(sa.JSON).label("data"),
            nothing(sa.Boolean).label("granted"),
            _identifier.created_at.label("at"),
            _identifier.id,
        ),
        of(
            _trait,
            sa.literal("trait"),
            _trait.person_id,
            _trait.name,
            nothing(sa.String),
            nothing(sa.String),
            _trait.value,
            nothing(sa.Boolean),
            _trait.occurred_at,
            nothing(sa.Integer),
        ),
        of(
            _consent,
            sa.literal("consent"),
            _consent.person_id,
            _consent.kind,
            nothing(sa.String),
            nothing(sa.String),
            nothing(sa.JSON),
            _consent.granted,
            _consent.occurred_at,
            nothing(sa.Integer),
        ),
    ).subquery()
    return select(*union.c).order_by(union.c.part, union.c.name, union.c.id)  # identifiers by type, consents by kind


async def profiles_of(session: AsyncSession, person_ids: Sequence[int]) -> dict[int, Profile]:
    result = {p: Profile() for p in person_ids}
    rows = await session.exec(_profile_statement(dialect_of(session)), params={"person_ids": list(person_ids)})
    for part, person_id, name, value, namespace, data, granted, at, _ in rows:
        profile = result[person_id]
        if part == "identifier":
            profile.identifiers.append(IdentifierRow(name, namespace, value, at))
        elif part == "trait":
            profile.traits[name] = TraitRow(data, at)
        else:
            profile.consents.append(ConsentRow(name, granted, at))
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


@dataclass(frozen=True)
class Activity:
    """Her summary and the livestreams she joined (most recent first): one pass over her timeline."""

    summary: Summary
    livestreams: list[int]


NO_ACTIVITY = Activity(Summary(0, None, None, None, 0, 0), [])


@lru_cache
def _activity_statement(dialect: str):
    """Aggregates per person and livestream (a few groups each: one is her events of no livestream)."""
    visit = _event.type.in_(STORE_RELATIONSHIP_TYPES[:2])
    purchase = _event.type == EventType.POS_PURCHASE.value
    joined = _event.type == EventType.LIVESTREAM_JOIN.value
    # Checked to be a whole number at ingestion; 64-bit, as one can exceed 2^31 fen.
    amount = sa.cast(_event.properties["amount"].as_string(), sa.BigInteger)
    return (
        select_columns(
            _event.person_id,
            _event.livestream_id,
            func.count(),
            func.min(_event.occurred_at),
            func.max(_event.occurred_at),
            func.max(_event.occurred_at).filter(visit),
            func.count().filter(purchase),
            func.sum(amount).filter(purchase),
            func.max(_event.occurred_at).filter(joined),
        )
        .where(among(dialect, _event.person_id, "person_ids"))
        .group_by(_event.person_id, _event.livestream_id)
    )


async def activities_of(session: AsyncSession, person_ids: Sequence[int]) -> dict[int, Activity]:
    rows = await session.exec(_activity_statement(dialect_of(session)), params={"person_ids": list(person_ids)})
    groups: dict[int, list] = {}
    for person_id, *group in rows:
        groups.setdefault(person_id, []).append(group)
    return {p: _activity(groups[p]) if p in groups else NO_ACTIVITY for p in person_ids}


def _activity(groups: list) -> Activity:
    """Her events' groups (by livestream) folded into her summary and the livestreams she joined."""

    def latest(moments) -> datetime | None:
        return max((m for m in map(_aware, moments) if m is not None), default=None)

    livestream_ids, counts, firsts, lasts, visits, purchases, values, joins = zip(*groups, strict=False)
    summary = Summary(
        sum(counts),
        min(map(_aware, firsts)),
        latest(lasts),
        latest(visits),
        int(sum(p or 0 for p in purchases)),
        int(sum(v or 0 for v in values)),
    )
    joined = sorted(
        (
            (_aware(at), livestream_id)
            for livestream_id, at in zip(livestream_ids, joins, strict=False)
            if livestream_id is not None and at is not None
        ),
        reverse=True,
    )
    return Activity(summary, [livestream_id for _, livestream_id in joined])


async def summaries_of(session: AsyncSession, person_ids: Sequence[int]) -> dict[int, Summary]:
    return {p: activity.summary for p, activity in (await activities_of(session, person_ids)).items()}


@dataclass(frozen=True)
class Interest:
    product_id: int
    score: float
    reason: str


_VERBS = {
    EventType.PRODUCT_VIEW: "view",
    EventType.LIVESTREAM_PRODUCT_CLICK: "livestream click",
    EventType.CART_ADD: "cart add",
    EventType.LIVESTREAM_BOOK_CLICK: "booking click",
    EventType.POS_PURCHASE: "purchase",
    EventType.UGC_POST: "post",
}


@lru_cache
def _interest_statement(dialect: str):
    kinds = list(INTEREST_WEIGHTS)
    weight = case(*((_event.type == k.value, w) for k, w in INTEREST_WEIGHTS.items()), else_=0.0)
    decay = func.power(0.5, age_in_days(dialect, _event.occurred_at) / INTEREST_HALF_LIFE_DAYS)
    score = func.sum(weight * decay).label("score")
    per_kind = [func.count().filter(_event.type == k.value) for k in kinds]
    return (
        select(_event.product_id, score, func.max(_event.occurred_at), *per_kind)
        .where(
            _event.person_id == sa.bindparam("person_id"),
            _event.product_id.is_not(None),
            _event.type.in_([k.value for k in kinds]),
            _event.occurred_at >= sa.bindparam("since"),
        )
        .group_by(_event.product_id)
        .order_by(score.desc(), _event.product_id)
        .limit(sa.bindparam("limit", type_=sa.Integer))
    )


async def interests_of(session: AsyncSession, person_id: int, now: datetime, limit: int = 10) -> list[Interest]:
    """Products ranked by weighted interactions, each halving in weight every 14 days (summed in SQL)."""
    dialect = dialect_of(session)
    rows = await session.exec(
        _interest_statement(dialect),
        params={
            "person_id": person_id,
            "now": now_parameter(dialect, now),
            "since": now - INTEREST_HORIZON,
            "limit": limit,
        },
    )
    kinds = list(INTEREST_WEIGHTS)
    interests = []
    for product_id, total, latest, *counts in rows:
        by_kind = {k: int(n) for k, n in zip(kinds, counts, strict=False) if n}
        interests.append(Interest(product_id, round(float(total), 3), _explain(by_kind, _aware(latest), now)))
    return interests


def _explain(counts: dict[EventType, int], latest: datetime, now: datetime) -> str:
    parts = [f"{n} {_VERBS[k]}{'s' if n > 1 else ''}" for k, n in sorted(counts.items(), key=lambda kv: -kv[1])]
    days = max((now - latest).days, 0)
    when = "today" if days == 0 else f"{days} day{'s' if days > 1 else ''} ago"
    return f"{', '.join(parts)}; last {when}"


_PURCHASE = _event.type == EventType.POS_PURCHASE.value
RECENT_PURCHASES = 5
PEER_PURCHASES = 300


def _among_results(dialect: str, column, subquery):
    """``column IN (subquery)``; on PostgreSQL ``= ANY(ARRAY(subquery))``: the subquery runs first, once,
    and the outer scan looks its values up in an index. (As IN, PostgreSQL may plan a join on guessed
    row counts: at times a scan of every purchase, 30 ms instead of 3.)"""
    if dialect == "postgresql":
        return column == sa.any_(func.array(subquery.scalar_subquery()))
    return column.in_(subquery)


@lru_cache
def _co_purchase_statement(dialect: str):
    person: sa.BindParameter[int] = sa.bindparam("person_id")
    bought = _event.product_id.is_not(None)
    recent_products = (
        select(_event.product_id)
        .where(_event.person_id == person, _PURCHASE, bought)
        .order_by(_event.occurred_at.desc())
        .limit(RECENT_PURCHASES)
    )
    # Any such purchases (no ordering: the scan stops early on a large history).
    peers = (
        select(_event.person_id)
        .where(_PURCHASE, _among_results(dialect, _event.product_id, recent_products), _event.person_id != person)
        .limit(PEER_PURCHASES)
    )
    all_bought = select(_event.product_id).where(_event.person_id == person, _PURCHASE, bought)
    buyers = func.count(func.distinct(_event.person_id))
    return (
        select(_event.product_id, buyers.label("buyers"))
        .where(
            _PURCHASE, _among_results(dialect, _event.person_id, peers), bought, _event.product_id.not_in(all_bought)
        )
        .group_by(_event.product_id)
        .order_by(buyers.desc(), _event.product_id)
        .limit(sa.bindparam("limit", type_=sa.Integer))
    )


def recommend(interests: Sequence[Interest], peers: Sequence[tuple[int, int]], first: int) -> list[tuple[int, str]]:
    """Up to ``first`` (product, reason) picks: what she showed interest in but did not buy, strongest
    first; then what buyers like her bought (``peers``: product, buyers), skipping what is picked."""
    picks = [(i.product_id, f"interested: {i.reason}") for i in interests[: first * 2] if "purchase" not in i.reason]
    picks = picks[:first]
    taken = {product for product, _ in picks}
    picks += [
        (product, f"bought by {n} customer{'s' if n > 1 else ''} who bought what she bought")
        for product, n in peers
        if product not in taken
    ]
    return picks[:first]


async def co_purchases(session: AsyncSession, person_id: int, limit: int = 5) -> list[tuple[int, int]]:
    """(product, buyers): bought by people who bought what she bought, that she has not.

    Bounded whatever the history: her 5 latest purchases, 300 purchases of those products by others.
    """
    rows = await session.exec(
        _co_purchase_statement(dialect_of(session)), params={"person_id": person_id, "limit": limit}
    )
    return [(product_id, buyers) for product_id, buyers in rows]


# What a timeline node shows: plain rows, no ORM objects to build and track.
TIMELINE_COLUMNS = (
    CustomerEvent.id,
    CustomerEvent.event_key,
    CustomerEvent.source,
    CustomerEvent.type,
    CustomerEvent.occurred_at,
    CustomerEvent.received_at,
    CustomerEvent.properties,
    CustomerEvent.livestream_id,
    CustomerEvent.store_id,
    CustomerEvent.product_id,
)


def timeline_statement(person_id: int, types: Sequence[EventType] | None = None):
    statement = select_columns(*TIMELINE_COLUMNS).where(CustomerEvent.person_id == person_id)
    if types:
        statement = statement.where(col(CustomerEvent.type).in_([t.value for t in types]))
    return statement


async def has_any_event(session: AsyncSession, person_id: int, types: Sequence[str]) -> bool:
    statement = (
        select(CustomerEvent.id)
        .where(CustomerEvent.person_id == person_id, col(CustomerEvent.type).in_(list(types)))
        .limit(1)
    )
    return (await session.exec(statement)).first() is not None
