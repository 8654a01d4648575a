"""An order's journey, built once from the unified timeline when it is paid, and frozen.

Last touch: the livestream she touched last (joined, clicked a product, tapped "book") within the
brand's window before the anchor — her booking's creation when the order is tied to a booking (the
booking's own livestream counts as a touch then), else the payment. The guide who served her is her
booking's task assignee, else the seller of the order. The referrer comes from the share loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ...unit_of_work import use_case
from ..bookings.models import Booking
from ..bookings.services import bookings_by_ids
from ..common.actor import Actor, Role
from ..common.validation import Validator
from ..identity.touches import Touch, livestream_touches, livestream_touches_of
from ..livestreams.services import livestreams_by_ids
from ..orders.models import SalesOrder
from ..social.services import referrers_of
from ..tasks.lookups import assignees_by_booking
from . import cache
from .models import AttributionRule

DEFAULT_RULE: dict[str, Any] = {"model": "LAST_TOUCH_LIVESTREAM", "windowDays": 7}
TOUCHES = 20  # the journey keeps her latest touches in the window


@dataclass(frozen=True)
class Journey:
    anchor: datetime
    touches: list[Touch]
    livestream_id: int | None
    team_id: int | None
    guide_id: int | None
    referrer_id: int | None
    rule: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "anchor": self.anchor.isoformat(),
            "touches": [
                {"livestreamId": t.livestream_id, "type": t.type, "at": t.at.isoformat()} for t in self.touches
            ],
            "rule": self.rule,
        }


async def rule_in_force(session: AsyncSession) -> dict[str, Any]:
    rule = await cache.once(session, "rule", lambda: rule_row(session))
    return {"model": rule.model, "windowDays": rule.window_days} if rule else dict(DEFAULT_RULE)


async def rule_row(session: AsyncSession) -> AttributionRule | None:
    """The newest rule HQ set; None: the built-in default (7 days) is in force."""
    statement = select(AttributionRule).order_by(col(AttributionRule.id).desc()).limit(1)
    return (await session.exec(statement)).first()


async def read_ahead(session: AsyncSession, orders: Sequence[SalesOrder]) -> None:
    """Read what the journeys of many orders about to be credited need, a statement per kind (the
    consumer's batch); build_journey then finds it in the batch's cache."""
    booking_ids = sorted({order.booking_id for order in orders if order.booking_id})
    bookings = await cache.rows(session, "bookings", booking_ids, bookings_by_ids)
    await cache.rows(session, "assignees", booking_ids, assignees_by_booking)
    person_ids = sorted({order.person_id for order in orders})
    await cache.rows(session, "referrers", person_ids, referrers_of)
    anchors = [_anchor(order, bookings.get(order.booking_id or 0)) for order in orders]
    if anchors:
        window = timedelta(days=(await rule_in_force(session))["windowDays"])
        since, until = min(anchors) - window, max(anchors)
        touches = await livestream_touches_of(session, person_ids, since, until)
        cache.keep(session, "touches", {person: (since, until, found) for person, found in touches.items()})


def _anchor(order: SalesOrder, booking: Booking | None) -> datetime:
    return booking.created_at if booking else order.paid_at or order.updated_at


async def _touches(session: AsyncSession, person_id: int, since: datetime, until: datetime) -> list[Touch]:
    """Her touches in [since, until], newest first: from the batch's read-ahead when it covers them."""
    ahead = cache.known(session, "touches").get(person_id)
    if ahead is not None and ahead[0] <= since and until <= ahead[1]:
        return [touch for touch in ahead[2] if since <= touch.at <= until][:TOUCHES]
    return await livestream_touches(session, person_id, since, until, TOUCHES)


async def build_journey(session: AsyncSession, order: SalesOrder, paid_at: datetime) -> Journey:
    rule = await rule_in_force(session)
    booking_ids = [order.booking_id] if order.booking_id else []
    booking = (await cache.rows(session, "bookings", booking_ids, bookings_by_ids)).get(order.booking_id or 0)
    anchor = booking.created_at if booking else paid_at
    window = timedelta(days=rule["windowDays"])
    touches = await _touches(session, order.person_id, anchor - window, anchor)
    if booking is not None and booking.livestream_id is not None:
        touches = [Touch(booking.livestream_id, "BOOKING", booking.created_at), *touches]
    livestream_id = max(touches, key=lambda t: t.at).livestream_id if touches else None
    livestream = None
    if livestream_id is not None:
        livestream = (await cache.rows(session, "livestreams", [livestream_id], livestreams_by_ids)).get(livestream_id)
    guide_id = order.guide_id
    if booking is not None:
        assignees = await cache.rows(session, "assignees", [booking.id or 0], assignees_by_booking)
        guide_id = assignees.get(booking.id or 0) or guide_id
    referrers = await cache.rows(session, "referrers", [order.person_id], referrers_of)
    return Journey(
        anchor=anchor,
        touches=touches,
        livestream_id=livestream_id,
        team_id=livestream.team_id if livestream else None,
        guide_id=guide_id,
        referrer_id=referrers.get(order.person_id),
        rule=rule,
    )


MAX_WINDOW_DAYS = 90


@use_case
async def set_rule(session: AsyncSession, actor: Actor, window_days: int, now: datetime) -> AttributionRule:
    """A new attribution window (HQ_ADMIN), for orders credited from now on; credited ones keep theirs."""
    actor.require_role(Role.HQ_ADMIN)
    check = Validator()
    check.number_range(("windowDays",), window_days, 1, MAX_WINDOW_DAYS)
    check.raise_if_any()
    rule = AttributionRule(window_days=window_days, created_by=actor.key, created_at=now)
    session.add(rule)
    await session.flush()
    return rule
