"""Claiming a coupon during a livestream: the campaign's stock and her limit taken in single conditional
statements, a random code, her timeline, and the outbox; and the lists of coupons she holds."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from ...outbox import emit
from ...unit_of_work import use_case
from ..common.actor import Actor, ActorKind
from ..common.dialect import dialect_of, increment_below, insert_ignore, is_in
from ..common.errors import DomainError, Forbidden, Problem
from ..common.idempotency import create_once
from ..common.lookup import rows_by_id
from ..common.rows import exec_any, saved_id, table_of
from ..common.validation import not_found
from ..identity.events import EventType, RawEvent
from ..identity.services import record_person_event
from ..livestreams.models import Livestream, LivestreamStatus
from ..stores.models import Store
from .errors import CouponErrorCode as Code
from .models import Coupon, CouponCampaign, CouponClaimCount, CouponGrant, CouponStatus, RedemptionChannel
from .topics import campaign_topic

# Scope of idempotency keys, stored with each key's record: renaming it forgets the keys given.
CLAIM_KEY_SCOPE = "couponClaim"
COUPON_EVENT_SOURCE = "coupons"
# 32 digits and capitals without 0/O and 1/I: read aloud or typed at a till without doubt. 10 of them
# give 2^50 codes, drawn with `secrets`: a code cannot be guessed from others.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 10
CODE_PATTERN = f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}"
_ISSUE_ATTEMPTS = 5
MAX_REASON_KEY = 128

_campaign = table_of(CouponCampaign)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _refused(code: Code, message: str) -> DomainError:
    return DomainError([Problem(code, message, ("campaignId",))])


def _claim_refusal(campaign: CouponCampaign, livestream: Livestream | None, now: datetime) -> DomainError | None:
    if not campaign.active:
        return _refused(Code.CAMPAIGN_INACTIVE, "this campaign is switched off")
    if campaign.valid_until <= now:
        return _refused(Code.CAMPAIGN_ENDED, "this campaign is over")
    if livestream is None or not is_on_air(livestream, now):
        return _refused(Code.LIVESTREAM_NOT_LIVE, "coupons are claimed while the livestream is live or scheduled to be")
    return None


def is_on_air(livestream: Livestream, now: datetime) -> bool:
    """LIVE, or SCHEDULED and within its scheduled window (an ENDED or CANCELLED one is not)."""
    if livestream.status == LivestreamStatus.LIVE.value:
        return True
    in_window = livestream.scheduled_start <= now < livestream.scheduled_end
    return livestream.status == LivestreamStatus.SCHEDULED.value and in_window


async def _take_her_place(session: AsyncSession, campaign: CouponCampaign, person_id: int) -> None:
    key = {"campaign_id": campaign.id, "person_id": person_id}
    if not await increment_below(session, CouponClaimCount, key, "claimed", campaign.per_customer_limit):
        raise DomainError.single(
            Code.CLAIM_LIMIT_REACHED,
            f"at most {campaign.per_customer_limit} coupons of this campaign per customer",
            ("campaignId",),
        )


async def _take_stock(session: AsyncSession, campaign: CouponCampaign, now: datetime) -> int:
    """One more claimed, only while stock is left and the campaign is on: how many are claimed now."""
    statement = (
        sa.update(_campaign)
        .where(
            _campaign.c.id == campaign.id,
            _campaign.c.claimed < _campaign.c.total_stock,
            _campaign.c.active.is_(True),
            _campaign.c.valid_until > now,
        )
        .values(claimed=_campaign.c.claimed + 1)
        .returning(_campaign.c.claimed)
    )
    claimed = (await exec_any(session, statement)).scalar()
    if claimed is not None:
        set_committed_value(campaign, "claimed", claimed)  # what the database holds; nothing to flush
        return int(claimed)
    # Refused: switched off or over meanwhile, or no stock left (read again to say which).
    row = (
        await exec_any(
            session, sa.select(_campaign.c.active, _campaign.c.valid_until).where(_campaign.c.id == campaign.id)
        )
    ).one()
    if not row.active:
        raise _refused(Code.CAMPAIGN_INACTIVE, "this campaign is switched off")
    if row.valid_until <= now:
        raise _refused(Code.CAMPAIGN_ENDED, "this campaign is over")
    raise _refused(Code.SOLD_OUT, "every coupon of this campaign was claimed")


async def _issue(session: AsyncSession, campaign_id: int, person_id: int, now: datetime) -> Coupon:
    """Her coupon under a fresh random code (drawn again in the unlikely case it is taken)."""
    insert = postgresql.insert if dialect_of(session) == "postgresql" else sqlite.insert
    for _ in range(_ISSUE_ATTEMPTS):
        values: dict[str, Any] = {
            "code": new_code(),
            "campaign_id": campaign_id,
            "person_id": person_id,
            "status": CouponStatus.ISSUED.value,
            "claimed_at": now,
        }
        statement = insert(Coupon).values(**values).on_conflict_do_nothing(index_elements=["code"]).returning(Coupon)
        coupon = (await exec_any(session, statement)).scalars().first()
        if coupon is not None:
            return coupon  # type: ignore[no-any-return]
    raise RuntimeError(f"no free coupon code in {_ISSUE_ATTEMPTS} draws")


@use_case
async def claim_coupon(
    session: AsyncSession, actor: Actor, campaign_id: int, *, now: datetime, idempotency_key: str | None = None
) -> Coupon:
    """A signed-in customer claims a coupon of a campaign while its livestream is on air.

    Her limit (the per-customer counter) and the campaign's stock are each taken by one conditional
    statement in this one transaction: a refused claim writes nothing. The claim goes on her timeline
    (COUPON_CLAIM) and to the campaign's topic (CLAIMED, with what remains). A retry with the same key
    returns the first coupon.
    """
    if actor.kind is not ActorKind.CUSTOMER:
        raise Forbidden("coupons are claimed by customers, for themselves")
    person_id = actor.id

    async def create() -> Coupon:
        campaign = await session.get(CouponCampaign, campaign_id)
        if campaign is None:
            raise not_found("campaign", ("campaignId",))
        livestream = await session.get(Livestream, campaign.livestream_id)
        refusal = _claim_refusal(campaign, livestream, now)
        if refusal is not None:
            raise refusal
        await _take_her_place(session, campaign, person_id)  # first: her own row, then the shared one
        claimed = await _take_stock(session, campaign, now)
        coupon = await _issue(session, campaign_id, person_id, now)
        await record_person_event(
            session,
            person_id,
            COUPON_EVENT_SOURCE,
            RawEvent(
                event_id=f"coupon:{coupon.id}",
                type=EventType.COUPON_CLAIM,
                occurred_at=now,
                identifiers=[],
                livestream_id=campaign.livestream_id,
                properties={"couponId": coupon.id, "campaignId": campaign_id, "campaign": campaign.name},
            ),
            now,
        )
        message = {
            "campaignId": campaign_id,
            "couponId": coupon.id,
            "livestreamId": campaign.livestream_id,
            "claimed": claimed,
            "remaining": campaign.total_stock - claimed,
        }
        emit(session, campaign_topic(campaign_id), "CLAIMED", message, now)
        return coupon

    return await create_once(
        session,
        actor=actor.key,
        scope=CLAIM_KEY_SCOPE,
        key=idempotency_key,
        payload={"campaign": campaign_id},
        create=create,
        model=Coupon,
    )


def is_usable(coupon: Coupon, campaign: CouponCampaign, now: datetime) -> bool:
    """ISSUED, and its campaign switched on and within its validity."""
    return (
        coupon.status == CouponStatus.ISSUED.value
        and campaign.active
        and campaign.valid_from <= now < campaign.valid_until
    )


def usable_at_store(campaign: CouponCampaign, store_id: int) -> bool:
    """Redeemable in that store: not ONLINE-only, and the store among its stores (none listed: every store)."""
    in_stores = not campaign.store_ids or store_id in campaign.store_ids
    return campaign.channel != RedemptionChannel.ONLINE.value and in_stores


def my_coupon_listing(actor: Actor, status: CouponStatus | None = None) -> SelectOfScalar[Coupon]:
    """The signed-in customer's own coupons."""
    if actor.kind is not ActorKind.CUSTOMER:
        raise Forbidden("myCoupons is for customers; staff see a customer's coupons on her 360° view")
    statement = select(Coupon).where(Coupon.person_id == actor.id)
    return statement if status is None else statement.where(Coupon.status == status.value)


