"""Customer profiles: events other domains add to her timeline, staff edits, her own guide."""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from ...at_commit import insert_at_commit
from ...housekeeping import purge
from ...prepared import run
from ...unit_of_work import use_case
from ..common.actor import Actor, Role
from ..common.audit import audit
from ..common.errors import CommonErrorCode as Common
from ..common.errors import DomainError, Forbidden
from ..common.rows import saved_id, table_of
from ..common.validation import not_found
from ..staff.models import StaffUser
from .errors import IdentityErrorCode as Code
from .events import EventRejected, EventType, RawEvent
from .models import (
    CustomerEvent,
    Person,
    SmsCode,
)
from .persons import root_person
from .resolution import PROJECTED_TYPES, reproject
from .traits import check_projection_event
from .view import access_for


async def record_person_event(
    session: AsyncSession, person_id: int, source: str, event: RawEvent, now: datetime, *, at_commit: bool = False
) -> int:
    """Add an event to a known person's timeline (staff edits, other domains), in the caller's unit of work.

    ``at_commit``: the caller reads her timeline no more in this transaction, so the event may be written with
    its commit (server.at_commit); an event her profile is projected from is written at once all the same."""
    person = await root_person(session, person_id)
    if person is None:
        raise not_found("customer", ("customerId",))
    root_id = saved_id(person)
    check_projection = event.type.value in PROJECTED_TYPES
    if check_projection:
        try:
            check_projection_event(event.type, event.properties)
        except EventRejected as rejected:
            raise DomainError.single(rejected.code, str(rejected), ()) from None
    row = {
        "source": source,
        "event_key": event.event_id,
        "type": event.type.value,
        "occurred_at": event.occurred_at,
        "received_at": now,
        "person_id": root_id,
        "home_person_id": root_id,
        "livestream_id": event.livestream_id,
        "store_id": event.store_id,
        "product_id": event.product_id,
        "properties": event.properties,
    }
    if check_projection:
        await run(session, _INSERT_EVENT, row)
        await reproject(session, [root_id])
    elif at_commit:
        insert_at_commit(session, table_of(CustomerEvent), (row,))
    else:
        await run(session, _INSERT_EVENT, row)
    return root_id


# Built once, and not through the unit of work: every booking from a livestream adds one (the event's id
# is not needed).
_INSERT_EVENT = sa.insert(table_of(CustomerEvent))


@use_case
async def update_traits(session: AsyncSession, actor: Actor, person_id: int, properties: dict, now: datetime) -> int:
    """Staff edit a profile: recorded as a PROFILE_UPDATE event, so the latest occurredAt still wins."""
    person = await root_person(session, person_id)
    if person is None:
        raise not_found("customer", ("customerId",))
    access = await access_for(session, actor, saved_id(person))  # first: the answers below say things about her
    if access.masked:
        raise Forbidden("editing a profile needs an unmasked view of the customer")
    if person.erased_at is not None:
        raise DomainError.single(
            Code.PERSON_ERASED, "this customer was erased: no personal data is kept", ("customerId",)
        )
    if not properties:
        raise DomainError.single(Common.REQUIRED, "give at least one trait to change", ())
    event = RawEvent(
        event_id=secrets.token_hex(16),
        type=EventType.PROFILE_UPDATE,
        occurred_at=now,
        identifiers=[],
        properties=properties,
    )
    person_id = await record_person_event(session, saved_id(person), actor.key, event, now)
    audit(session, actor.key, "customer.update_traits", f"person:{person.id}", now, fields=sorted(properties))
    return person_id


@use_case
async def set_relationship_guide(
    session: AsyncSession, actor: Actor, person_id: int, guide_id: int | None, now: datetime
) -> Person:
    """Give a customer her own guide (or none). HQ admins for anyone; managers with a guide of their store."""
    actor.require_role(Role.HQ_ADMIN, Role.STORE_MANAGER)
    person = await root_person(session, person_id)
    if person is None:
        raise not_found("customer", ("customerId",))
    await access_for(session, actor, saved_id(person))  # a manager must know her through the store
    if guide_id is not None:
        guide = await session.get(StaffUser, guide_id)
        if guide is None:
            raise not_found("guide", ("guideId",))
        if guide.role != Role.GUIDE.value or not guide.active:
            raise DomainError.single(Code.NOT_A_GUIDE, "only an active guide can be her guide", ("guideId",))
        actor.require_store(guide.store_id)
    person.relationship_guide_id = guide_id
    audit(session, actor.key, "customer.relationship_guide", f"person:{person.id}", now, guide=guide_id)
    return person


async def purge_sms_codes(session: AsyncSession, before: datetime) -> int:
    """Sign-in codes that expired before ``before``."""
    return await purge(session, SmsCode, SmsCode.expires_at < before)
