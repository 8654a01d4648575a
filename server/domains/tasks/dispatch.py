"""Choosing the guide for a reception.

Candidates are the store's guides on shift over the whole slot with a free
seat in it. Order: (1) her relationship guide, (2) most skills matching the
booked products' categories and service, (3) fewest tasks that local day,
(4) least recently assigned, then the lowest id. The reason names what
decided, so a manager can see why.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

import sqlalchemy as sa
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ...clock import aggregate_time
from ..common.dialect import any_of, dialect_of
from ..staff.services import skills_by_staff
from .models import Task

OPEN_STATES = ("OPEN", "ACKNOWLEDGED", "IN_PROGRESS")


@dataclass(frozen=True)
class Need:
    """What the reception needs of a guide."""

    store_id: int
    slot_start: datetime
    day_start: datetime  # the slot's store-local day, in UTC
    day_end: datetime
    candidates: Sequence[int]  # guides on shift over the slot
    guide_capacity: int
    relationship_guide_id: int | None
    category_ids: frozenset[int]
    service_id: int | None


@dataclass(frozen=True)
class Choice:
    guide_id: int | None
    reason: str


@dataclass(frozen=True)
class _Standing:
    guide_id: int
    relationship: bool
    skills: int
    today: int
    last_assigned: datetime | None


async def choose_guide(session: AsyncSession, need: Need, exclude: Collection[int] = ()) -> Choice:
    pool = [g for g in need.candidates if g not in set(exclude)]
    if not pool:
        return Choice(None, "no guide on shift over this slot" + (" besides those tried" if exclude else ""))
    loads = await _loads(session, pool, need)
    free = [g for g in pool if loads[g].in_slot < need.guide_capacity]
    if not free:
        return Choice(None, "every guide on shift is already receiving someone in this slot")
    ranked = sorted(await _standings(session, free, need, loads), key=_rank)
    return Choice(ranked[0].guide_id, _explain(ranked, need))


def _rank(s: _Standing):
    never = s.last_assigned is None
    return (
        not s.relationship,
        -s.skills,
        s.today,
        not never,
        s.last_assigned.timestamp() if s.last_assigned else 0,
        s.guide_id,
    )


def _explain(ranked: list[_Standing], need: Need) -> str:
    best = ranked[0]
    wanted = len(need.category_ids) + (1 if need.service_id else 0)
    if best.relationship:
        return "her relationship guide"
    if len(ranked) == 1:
        return "the only guide on shift with a free seat"
    runner_up = ranked[1]
    if best.skills != runner_up.skills:
        return f"best skill match ({best.skills} of {wanted})"
    if best.today != runner_up.today:
        return f"fewest tasks that day ({best.today})"
    return "never assigned before" if best.last_assigned is None else "least recently assigned"


@dataclass(frozen=True)
class _Load:
    in_slot: int  # open tasks due at the slot's start
    today: int  # tasks (not cancelled) that local day
    last_assigned: datetime | None


async def _loads(session: AsyncSession, guides: Sequence[int], need: Need) -> dict[int, _Load]:
    """Each guide's load, in one pass over her tasks."""
    window = {"slot_start": need.slot_start, "day_start": need.day_start, "day_end": need.day_end}
    rows = await session.exec(_loads_of_guides(dialect_of(session)), params={"guides": list(guides), **window})
    loads = {guide: _Load(0, 0, None) for guide in guides}
    for guide, slot_count, day_count, last in rows.all():
        # The WHERE keeps the rows of these guides: assignee_id is set.
        loads[cast(int, guide)] = _Load(slot_count, day_count, aggregate_time(last))
    return loads


@functools.cache
def _loads_of_guides(dialect: str):
    """Built once (dispatch runs for every booking): tasks in the slot, tasks that day, the last assignment."""
    due_at, status = col(Task.due_at), col(Task.status)
    in_slot = func.count().filter(due_at == sa.bindparam("slot_start"), status.in_(OPEN_STATES))
    today = func.count().filter(
        due_at >= sa.bindparam("day_start"), due_at < sa.bindparam("day_end"), status != "CANCELLED"
    )
    return (
        select(Task.assignee_id, in_slot, today, func.max(Task.assigned_at))
        .where(any_of(col(Task.assignee_id), "guides", dialect))
        .group_by(col(Task.assignee_id))
    )


async def _standings(
    session: AsyncSession, guides: Sequence[int], need: Need, loads: dict[int, _Load]
) -> list[_Standing]:
    skills = await skills_by_staff(session, guides)
    standings = []
    for guide in guides:
        categories, services = skills[guide]
        matches = len(need.category_ids & set(categories)) + (1 if need.service_id in services else 0)
        standings.append(
            _Standing(
                guide, guide == need.relationship_guide_id, matches, loads[guide].today, loads[guide].last_assigned
            )
        )
    return standings
