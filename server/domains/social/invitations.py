"""After a completed visit she is invited to share it (once per booking), with her share link."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ...unit_of_work import use_case
from ..bookings.models import Booking, BookingStatus
from ..common.dialect import insert_ignore
from ..messaging.services import MessageKind, queue
from ..stores.models import Store
from .models import ShareInvitation
from .referrals import code_of, share_url

INVITE_BATCH = 200
INVITE_WITHIN = timedelta(days=2)  # a visit completed longer ago is not worth inviting for any more


@use_case
async def invite_to_share(session: AsyncSession, public_url: str, brand: str, now: datetime) -> int:
    """Queue a share invitation for each visit completed lately without one. Safe on N replicas: the
    invitation's key (the booking) lets only one of them queue it."""
    invited = select(ShareInvitation.booking_id).where(col(ShareInvitation.booking_id) == col(Booking.id))
    statement = (
        select(Booking)
        .where(
            col(Booking.status) == BookingStatus.COMPLETED.value,
            col(Booking.completed_at) >= now - INVITE_WITHIN,
            ~invited.exists(),
        )
        .order_by(col(Booking.completed_at))
        .limit(INVITE_BATCH)
    )
    sent = 0
    for booking in list(await session.exec(statement)):
        values = {"booking_id": booking.id, "person_id": booking.person_id, "created_at": now}
        if ((await session.exec(insert_ignore(session, ShareInvitation, values))).rowcount or 0) != 1:
            continue  # another replica invited her
        store = await session.get(Store, booking.store_id)
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
