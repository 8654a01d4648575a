"""A walk-in: she is in the store and gives her phone number, so the guide can serve her with her story."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from ..common.actor import Actor, Role
from ..common.errors import DomainError
from ..common.rows import saved_id
from ..common.validation import not_found
from ..stores.models import Store
from ..stores.opening_hours import local_day
from .errors import IdentityErrorCode as Code
from .events import EventType, RawEvent, RawIdentifier
from .identifiers import IdentifierType, InvalidIdentifier, normalize
from .ingestion import Outcome, ingest
from .persons import person_by_identifier
from .policy import IdentityPolicy

WALK_IN_SOURCE = "store-walk-in"
WALK_IN_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER, Role.GUIDE)


async def record_walk_in(
    session: AsyncSession, actor: Actor, policy: IdentityPolicy, store_id: int, phone: str, now: datetime
) -> int:
    """Her visit on her timeline (a STORE_VISIT at the store, once a day), which puts her in the store's
    care; a number OneID does not know yet becomes a new customer. Returns her person id."""
    actor.require_role(*WALK_IN_ROLES)
    actor.require_store(store_id)
    store = await session.get(Store, store_id)
    if store is None:
        raise not_found("store", ("storeId",))
    day = local_day(now, store.timezone).isoformat()
    await session.rollback()  # ingest below is its own unit of work
    try:
        key = normalize(IdentifierType.PHONE, phone)
    except InvalidIdentifier as invalid:
        raise DomainError.single(Code.INVALID_PHONE, str(invalid), ("phone",)) from None
    visit = RawEvent(
        event_id=f"walk-in:{store_id}:{day}:{_pseudonym(key.value)}",  # no phone number in the key
        type=EventType.STORE_VISIT,
        occurred_at=now,
        identifiers=[RawIdentifier(IdentifierType.PHONE, key.value)],
        store_id=store_id,
        properties={"walkIn": True, "recordedBy": actor.key},
    )
    [result] = await ingest(session, policy, WALK_IN_SOURCE, [visit], now)  # its own unit of work
    if result.outcome is Outcome.REJECTED:
        raise DomainError.single(result.code or Code.INVALID_PHONE, result.message or "refused", ("phone",))
    person = await person_by_identifier(session, key)
    if person is None:  # erased between the visit and this read
        raise DomainError.single(Code.PERSON_ERASED, "this number belongs to no customer now", ("phone",))
    return saved_id(person)


def _pseudonym(phone: str) -> str:
    return hashlib.sha256(phone.encode()).hexdigest()[:16]
