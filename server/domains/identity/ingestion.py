"""Ingesting touchpoint events: screening, resolution into persons, retries on collisions."""

from __future__ import annotations

import asyncio
import hmac
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ...unit_of_work import unit_of_work
from ..catalog.models import Product
from ..common.dialect import is_in
from ..common.errors import CommonErrorCode as Common
from ..common.errors import DomainError, ErrorCode
from ..common.ratelimits import AbuseLimits, RateLimited
from ..livestreams.models import Livestream
from ..stores.models import Store
from .errors import IdentityErrorCode as Code
from .events import MAX_EVENTS_PER_CALL, CheckedEvent, EventRejected, RawEvent, check_event
from .identifiers import IdentifierKey
from .models import (
    CustomerEvent,
    ErasureTombstone,
)
from .policy import IdentityPolicy
from .resolution import StaleRead, resolve
from .traits import check_projection_event

logger = logging.getLogger("irs.identity")


MAX_ATTEMPTS = 12


RETRYABLE_SQLSTATES = {"23505", "40001", "40P01"}  # unique violation, serialization failure, deadlock


class Outcome(StrEnum):
    ACCEPTED = "ACCEPTED"
    DUPLICATE = "DUPLICATE"
    REJECTED = "REJECTED"


@dataclass(frozen=True)
class EventResult:
    event_id: str
    outcome: Outcome
    person_id: int | None = None
    code: ErrorCode | None = None  # why it was rejected
    message: str | None = None


@lru_cache(maxsize=65536)  # a batch names the same identifiers over and over
def tombstone_digest(salt: bytes, key: IdentifierKey) -> str:
    return hmac.digest(salt, f"{key.type.value}|{key.namespace}|{key.value}".encode(), "sha256").hex()


async def _known_ids(session: AsyncSession, model, ids: set[int]) -> set[int]:
    if not ids:
        return set()
    return set((await session.exec(select(model.id).where(is_in(session, model.id, ids)))).all())


async def _check_references(session: AsyncSession, events: list[RawEvent]) -> dict[int, str]:
    """Index of each event naming a livestream, store or product that does not exist -> message."""
    known = {
        "livestream": await _known_ids(
            session, Livestream, {e.livestream_id for e in events if e.livestream_id is not None}
        ),
        "store": await _known_ids(session, Store, {e.store_id for e in events if e.store_id is not None}),
        "product": await _known_ids(session, Product, {e.product_id for e in events if e.product_id is not None}),
    }
    problems = {}
    for index, event in enumerate(events):
        for name, value in (
            ("livestream", event.livestream_id),
            ("store", event.store_id),
            ("product", event.product_id),
        ):
            if value is not None and value not in known[name]:
                problems[index] = f"{name} not found"
    return problems


async def _stored_event_keys(session: AsyncSession, source: str, event_ids: Sequence[str]) -> set[str]:
    if not event_ids:
        return set()
    rows = await session.exec(
        select(CustomerEvent.event_key).where(
            CustomerEvent.source == source, is_in(session, CustomerEvent.event_key, event_ids)
        )
    )
    return set(rows.all())


async def _erased_keys(
    session: AsyncSession, policy: IdentityPolicy, checked: list[CheckedEvent]
) -> dict[IdentifierKey, datetime]:
    """The events' identifiers that were erased, and when."""
    digests = {tombstone_digest(policy.tombstone_salt, k): k for e in checked for k in e.keys}
    if not digests:
        return {}
    rows = await session.exec(select(ErasureTombstone).where(is_in(session, ErasureTombstone.digest, digests)))
    return {digests[row.digest]: row.erased_at for row in rows}


def _replayed(event: CheckedEvent, erased: dict[IdentifierKey, datetime]) -> list[IdentifierKey]:
    return [k for k in event.keys if k in erased and event.raw.occurred_at < erased[k]]


async def _drop_erased(session: AsyncSession, policy: IdentityPolicy, checked: list[CheckedEvent]):
    """Identifiers erased after an event happened do not link again when it is replayed."""
    erased = await _erased_keys(session, policy, checked)
    if erased:
        for event in checked:
            dropped = _replayed(event, erased)
            event.keys = [k for k in event.keys if k not in dropped]


async def _check_no_erasure_meanwhile(
    session: AsyncSession, policy: IdentityPolicy, checked: list[CheckedEvent]
) -> None:
    """An erasure that committed after the batch was screened (PostgreSQL, READ COMMITTED): screen it
    again, or a replayed older event would give her erased identifiers to a new person."""
    erased = await _erased_keys(session, policy, checked)
    if erased and any(_replayed(event, erased) for event in checked):
        raise StaleRead


