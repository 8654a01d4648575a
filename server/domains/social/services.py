"""The share loop's public service functions (the ledger's referrer, performance's post counts) and its
OneID merge handler."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..identity.hooks import on_merge
from .models import Referral, ReferralCode, UgcPost
from .referrals import referrer_of

__all__ = ["count_posts", "referrer_of"]


async def count_posts(
    session: AsyncSession,
    *,
    store_ids: Sequence[int] | None = None,
    livestream_ids: Sequence[int] | None = None,
    person_ids: Sequence[int] | None = None,
    booking_ids: Sequence[int] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Posts submitted in [since, until) about visits to these stores, from these livestreams, of these
    bookings, or by these customers (None: any)."""
    statement = select(sa.func.count()).select_from(UgcPost)
    for column, values in (
        (UgcPost.store_id, store_ids),
        (UgcPost.livestream_id, livestream_ids),
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
    """OneID merged persons (merged id -> survivor): posts and referrals follow the survivor; her code
    stays hers unless the survivor has none (then it moves); a referral of herself is dropped."""
    for old, new in sorted(root_of.items()):
        await session.exec(sa.update(UgcPost).where(col(UgcPost.person_id) == old).values(person_id=new))
        await session.exec(sa.update(Referral).where(col(Referral.referrer_id) == old).values(referrer_id=new))
        if await session.get(Referral, new) is None:
            await session.exec(sa.update(Referral).where(col(Referral.referred_id) == old).values(referred_id=new))
        await session.exec(sa.delete(Referral).where(col(Referral.referred_id) == old))
        await session.exec(sa.delete(Referral).where(col(Referral.referred_id) == col(Referral.referrer_id)))
        if await session.get(ReferralCode, new) is None:
            await session.exec(sa.update(ReferralCode).where(col(ReferralCode.person_id) == old).values(person_id=new))
        await session.exec(sa.delete(ReferralCode).where(col(ReferralCode.person_id) == old))
