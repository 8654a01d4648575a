"""The share loop's public service functions (the ledger's referrer, performance's post counts) and its
OneID merge handler."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..identity.hooks import on_merge
from .models import Referral, ReferralCode, ShareInvitation, UgcPost
from .referrals import referrer_of, referrers_of

__all__ = ["count_posts", "referrer_of", "referrers_of"]


async def count_posts(
    session: AsyncSession,
    *,
    store_ids: Sequence[int] | None = None,
    livestream_id: int | None = None,
    livestream_ids: Sequence[int] | None = None,
    person_ids: Sequence[int] | None = None,
    booking_ids: Sequence[int] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Posts submitted in [since, until) about visits to these stores, from this livestream (and among
    these), of these bookings, by these customers: every filter given applies (None: any)."""
    statement = select(sa.func.count()).select_from(UgcPost)
    for column, values in (
        (UgcPost.store_id, store_ids),
        (UgcPost.livestream_id, livestream_ids),
        (UgcPost.livestream_id, None if livestream_id is None else [livestream_id]),
        (UgcPost.person_id, person_ids),
        (UgcPost.booking_id, booking_ids),
    ):
        if values is not None:
            statement = statement.where(col(column).in_(list(values)))
    if since is not None:
        statement = statement.where(col(UgcPost.created_at) >= since)
    if until is not None:
        statement = statement.where(col(UgcPost.created_at) < until)
    return int((await session.exec(statement)).one())


@on_merge("social")
async def follow_merges(session: AsyncSession, root_of: dict[int, int]) -> None:
    """OneID merged persons (merged id -> survivor): her posts, invitations and the referrals she made
    follow the survivor; the referral that brought her moves only when the survivor has none (one
    referrer each, never herself). Her code moves to the survivor when the survivor has none; otherwise
    it stays on the merged id, an alias that referralAccept resolves to the survivor, so links already
    shared keep crediting her."""
    for old, new in sorted(root_of.items()):
        for column in (UgcPost.person_id, ShareInvitation.person_id, Referral.referrer_id):
            await _rekey(session, column, old, new)
        if await session.get(Referral, new) is None:
            await _rekey(session, Referral.referred_id, old, new)
        await session.exec(sa.delete(Referral).where(col(Referral.referred_id) == old))
        await session.exec(sa.delete(Referral).where(col(Referral.referred_id) == col(Referral.referrer_id)))
        if await session.get(ReferralCode, new) is None:
            await _rekey(session, ReferralCode.person_id, old, new)


async def _rekey(session: AsyncSession, column: Any, old: int, new: int) -> None:
    table = column.class_
    await session.exec(sa.update(table).where(col(column) == old).values({column.key: new}))
