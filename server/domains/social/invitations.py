"""After a completed visit she is invited to share it (once per booking), with her share link."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ...db import claim
from ...unit_of_work import use_case
from ..bookings.models import Booking
from ..bookings.services import completed_visits
from ..common.dialect import insert_ignore
from ..messaging.services import MessageKind, queue
from ..stores.services import stores_by_ids
from .models import ShareInvitation
from .referrals import code_of, share_url

INVITE_BATCH = 200
INVITE_WITHIN = timedelta(days=2)  # a visit completed longer ago is not worth inviting for any more


@use_case
async def invite_to_share(session: AsyncSession, public_url: str, brand: str, now: datetime) -> int:
    """Queue a share invitation for each visit completed lately without one. Safe on N replicas: the
    visits are claimed with SKIP LOCKED, and the invitation's key (the booking) lets only one replica
    queue it should two ever see the same visit."""
    due = await _visits_to_invite(session, now)
    stores = await stores_by_ids(session, sorted({b.store_id for b in due}))
    sent = 0
    for booking in due:
        if not await _record_invitation(session, booking, now):
            continue  # another replica invited her
        store = stores.get(booking.store_id)
        code = await code_of(session, booking.person_id, now)
        params = {
            "bookingId": booking.id,
            "storeName": store.name if store else "",
            "brand": brand,
            "shareUrl": share_url(public_url, code),
        }
        await queue(session, booking.person_id, MessageKind.SHARE_INVITATION, f"share:{booking.id}", params, now)
        sent += 1
    return sent


async def _visits_to_invite(session: AsyncSession, now: datetime) -> Sequence[Booking]:
    invited = select(ShareInvitation.booking_id)
    statement = completed_visits(now - INVITE_WITHIN, excluding=invited).limit(INVITE_BATCH)
    return list((await session.exec(claim(statement, session))).all())


async def _record_invitation(session: AsyncSession, booking: Booking, now: datetime) -> bool:
    values = {"booking_id": booking.id, "person_id": booking.person_id, "created_at": now}
    return ((await session.exec(insert_ignore(session, ShareInvitation, values))).rowcount or 0) == 1
