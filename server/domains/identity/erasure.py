"""PIPL / GDPR erasure of a customer: her personal data goes everywhere, ids and facts stay."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from ...unit_of_work import use_case
from ..common.actor import Actor, Role
from ..common.audit import audit
from ..common.errors import DomainError
from ..common.rows import saved_id
from ..common.validation import not_found
from . import hooks
from .errors import IdentityErrorCode as Code
from .events import EventType
from .identifiers import IdentifierKey, IdentifierType
from .ingestion import tombstone_digest
from .merges import merged_subtree
from .models import (
    CustomerEvent,
    ErasureTombstone,
    Identifier,
    Person,
    PersonConsent,
    PersonTrait,
    SmsCode,
    SmsThrottle,
)
from .persons import locked_root_person
from .policy import IdentityPolicy
from .traits import ACCOUNTING_PROPERTIES


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
    root_id = saved_id(person)
    identifiers = (await session.exec(select(Identifier).where(col(Identifier.person_id) == root_id))).all()
    for identifier in identifiers:
        key = IdentifierKey(IdentifierType(identifier.type), identifier.namespace, identifier.value)
        digest = tombstone_digest(policy.tombstone_salt, key)
        await session.exec(sa.delete(ErasureTombstone).where(col(ErasureTombstone.digest) == digest))
        session.add(ErasureTombstone(digest=digest, erased_at=now))
    members = await merged_subtree(session, root_id)
    phones = [i.value for i in identifiers if i.type == IdentifierType.PHONE.value]
    await session.exec(sa.delete(Identifier).where(col(Identifier.person_id) == root_id))
    await session.exec(sa.delete(PersonTrait).where(col(PersonTrait.person_id).in_(members)))
    await session.exec(sa.delete(PersonConsent).where(col(PersonConsent.person_id).in_(members)))
    await session.exec(sa.delete(SmsCode).where(col(SmsCode.phone).in_(phones)))
    await session.exec(sa.delete(SmsThrottle).where(col(SmsThrottle.phone).in_(phones)))
    await _erase_event_properties(session, root_id)
    await hooks.forget(session, members, now)  # what she wrote in the domains above (booking notes…)
    await session.exec(update(Person).where(col(Person.id).in_(members)).values(erased_at=now))
    audit(session, actor.key, "person.erase", f"person:{root_id}", now, identifiers=len(identifiers))
    await session.refresh(person)
    return person


async def _erase_event_properties(session: AsyncSession, person_id: int) -> None:
    """Every event's properties go, but for the facts accounting needs (a purchase's amount)."""
    purchase = col(CustomerEvent.type) == EventType.POS_PURCHASE.value
    await session.exec(
        update(CustomerEvent).where(col(CustomerEvent.person_id) == person_id, ~purchase).values(properties={})
    )
    purchases = await session.exec(
        select(col(CustomerEvent.id), col(CustomerEvent.properties)).where(
            col(CustomerEvent.person_id) == person_id, purchase
        )
    )
    for event_id, properties in purchases.all():
        kept = {key: properties[key] for key in ACCOUNTING_PROPERTIES if key in (properties or {})}
        if kept != properties:
            await session.exec(update(CustomerEvent).where(col(CustomerEvent.id) == event_id).values(properties=kept))