async def _screen(session, policy, source: str, events: list[RawEvent], now: datetime):
    """Per event: a result (duplicate or rejected) or a CheckedEvent to store."""
    stored = await _stored_event_keys(session, source, [e.event_id for e in events if e.event_id])
    bad_references = await _check_references(session, events)
    seen: set[str] = set()
    screened: list[EventResult | CheckedEvent] = []
    for index, raw in enumerate(events):
        if raw.event_id in stored or raw.event_id in seen:
            screened.append(EventResult(raw.event_id, Outcome.DUPLICATE))
            continue
        try:
            keys = check_event(raw, now, policy.blocked_values)
            check_projection_event(raw.type, raw.properties, policy.max_event_amount)
            if index in bad_references:
                raise EventRejected(Common.NOT_FOUND, bad_references[index])
        except EventRejected as rejected:
            screened.append(EventResult(raw.event_id, Outcome.REJECTED, code=rejected.code, message=str(rejected)))
            continue
        seen.add(raw.event_id)
        screened.append(CheckedEvent(raw=raw, source=source, keys=keys))
    checked = [s for s in screened if isinstance(s, CheckedEvent)]
    await _drop_erased(session, policy, checked)
    for position, item in enumerate(screened):
        if isinstance(item, CheckedEvent) and not item.keys:
            screened[position] = EventResult(
                item.raw.event_id,
                Outcome.REJECTED,
                code=Code.PERSON_ERASED,
                message="the identifiers of this event were erased",
            )
    return screened


def _retryable(error: Exception) -> bool:
    """Collisions with a concurrent batch: resolved again. (COPY raises the driver's own errors.)"""
    if isinstance(error, (IntegrityError, StaleRead)):
        return True
    sqlstate = getattr(error, "sqlstate", None) or getattr(getattr(error, "orig", None), "sqlstate", None)
    return sqlstate in RETRYABLE_SQLSTATES


async def admit_batch(limits: AbuseLimits, source: str) -> None:
    """Count one eventsIngest call of a source; RATE_LIMITED (nothing stored) when over its limit."""
    try:
        await limits.take(limits.ingest_calls_per_source, source)
    except RateLimited as limited:
        raise DomainError.single(
            Code.RATE_LIMITED,
            "too many eventsIngest calls from this source; retry later",
            retry_after=limited.retry_after,
        ) from None


async def ingest(
    session: AsyncSession, policy: IdentityPolicy, source: str, events: list[RawEvent], now: datetime
) -> list[EventResult]:
    """Store a batch: valid events are kept even when others are rejected. A use case: each attempt is
    a unit of work.

    Concurrent batches that link the same persons may collide (a unique
    identifier created twice, a deadlock, persons merged meanwhile); the batch
    is then rolled back and resolved again.
    """
    if len(events) > MAX_EVENTS_PER_CALL:
        raise DomainError.single(Code.TOO_MANY_EVENTS, f"at most {MAX_EVENTS_PER_CALL} events a call", ("events",))
    for attempt in range(MAX_ATTEMPTS):
        try:
            async with unit_of_work(session):
                screened = await _screen(session, policy, source, events, now)
                checked = [s for s in screened if isinstance(s, CheckedEvent)]
                persons = iter(await resolve(session, checked, now=now, actor=source))
                await _check_no_erasure_meanwhile(session, policy, checked)
            break
        except Exception as error:
            if not _retryable(error) or attempt == MAX_ATTEMPTS - 1:
                raise
            logger.info("identity batch from %s collided (%s); resolving it again", source, type(error).__name__)
            await asyncio.sleep(random.uniform(0, 0.01 * (attempt + 1)))  # jitter: colliders spread out
    return [
        EventResult(s.raw.event_id, Outcome.ACCEPTED, person_id=next(persons)) if isinstance(s, CheckedEvent) else s
        for s in screened
    ]


async def record_event(
    session: AsyncSession, policy: IdentityPolicy, source: str, event: RawEvent, now: datetime
) -> int:
    """For other domains: add one event to a person's timeline inside the caller's transaction.

    Returns the person id, in the caller's unit of work (which retries on a conflict).
    """
    screened = await _screen(session, policy, source, [event], now)
    if not isinstance(screened[0], CheckedEvent):
        raise EventRejected(screened[0].code or Common.INVALID_VALUE, screened[0].message or "event refused")
    person_id = (await resolve(session, [screened[0]], now=now, actor=source))[0]
    await _check_no_erasure_meanwhile(session, policy, [screened[0]])
    return person_id
