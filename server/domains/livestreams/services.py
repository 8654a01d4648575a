"""Livestream use cases for the ops team and HQ."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ...unit_of_work import use_case
from ..catalog.services import products_by_ids
from ..common.actor import Actor, Role
from ..common.errors import CommonErrorCode as Common
from ..common.idempotency import create_once
from ..common.lookup import links_by_owner, rows_by_id
from ..common.rows import saved_id
from ..common.validation import Validator, not_found
from ..staff.services import teams_by_ids
from .errors import LivestreamErrorCode as Code
from .models import Channel, Livestream, LivestreamProduct, LivestreamStatus

# Scopes of idempotency keys, stored with each key's record: renaming one forgets the keys given.
LIVESTREAM_KEY_SCOPE = "livestreamCreate"

EDITORS = (Role.HQ_ADMIN, Role.LIVESTREAM_OPS)
MAX_TALKING_POINTS = 50
MAX_TALKING_POINT_LENGTH = 300
MAX_FEATURED_PRODUCTS = 100
MAX_DURATION = timedelta(hours=24)

# Which status a livestream may move to, and which timestamp that stamps.
TRANSITIONS = {
    LivestreamStatus.SCHEDULED: {LivestreamStatus.LIVE, LivestreamStatus.CANCELLED},
    LivestreamStatus.LIVE: {LivestreamStatus.ENDED},
    LivestreamStatus.ENDED: set(),
    LivestreamStatus.CANCELLED: set(),
}


@dataclass(frozen=True)
class LivestreamDraft:
    title: str
    host_name: str
    team_id: int
    channel: Channel
    scheduled_start: datetime
    scheduled_end: datetime
    talking_points: Sequence[str] = field(default_factory=tuple)
    product_ids: Sequence[int] = field(default_factory=tuple)


@dataclass(frozen=True)
class LivestreamChanges:
    title: str | None = None
    host_name: str | None = None
    team_id: int | None = None
    channel: Channel | None = None
    scheduled_start: datetime | None = None
    scheduled_end: datetime | None = None
    talking_points: Sequence[str] | None = None
    product_ids: Sequence[int] | None = None
    status: LivestreamStatus | None = None


def _check_text(check: Validator, values, required: bool) -> None:
    check.text(("title",), values.title, max_length=100, required=required)
    check.text(("hostName",), values.host_name, max_length=64, required=required)
    if values.talking_points is not None:
        check.count(("talkingPoints",), values.talking_points, MAX_TALKING_POINTS)
        for index, point in enumerate(values.talking_points):
            check.text(("talkingPoints", str(index)), point, max_length=MAX_TALKING_POINT_LENGTH, multiline=True)


def _check_schedule(check: Validator, start: datetime, end: datetime) -> None:
    if end <= start:
        check.add(Code.INVALID_SCHEDULE, "scheduledEnd must be after scheduledStart", ("scheduledEnd",))
    elif end - start > MAX_DURATION:
        check.add(Code.INVALID_SCHEDULE, "a livestream lasts at most 24 hours", ("scheduledEnd",))


async def _check_references(session: AsyncSession, check: Validator, team_id, product_ids) -> None:
    if team_id is not None and not await teams_by_ids(session, [team_id]):
        check.add(Common.NOT_FOUND, "team not found", ("teamId",))
    if product_ids:
        check.count(("productIds",), product_ids, MAX_FEATURED_PRODUCTS)
        if len(product_ids) != len(set(product_ids)):
            check.add(Common.INVALID_VALUE, "a product is listed twice", ("productIds",))
        elif len(await products_by_ids(session, list(product_ids))) != len(product_ids):
            check.add(Common.NOT_FOUND, "a product was not found", ("productIds",))


async def _replace_products(session: AsyncSession, livestream_id: int, product_ids) -> None:
    await session.exec(delete(LivestreamProduct).where(col(LivestreamProduct.livestream_id) == livestream_id))
    session.add_all(
        LivestreamProduct(livestream_id=livestream_id, product_id=p, position=i) for i, p in enumerate(product_ids)
    )


@use_case
async def create_livestream(
    session: AsyncSession, actor: Actor, draft: LivestreamDraft, idempotency_key: str | None = None
) -> Livestream:
    actor.require_role(*EDITORS)
    check = Validator()
    _check_text(check, draft, required=True)
    _check_schedule(check, draft.scheduled_start, draft.scheduled_end)
    await _check_references(session, check, draft.team_id, draft.product_ids)
    check.raise_if_any()

    async def create():
        livestream = Livestream(
            title=draft.title.strip(),
            host_name=draft.host_name.strip(),
            team_id=draft.team_id,
            channel=draft.channel.value,
            scheduled_start=draft.scheduled_start,
            scheduled_end=draft.scheduled_end,
            talking_points=[p.strip() for p in draft.talking_points],
        )
        session.add(livestream)
        await session.flush()
        await _replace_products(session, livestream.id, draft.product_ids)
        return livestream

    return await create_once(
        session,
        actor=actor.key,
        scope=LIVESTREAM_KEY_SCOPE,
        key=idempotency_key,
        payload=asdict(draft),
        create=create,
        model=Livestream,
    )


def _apply_status(check: Validator, livestream: Livestream, status: LivestreamStatus | None, now: datetime) -> None:
    current = LivestreamStatus(livestream.status)
    if status is None or status is current:
        return
    if status not in TRANSITIONS[current]:
        check.add(
            Code.INVALID_STATUS_TRANSITION,
            f"a {current.value} livestream cannot become {status.value}",
            ("status",),
        )
        return
    livestream.status = status.value
    if status is LivestreamStatus.LIVE:
        livestream.actual_start = now
    elif status is LivestreamStatus.ENDED:
        livestream.actual_end = now


@use_case
async def update_livestream(
    session: AsyncSession, actor: Actor, livestream_id: int, changes: LivestreamChanges, now: datetime
) -> Livestream:
    actor.require_role(*EDITORS)
    # Locked: two concurrent status moves must not both pass the transition check.
    livestream = await session.get(Livestream, livestream_id, with_for_update=True)
    if livestream is None:
        raise not_found("livestream", ("id",))
    check = Validator()
    _check_text(check, changes, required=False)
    _check_schedule(
        check, changes.scheduled_start or livestream.scheduled_start, changes.scheduled_end or livestream.scheduled_end
    )
    await _check_references(session, check, changes.team_id, changes.product_ids)
    _apply_status(check, livestream, changes.status, now)
    check.raise_if_any()
    for name in ("title", "host_name", "team_id", "scheduled_start", "scheduled_end"):
        value = getattr(changes, name)
        if value is not None:
            setattr(livestream, name, value.strip() if isinstance(value, str) else value)
    if changes.channel is not None:
        livestream.channel = changes.channel.value
    if changes.talking_points is not None:
        livestream.talking_points = [p.strip() for p in changes.talking_points]
    if changes.product_ids is not None:
        await _replace_products(session, saved_id(livestream), changes.product_ids)
    livestream.updated_at = now
    return livestream


async def livestreams_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Livestream]:
    return await rows_by_id(session, Livestream, ids)


async def product_ids_by_livestream(session: AsyncSession, ids: Sequence[int]) -> dict[int, list[int]]:
    return await links_by_owner(
        session, LivestreamProduct, "livestream_id", "product_id", ids, order_by=LivestreamProduct.position
    )


def livestream_listing(*, status: LivestreamStatus | None = None, team_id: int | None = None):
    statement = select(Livestream)
    if status is not None:
        statement = statement.where(Livestream.status == status.value)
    if team_id is not None:
        statement = statement.where(Livestream.team_id == team_id)
    return statement
