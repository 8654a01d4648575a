"""Finding persons: the root of a merged id, by identifier, in batches."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..common.lookup import rows_by_id
from ..common.rows import row_by_key
from .identifiers import IdentifierKey
from .models import (
    Identifier,
    Person,
)
from .resolution import StaleRead


async def root_person(session: AsyncSession, person_id: int) -> Person | None:
    """The person an id stands for now: merged ids resolve to their survivor (an alias)."""
    person = await row_by_key(session, Person, person_id)
    for _ in range(100):
        if person is None or person.merged_into_id is None:
            return person
        person = await row_by_key(session, Person, person.merged_into_id)
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
