"""OneID use cases: sources, ingestion, split, erasure, conflicts."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from ...housekeeping import purge
from ...unit_of_work import unit_of_work, use_case
from ..catalog.models import Product
from ..common.actor import Actor, Role
from ..common.audit import audit
from ..common.dialect import is_in
from ..common.errors import CommonErrorCode as Common
from ..common.errors import DomainError, Forbidden, Unauthenticated
from ..common.idempotency import create_once
from ..common.lookup import rows_by_id
from ..common.ratelimits import AbuseLimits, RateLimited
from ..common.validation import Validator, not_found
from ..livestreams.models import Livestream
from ..staff.models import StaffUser
from ..stores.models import Store
from . import hooks
from .errors import IdentityErrorCode as Code
from .events import MAX_EVENTS_PER_CALL, CheckedEvent, EventRejected, EventType, RawEvent, check_event
from .identifiers import DEFAULT_BLOCKED_VALUES, IdentifierKey, IdentifierType
from .models import (
    CustomerEvent,
    ErasureTombstone,
    Identifier,
    IdentityConflict,
    Person,
    PersonConsent,
    PersonMerge,
    PersonTrait,
    SmsCode,
    SmsThrottle,
    TouchpointSource,
)
from .resolution import PROJECTED_TYPES, StaleRead, reproject, resolve
from .traits import ACCOUNTING_PROPERTIES, DEFAULT_MAX_EVENT_AMOUNT, check_projection_event
from .view import access_for

logger = logging.getLogger("irs.identity")

KEY_PREFIX = "irs_src_"
MAX_ATTEMPTS = 12
RETRYABLE_SQLSTATES = {"23505", "40001", "40P01"}  # unique violation, serialization failure, deadlock


class SourceKind(StrEnum):
    MINI_PROGRAM = "MINI_PROGRAM"
    APP = "APP"
    COMMUNITY = "COMMUNITY"
    LIVESTREAM_PLATFORM = "LIVESTREAM_PLATFORM"
    POS = "POS"
    OTHER = "OTHER"


class Outcome(StrEnum):
    ACCEPTED = "ACCEPTED"
    DUPLICATE = "DUPLICATE"
    REJECTED = "REJECTED"


@dataclass(frozen=True)
class EventResult:
    event_id: str
    outcome: Outcome
    person_id: int | None = None
    code: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class IdentityPolicy:
    """Settings the identity services read."""

    tombstone_salt: bytes
    blocked_values: frozenset[str] = frozenset(DEFAULT_BLOCKED_VALUES)
    max_event_amount: int = DEFAULT_MAX_EVENT_AMOUNT


# --- sources -------------------------------------------------------------------------------------


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


@use_case
async def create_source(
    session: AsyncSession, actor: Actor, name: str, kind: SourceKind, idempotency_key: str | None = None
) -> tuple[TouchpointSource, str | None]:
    """A new source and its API key; the key is shown this once (None on an idempotent replay)."""
    actor.require_role(Role.HQ_ADMIN)
    check = Validator()
    name = check.text(("input", "name"), name, max_length=64)
    check.raise_if_any()
    key = _new_key()
    duplicate = DomainError.single(Code.DUPLICATE_NAME, "a source with this name exists", ("input", "name"))

    async def create():
        if (await session.exec(select(func.count()).where(TouchpointSource.name == name))).one():
            raise duplicate
        source = TouchpointSource(name=name, kind=kind.value, key_hash=_hash_key(key), key_prefix=key[:12])
        session.add(source)
        await session.flush()
        return source

    source = await create_once(
        session,
        actor=actor.key,
        operation="sourceCreate",
        key=idempotency_key,
        payload={"name": name, "kind": kind.value},
        create=create,
        duplicate=duplicate,
        model=TouchpointSource,
    )
    return source, (key if source.key_hash == _hash_key(key) else None)


@use_case
async def rotate_source_key(session: AsyncSession, actor: Actor, source_id: int, now: datetime):
    actor.require_role(Role.HQ_ADMIN)
    source = await session.get(TouchpointSource, source_id)
    if source is None:
        raise not_found("source", ("id",))
    key = _new_key()
    source.key_hash, source.key_prefix, source.key_rotated_at = _hash_key(key), key[:12], now
    return source, key


@use_case
async def disable_source(session: AsyncSession, actor: Actor, source_id: int) -> TouchpointSource:
    actor.require_role(Role.HQ_ADMIN)
    source = await session.get(TouchpointSource, source_id)
    if source is None:
        raise not_found("source", ("id",))
    source.active = False
    return source


async def authenticate_source(session: AsyncSession, api_key: str | None) -> TouchpointSource:
    if not api_key:
        raise Unauthenticated("eventsIngest needs the source's API key in the X-Source-Key header")
    statement = select(TouchpointSource).where(TouchpointSource.key_hash == _hash_key(api_key))
    source = (await session.exec(statement)).first()
    if source is None or not source.active:
        raise Unauthenticated("unknown or disabled source key")
    return source


# --- ingestion -----------------------------------------------------------------------------------


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
        "livestream": await _known_ids(session, Livestream, {e.livestream_id for e in events} - {None}),
        "store": await _known_ids(session, Store, {e.store_id for e in events} - {None}),
        "product": await _known_ids(session, Product, {e.product_id for e in events} - {None}),
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
                code="PERSON_ERASED",
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


# --- persons -------------------------------------------------------------------------------------


async def root_person(session: AsyncSession, person_id: int) -> Person | None:
    """The person an id stands for now: merged ids resolve to their survivor (an alias)."""
    person = await session.get(Person, person_id)
    for _ in range(100):
        if person is None or person.merged_into_id is None:
            return person
        person = await session.get(Person, person.merged_into_id)
    raise RuntimeError(f"merge chain of person {person_id} is too long")


async def locked_root_person(session: AsyncSession, person_id: int) -> Person | None:
    """:func:`root_person`, locked as ingestion locks the persons it links (PostgreSQL): while we hold
    her, no identifier is attached to her or taken from her. A person merged away while we waited
    is followed to her survivor."""
    for _ in range(20):
        person = await root_person(session, person_id)
        if person is None:
            return None
        statement = select(Person).where(Person.id == person.id).with_for_update()
        locked = (await session.exec(statement.execution_options(populate_existing=True))).one()
        if locked.merged_into_id is None:
            return locked
    raise StaleRead


async def person_by_identifier(session: AsyncSession, key: IdentifierKey) -> Person | None:
    statement = select(Identifier.person_id).where(
        Identifier.type == key.type.value, Identifier.namespace == key.namespace, Identifier.value == key.value
    )
    person_id = (await session.exec(statement)).first()
    return await session.get(Person, person_id) if person_id else None


async def persons_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Person]:
    return await rows_by_id(session, Person, ids)


# --- split ---------------------------------------------------------------------------------------


async def _subtree(session: AsyncSession, person_id: int) -> set[int]:
    """The person and everyone merged into her, directly or not."""
    members, frontier = {person_id}, [person_id]
    while frontier:
        rows = await session.exec(select(Person.id).where(col(Person.merged_into_id).in_(frontier)))
        frontier = [r for r in rows.all() if r not in members]
        members.update(frontier)
    return members


@use_case
async def split_merge(session: AsyncSession, actor: Actor, merge_id: int, now: datetime) -> PersonMerge:
    """Undo a merge: the merged person gets back the identifiers and events that came through her.

    Refused while a later merge into the same person was made only through
    identifiers the split would take away (split that later merge first).
    """
    actor.require_role(Role.HQ_ADMIN)
    merge = await session.get(PersonMerge, merge_id)
    if merge is None:
        raise not_found("merge", ("mergeId",))
    root = await locked_root_person(session, merge.survivor_id)
    await session.refresh(merge, with_for_update=True)  # two admins splitting it at once: one wins
    await session.exec(select(Person.id).where(Person.id == merge.merged_id).with_for_update())  # she gets ids back
    if merge.undone_at is not None:
        raise DomainError.single(Code.MERGE_ALREADY_UNDONE, "this merge was already split", ("mergeId",))
    leaving = await _subtree(session, merge.merged_id)
    later = await session.exec(
        select(PersonMerge).where(PersonMerge.id > merge.id, col(PersonMerge.undone_at).is_(None))
    )
    for other in later:
        if other.via_home_ids and set(other.via_home_ids) <= leaving and other.merged_id not in leaving:
            raise DomainError.single(
                Code.SPLIT_BLOCKED_BY_LATER_MERGE,
                f"merge {other.id} was made through identifiers this split takes away; split it first",
                ("mergeId",),
            )
    for model in (Identifier, CustomerEvent):
        await session.exec(
            update(model)
            .where(model.person_id == root.id, col(model.home_person_id).in_(leaving))
            .values(person_id=merge.merged_id)
        )
    await session.exec(update(Person).where(Person.id == merge.merged_id).values(merged_into_id=None))
    merge.undone_at, merge.undone_by = now, actor.key
    await reproject(session, [root.id, merge.merged_id])
    audit(session, actor.key, "person.split", f"person:{merge.merged_id}", now, merge=merge.id, survivor=root.id)
    return merge


# --- erasure -------------------------------------------------------------------------------------


@use_case
async def erase_person(
    session: AsyncSession, actor: Actor, policy: IdentityPolicy, person_id: int, now: datetime
) -> Person:
    """PIPL / GDPR erasure: identifiers, traits, consents, event properties and the free text she wrote
    (see :mod:`.erasure`) go; ids and facts stay."""
    actor.require_role(Role.HQ_ADMIN)
    person = await locked_root_person(session, person_id)
    if person is None:
        raise not_found("customer", ("customerId",))
    if person.erased_at is not None:
        raise DomainError.single(Code.PERSON_ERASED, "this customer was already erased", ("customerId",))
    identifiers = (await session.exec(select(Identifier).where(Identifier.person_id == person.id))).all()
    for identifier in identifiers:
        key = IdentifierKey(IdentifierType(identifier.type), identifier.namespace, identifier.value)
        digest = tombstone_digest(policy.tombstone_salt, key)
        await session.exec(sa.delete(ErasureTombstone).where(ErasureTombstone.digest == digest))
        session.add(ErasureTombstone(digest=digest, erased_at=now))
    members = await _subtree(session, person.id)
    phones = [i.value for i in identifiers if i.type == IdentifierType.PHONE.value]
    await session.exec(sa.delete(Identifier).where(Identifier.person_id == person.id))
    await session.exec(sa.delete(PersonTrait).where(col(PersonTrait.person_id).in_(members)))
    await session.exec(sa.delete(PersonConsent).where(col(PersonConsent.person_id).in_(members)))
    await session.exec(sa.delete(SmsCode).where(col(SmsCode.phone).in_(phones)))
    await session.exec(sa.delete(SmsThrottle).where(col(SmsThrottle.phone).in_(phones)))
    await _erase_event_properties(session, person.id)
    await hooks.forget(session, members, now)  # what she wrote in the domains above (booking notes…)
    await session.exec(update(Person).where(col(Person.id).in_(members)).values(erased_at=now))
    audit(session, actor.key, "person.erase", f"person:{person.id}", now, identifiers=len(identifiers))
    await session.refresh(person)
    return person


async def _erase_event_properties(session: AsyncSession, person_id: int) -> None:
    """Every event's properties go, but for the facts accounting needs (a purchase's amount)."""
    purchase = CustomerEvent.type == EventType.POS_PURCHASE.value
    await session.exec(
        update(CustomerEvent).where(CustomerEvent.person_id == person_id, ~purchase).values(properties={})
    )
    purchases = await session.exec(
        select(CustomerEvent.id, CustomerEvent.properties).where(CustomerEvent.person_id == person_id, purchase)
    )
    for event_id, properties in purchases.all():
        kept = {key: properties[key] for key in ACCOUNTING_PROPERTIES if key in (properties or {})}
        if kept != properties:
            await session.exec(update(CustomerEvent).where(CustomerEvent.id == event_id).values(properties=kept))


# --- conflicts -----------------------------------------------------------------------------------


def conflict_listing(*, unresolved_only: bool = True):
    statement = select(IdentityConflict)
    if unresolved_only:
        statement = statement.where(col(IdentityConflict.resolved_at).is_(None))
    return statement


async def merges_into(session: AsyncSession, person_id: int) -> list[PersonMerge]:
    rows = await session.exec(select(PersonMerge).where(PersonMerge.survivor_id == person_id).order_by(PersonMerge.id))
    return list(rows.all())


async def record_person_event(
    session: AsyncSession, person_id: int, source: str, event: RawEvent, now: datetime
) -> int:
    """Add an event to a known person's timeline (staff edits, other domains), in the caller's unit of work."""
    person = await root_person(session, person_id)
    if person is None:
        raise not_found("customer", ("customerId",))
    check_projection = event.type.value in PROJECTED_TYPES
    if check_projection:
        try:
            check_projection_event(event.type, event.properties)
        except EventRejected as rejected:
            raise DomainError.single(rejected.code, str(rejected), ("input",)) from None
    session.add(
        CustomerEvent(
            source=source,
            event_key=event.event_id,
            type=event.type.value,
            occurred_at=event.occurred_at,
            received_at=now,
            person_id=person.id,
            home_person_id=person.id,
            livestream_id=event.livestream_id,
            store_id=event.store_id,
            product_id=event.product_id,
            properties=event.properties,
        )
    )
    await session.flush()
    if check_projection:
        await reproject(session, [person.id])
    return person.id


@use_case
async def update_traits(session: AsyncSession, actor: Actor, person_id: int, properties: dict, now: datetime) -> int:
    """Staff edit a profile: recorded as a PROFILE_UPDATE event, so the latest occurredAt still wins."""
    person = await root_person(session, person_id)
    if person is None:
        raise not_found("customer", ("input", "customerId"))
    access = await access_for(session, actor, person.id)  # first: the answers below say things about her
    if access.masked:
        raise Forbidden("editing a profile needs an unmasked view of the customer")
    if person.erased_at is not None:
        raise DomainError.single(
            Code.PERSON_ERASED, "this customer was erased: no personal data is kept", ("input", "customerId")
        )
    if not properties:
        raise DomainError.single(Common.REQUIRED, "give at least one trait to change", ("input",))
    event = RawEvent(
        event_id=secrets.token_hex(16),
        type=EventType.PROFILE_UPDATE,
        occurred_at=now,
        identifiers=[],
        properties=properties,
    )
    person_id = await record_person_event(session, person.id, actor.key, event, now)
    audit(session, actor.key, "customer.update_traits", f"person:{person.id}", now, fields=sorted(properties))
    return person_id


def source_listing():
    return select(TouchpointSource)


@use_case
async def set_relationship_guide(
    session: AsyncSession, actor: Actor, person_id: int, guide_id: int | None, now: datetime
) -> Person:
    """Give a customer her own guide (or none). HQ admins for anyone; managers with a guide of their store."""
    actor.require_role(Role.HQ_ADMIN, Role.STORE_MANAGER)
    person = await root_person(session, person_id)
    if person is None:
        raise not_found("customer", ("input", "customerId"))
    await access_for(session, actor, person.id)  # a manager must know her through the store
    if guide_id is not None:
        guide = await session.get(StaffUser, guide_id)
        if guide is None:
            raise not_found("guide", ("input", "guideId"))
        if guide.role != Role.GUIDE.value or not guide.active:
            raise DomainError.single(Code.NOT_A_GUIDE, "only an active guide can be her guide", ("input", "guideId"))
        actor.require_store(guide.store_id)
    person.relationship_guide_id = guide_id
    audit(session, actor.key, "customer.relationship_guide", f"person:{person.id}", now, guide=guide_id)
    return person


async def purge_sms_codes(session: AsyncSession, before: datetime) -> int:
    """Sign-in codes that expired before ``before``."""
    return await purge(session, SmsCode, SmsCode.expires_at < before)