async def usable_coupon_listing(
    session: AsyncSession, person_id: int, store_id: int | None, now: datetime
) -> SelectOfScalar[Coupon]:
    """Her ISSUED coupons whose campaign is on and within its validity; given a store, only those
    redeemable there (IN_STORE_ONLY or ANY, and the store among the campaign's; an unknown store: none)."""
    if store_id is not None and await session.get(Store, store_id) is None:
        return select(Coupon).where(sa.false())
    held = select(Coupon.campaign_id).where(Coupon.person_id == person_id, Coupon.status == CouponStatus.ISSUED.value)
    campaigns = await session.exec(
        select(CouponCampaign).where(
            col(CouponCampaign.id).in_(held),
            col(CouponCampaign.active).is_(True),
            col(CouponCampaign.valid_from) <= now,
            col(CouponCampaign.valid_until) > now,
        )
    )
    eligible = [c.id for c in campaigns if store_id is None or usable_at_store(c, store_id)]
    return select(Coupon).where(
        Coupon.person_id == person_id,
        Coupon.status == CouponStatus.ISSUED.value,
        is_in(session, col(Coupon.campaign_id), eligible),
    )


async def coupons_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Coupon]:
    return await rows_by_id(session, Coupon, ids)


class _GrantedMeanwhile(Exception):
    """Another transaction granted for the same reason first (its coupon stands, ours is undone)."""


