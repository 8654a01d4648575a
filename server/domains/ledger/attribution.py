"""An order's journey, built once from the unified timeline when it is paid, and frozen.

Last touch: the livestream she touched last (joined, clicked a product, tapped "book") within the
brand's window before the anchor — her booking's creation when the order is tied to a booking (the
booking's own livestream counts as a touch then), else the payment. The guide who served her is her
booking's task assignee, else the seller of the order. The referrer comes from the share loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ...unit_of_work import use_case
from ..bookings.services import bookings_by_ids
from ..common.actor import Actor, Role
from ..common.validation import Validator
from ..identity.touches import Touch, livestream_touches
from ..livestreams.services import livestreams_by_ids
from ..orders.models import SalesOrder
from ..social.services import referrer_of
from ..tasks.lookups import assignees_by_booking
from . import cache
from .models import AttributionRule

DEFAULT_RULE: dict[str, Any] = {"model": "LAST_TOUCH_LIVESTREAM", "windowDays": 7}


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


async def build_journey(session: AsyncSession, order: SalesOrder, paid_at: datetime) -> Journey:
    rule = await rule_in_force(session)
    booking = (await bookings_by_ids(session, [order.booking_id])).get(order.booking_id) if order.booking_id else None
    anchor = booking.created_at if booking else paid_at
    window = timedelta(days=rule["windowDays"])
    touches = await livestream_touches(session, order.person_id, anchor - window, anchor)
    if booking is not None and booking.livestream_id is not None:
        touches = [Touch(booking.livestream_id, "BOOKING", booking.created_at), *touches]
    livestream_id = max(touches, key=lambda t: t.at).livestream_id if touches else None
    livestream = None
    if livestream_id is not None:
        livestream = (await cache.rows(session, "livestreams", [livestream_id], livestreams_by_ids)).get(livestream_id)
    guide_id = order.guide_id
    if booking is not None:
        guide_id = (await assignees_by_booking(session, [booking.id or 0])).get(booking.id or 0) or guide_id
    return Journey(
        anchor=anchor,
        touches=touches,
        livestream_id=livestream_id,
        team_id=livestream.team_id if livestream else None,
        guide_id=guide_id,
        referrer_id=await referrer_of(session, order.person_id),
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
