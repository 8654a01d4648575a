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

import sqlalchemy as sa
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ...clock import aggregate_time
from ...prepared import run
from ..common.dialect import among_constants, bound_each, bound_size
from ..staff.services import staff_with_matching_skills
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
    skills: int  # how many of the booked categories and service she is skilled in
    in_slot: int  # her open tasks due at the slot's start
    today: int  # her tasks (not cancelled) that local day
    last_assigned: datetime | None


async def choose_guide(session: AsyncSession, need: Need, exclude: Collection[int] = ()) -> Choice:
    pool = [g for g in need.candidates if g not in set(exclude)]
    if not pool:
        return Choice(None, "no guide on shift over this slot" + (" besides those tried" if exclude else ""))
    free = [s for s in await _standings(session, pool, need) if s.in_slot < need.guide_capacity]
    if not free:
        return Choice(None, "every guide on shift is already receiving someone in this slot")
    ranked = sorted(free, key=_rank)
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


async def _standings(session: AsyncSession, guides: Sequence[int], need: Need) -> list[_Standing]:
    """Each guide's skills and load, in one statement."""
    params = {
        **bound_each("ids", guides),
        **bound_each("categories", sorted(need.category_ids)),
        "service_id": need.service_id,
        "slot_start": need.slot_start,
        "day_start": need.day_start,
        "day_end": need.day_end,
    }
    statement = _standings_of_guides(bound_size(len(guides)), bound_size(len(need.category_ids)))
    rows = await run(session, statement, params)
    return [
        _Standing(guide, guide == need.relationship_guide_id, skills, in_slot, today, aggregate_time(last))
        for guide, skills, in_slot, today, last in rows.all()
    ]


@functools.cache
def _standings_of_guides(guides: int, categories: int):
    """Built once per count of guides and of categories (dispatch runs for every booking): each guide's skill
    matches, her open tasks in the slot, her tasks that day and her last assignment ever. Each count is an index
    probe of her tasks (``ix_task_assignee_due``, ``ix_task_assignee_assigned``), so the cost does not grow with
    her history."""
    standings = staff_with_matching_skills(guides, categories)
    guide = standings.selected_columns[0]
    due_at, status = col(Task.due_at), col(Task.status)

    def her_tasks(aggregate, *where):
        return select(aggregate).where(col(Task.assignee_id) == guide, *where).scalar_subquery()

    in_slot = her_tasks(func.count(), due_at == sa.bindparam("slot_start"), among_constants(status, OPEN_STATES))
    today = her_tasks(
        func.count(), due_at >= sa.bindparam("day_start"), due_at < sa.bindparam("day_end"), status != "CANCELLED"
    )
    last_assigned = her_tasks(func.max(Task.assigned_at))
    return standings.add_columns(in_slot, today, last_assigned)