async def grant_coupon(
    session: AsyncSession, campaign_id: int, person_id: int, now: datetime, *, reason_key: str | None = None
) -> int | None:
    """One coupon of a campaign given to her outside the claim flow (a referral reward), in the caller's
    transaction; it takes the campaign's stock like a claim (one conditional UPDATE). With a
    ``reason_key`` (at most 128 characters) it is given once per key: asked again, even at the same time,
    it answers the first coupon's id. None when none is left, or the campaign is off, over or unknown:
    the caller's own writes stand."""
    if reason_key is not None:
        _check_reason_key(reason_key)
        if (granted := await _granted_for(session, reason_key)) is not None:
            return granted
    campaign = await session.get(CouponCampaign, campaign_id)
    if campaign is None:
        return None
    try:
        async with session.begin_nested():
            await _take_stock(session, campaign, now)
            coupon = await _issue(session, campaign_id, person_id, now)
            if reason_key is not None:
                await _record_grant(session, reason_key, saved_id(coupon), now)
    except DomainError:
        return None
    except _GrantedMeanwhile:
        return await _granted_for(session, reason_key or "")
    emit(session, campaign_topic(campaign_id), "GRANTED", {"campaignId": campaign_id, "couponId": coupon.id}, now)
    return saved_id(coupon)


def _check_reason_key(reason_key: str) -> None:
    if not 0 < len(reason_key) <= MAX_REASON_KEY:
        raise ValueError(f"a grant's reason key has 1-{MAX_REASON_KEY} characters")


async def _granted_for(session: AsyncSession, reason_key: str) -> int | None:
    statement = select(CouponGrant.coupon_id).where(col(CouponGrant.reason_key) == reason_key)
    return (await session.exec(statement)).first()


async def _record_grant(session: AsyncSession, reason_key: str, coupon_id: int, now: datetime) -> None:
    values = {"reason_key": reason_key, "coupon_id": coupon_id, "created_at": now}
    if ((await session.exec(insert_ignore(session, CouponGrant, values))).rowcount or 0) != 1:
        raise _GrantedMeanwhile(reason_key)
