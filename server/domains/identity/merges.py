"""OneID merges and conflicts: undoing a merge (split) and what links were refused."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from ...unit_of_work import use_case
from ..common.actor import Actor, Role
from ..common.audit import audit
from ..common.errors import DomainError
from ..common.rows import saved_id
from ..common.validation import not_found
from .errors import IdentityErrorCode as Code
from .models import (
    CustomerEvent,
    Identifier,
    IdentityConflict,
    Person,
    PersonMerge,
)
from .persons import locked_root_person
from .resolution import reproject


async def merged_subtree(session: AsyncSession, person_id: int) -> set[int]:
    """The person and everyone merged into her, directly or not."""
    members, frontier = {person_id}, [person_id]
    while frontier:
        rows = await session.exec(select(Person.id).where(col(Person.merged_into_id).in_(frontier)))
        frontier = [r for r in rows.all() if r is not None and r not in members]
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
    assert root is not None, "a merge's survivor_id is a foreign key to a person"
    root_id = saved_id(root)
    await session.refresh(merge, with_for_update=True)  # two admins splitting it at once: one wins
    # She gets ids back: lock her row too.
    await session.exec(select(Person.id).where(col(Person.id) == merge.merged_id).with_for_update())
    if merge.undone_at is not None:
        raise DomainError.single(Code.MERGE_ALREADY_UNDONE, "this merge was already split", ("mergeId",))
    leaving = await merged_subtree(session, merge.merged_id)
    later = await session.exec(
        select(PersonMerge).where(col(PersonMerge.id) > saved_id(merge), col(PersonMerge.undone_at).is_(None))
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
            .where(col(model.person_id) == root_id, col(model.home_person_id).in_(leaving))
            .values(person_id=merge.merged_id)
        )
    await session.exec(update(Person).where(col(Person.id) == merge.merged_id).values(merged_into_id=None))
    merge.undone_at, merge.undone_by = now, actor.key
    await reproject(session, [root_id, merge.merged_id])
    audit(session, actor.key, "person.split", f"person:{merge.merged_id}", now, merge=merge.id, survivor=root_id)
    return merge


def conflict_listing(*, unresolved_only: bool = True):
    statement = select(IdentityConflict)
    if unresolved_only:
        statement = statement.where(col(IdentityConflict.resolved_at).is_(None))
    return statement


async def merges_into(session: AsyncSession, person_id: int) -> list[PersonMerge]:
    rows = await session.exec(
        select(PersonMerge).where(col(PersonMerge.survivor_id) == person_id).order_by(col(PersonMerge.id))
    )
    return list(rows.all())
