"""Coupons at checkout, for the orders domain (above coupons): price a cart with her coupons, then redeem
them with the order. Both run inside the caller's transaction and never commit: when they (or anything
after them) raise, the caller's use case rolls everything back.

``codes`` are coupon codes as printed (case and surrounding spaces do not matter) or scanned QR tokens
(``Coupon.qrToken``). Every code is checked before anything is priced; each refusal is a DomainError
problem on ``("couponCodes", "<index>")``:

- COUPON_NOT_FOUND: no such code, not one of hers, or a QR token that does not verify or has expired;
- COUPON_DUPLICATE: the same coupon given twice (its code and its QR token count as the same);
- COUPON_ALREADY_REDEEMED: it was redeemed;
- COUPON_NOT_VALID_NOW: its campaign is switched off, or ``now`` is before validFrom or from validUntil on;
- COUPON_WRONG_CHANNEL: an IN_STORE_ONLY coupon on an online order, or an ONLINE one in a store;
- COUPON_WRONG_STORE: the campaign lists stores and ``store_id`` is not one of them;
- COUPON_NOT_APPLICABLE: no line it applies to, a THRESHOLD's minSpend not reached by those lines, or
  nothing left for it to take off once the coupons before it applied;
- COUPON_SAME_CAMPAIGN: a second coupon of a campaign already given;
- TOO_MANY on ``("couponCodes",)``: more than 10 codes.

The stacking rules are those of :mod:`server.domains.coupons.pricing`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ...outbox import emit
from ..auth.tokens import TokenPolicy
from ..common.dialect import dialect_of, is_in
from ..common.errors import DomainError
from ..common.lookup import rows_by_id
from ..common.rows import exec_any, saved_id, table_of
from ..common.validation import Validator
from ..identity.hooks import on_merge
from ..identity.persons import root_person
from . import qr
from .claims import CODE_PATTERN, grant_coupon
from .errors import CouponErrorCode as Code
from .models import Coupon, CouponCampaign, CouponClaimCount, CouponStatus, RedemptionChannel
from .pricing import CartLine, Terms, discounts, refusal
from .topics import campaign_topic

MAX_CODES = 10
_coupon = table_of(Coupon)
_counts = table_of(CouponClaimCount)

__all__ = ["MAX_CODES", "AppliedCoupon", "CartLine", "apply_coupons", "grant_coupon", "redeem"]


@dataclass(frozen=True)
class AppliedCoupon:
    """One coupon priced into a cart."""

    coupon_id: int
    campaign_id: int
    code: str
    discount: int  # fen, total for this coupon
    line_discounts: dict[
        int, int
    ]  # line key -> fen, summing exactly to discount (lines it takes nothing from left out)


def _code_of(given: str, tokens: TokenPolicy, now: datetime) -> str | None:
    """The coupon code a code or QR token names; None when it cannot name one."""
    text = given.strip()
    if qr.looks_like_token(text):
        try:
            text = qr.decode(tokens, text, now)
        except qr.InvalidCouponToken:
            return None
    code = text.upper()
    return code if re.fullmatch(CODE_PATTERN, code) else None


def _refusal(
    coupon: Coupon,
    campaign: CouponCampaign,
    *,
    store_id: int,
    online: bool,
    lines: Sequence[CartLine],
    now: datetime,
) -> tuple[Code, str] | None:
    if coupon.status == CouponStatus.REDEEMED.value:
        return Code.COUPON_ALREADY_REDEEMED, "this coupon was redeemed already"
    if not campaign.active:
        return Code.COUPON_NOT_VALID_NOW, "this coupon's campaign is switched off"
    if now < campaign.valid_from:
        return Code.COUPON_NOT_VALID_NOW, f"this coupon is valid from {campaign.valid_from.isoformat()}"
    if now >= campaign.valid_until:
        return Code.COUPON_NOT_VALID_NOW, f"this coupon expired at {campaign.valid_until.isoformat()}"
    if online and campaign.channel == RedemptionChannel.IN_STORE_ONLY.value:
        return Code.COUPON_WRONG_CHANNEL, "this coupon is redeemed in store only"
    if not online and campaign.channel == RedemptionChannel.ONLINE.value:
        return Code.COUPON_WRONG_CHANNEL, "this coupon is redeemed online only"
    if campaign.store_ids and store_id not in campaign.store_ids:
        return Code.COUPON_WRONG_STORE, "this coupon is not redeemed at this store"
    reason = refusal(Terms.of(campaign), lines)
    if reason is not None:
        return Code.COUPON_NOT_APPLICABLE, reason
    return None


async def apply_coupons(
    session: AsyncSession,
    *,
    person_id: int,
    store_id: int,
    online: bool,
    lines: Sequence[CartLine],
    codes: Sequence[str],
    now: datetime,
    tokens: TokenPolicy,
) -> list[AppliedCoupon]:
    """Price ``lines`` with her coupons ``codes``: each coupon's discount, in the order they apply.

    ``person_id`` is the order's customer (a merged id stands for her survivor), ``online`` whether the
    order is placed online (else in store ``store_id``), ``tokens`` the server's token policy (to verify
    scanned QR tokens). Reads only; raises DomainError (see the module) when any code is refused. The
    result is the same whatever order ``codes`` come in. Lines with duplicate keys or negative amounts
    are a programming error (ValueError).
    """
    check = Validator()
    check.count(("couponCodes",), codes, MAX_CODES)
    check.raise_if_any()
    if not codes:
        return []
    person = await root_person(session, person_id)
    owner = saved_id(person) if person is not None else None
    wanted = [_code_of(given, tokens, now) for given in codes]
    known = {code for code in wanted if code is not None}
    found = (await session.exec(select(Coupon).where(is_in(session, col(Coupon.code), sorted(known))))).all()
    by_code = {coupon.code: coupon for coupon in found if coupon.person_id == owner}
    campaigns = await rows_by_id(session, CouponCampaign, sorted({c.campaign_id for c in by_code.values()}))
    given_at: dict[str, int] = {}
    campaign_given_at: dict[int, int] = {}
    chosen: dict[int, tuple[int, Coupon]] = {}  # campaign id -> (index, coupon)
    for index, code in enumerate(wanted):
        path = ("couponCodes", str(index))
        coupon = by_code.get(code) if code is not None else None
        if code is None or coupon is None:
            check.add(Code.COUPON_NOT_FOUND, "no coupon of hers has this code", path)
            continue
        if code in given_at:
            check.add(Code.COUPON_DUPLICATE, f"the same coupon as couponCodes[{given_at[code]}]", path)
            continue
        given_at[code] = index
        campaign = campaigns[coupon.campaign_id]
        refused = _refusal(coupon, campaign, store_id=store_id, online=online, lines=lines, now=now)
        if refused is not None:
            check.add(*refused, path)
        elif coupon.campaign_id in campaign_given_at:
            first = campaign_given_at[coupon.campaign_id]
            check.add(Code.COUPON_SAME_CAMPAIGN, f"one coupon per campaign: couponCodes[{first}] is of it", path)
        else:
            campaign_given_at[coupon.campaign_id] = index
            chosen[coupon.campaign_id] = (index, coupon)
    check.raise_if_any()
    priced = discounts(lines, [Terms.of(campaigns[campaign_id]) for campaign_id in chosen])
    for nothing in (d for d in priced if d.amount == 0):
        index = chosen[nothing.campaign_id][0]
        check.add(
            Code.COUPON_NOT_APPLICABLE,
            "nothing is left for this coupon to take off once the coupons before it applied",
            ("couponCodes", str(index)),
        )
    check.raise_if_any()
    applied = []
    for discount in priced:
        coupon = chosen[discount.campaign_id][1]
        applied.append(
            AppliedCoupon(saved_id(coupon), discount.campaign_id, coupon.code, discount.amount, discount.line_discounts)
        )
    return applied


async def redeem(
    session: AsyncSession, applied: Sequence[AppliedCoupon], *, order_id: int, store_id: int, now: datetime
) -> None:
    """Mark the coupons redeemed by the order: for each, one conditional UPDATE from ISSUED to REDEEMED.

    A coupon another order redeemed meanwhile raises COUPON_ALREADY_REDEEMED (on ``("couponCodes",)``):
    the caller's transaction rolls back, so a coupon is redeemed once whatever the concurrency. Coupons
    are updated in id order, so two orders sharing coupons cannot deadlock. Each redemption goes to the
    campaign's topic (REDEEMED).
    """
    for coupon in sorted(applied, key=lambda a: a.coupon_id):
        statement = (
            sa.update(_coupon)
            .where(_coupon.c.id == coupon.coupon_id, _coupon.c.status == CouponStatus.ISSUED.value)
            .values(
                status=CouponStatus.REDEEMED.value,
                redeemed_at=now,
                redeemed_order_id=order_id,
                redeemed_store_id=store_id,
            )
        )
        if (await session.exec(statement)).rowcount != 1:
            raise DomainError.single(
                Code.COUPON_ALREADY_REDEEMED, f"coupon {coupon.code} was redeemed already", ("couponCodes",)
            )
        held = session.sync_session.identity_map.get(identity_key(Coupon, coupon.coupon_id))
        if held is not None:  # what the database holds now; nothing to flush
            for name, value in (
                ("status", CouponStatus.REDEEMED.value),
                ("redeemed_at", now),
                ("redeemed_order_id", order_id),
                ("redeemed_store_id", store_id),
            ):
                set_committed_value(held, name, value)
        message = {
            "campaignId": coupon.campaign_id,
            "couponId": coupon.coupon_id,
            "orderId": order_id,
            "storeId": store_id,
            "discount": coupon.discount,
        }
        emit(session, campaign_topic(coupon.campaign_id), "REDEEMED", message, now)


@on_merge("coupons")
async def follow_merges(session: AsyncSession, root_of: dict[int, int]) -> None:
    """OneID merged persons (merged id -> survivor): their coupons go to the survivor, and their claim
    counters are added to hers, campaign by campaign (a sum may pass the limit: that only stops her
    claiming more of that campaign)."""
    merged = sorted(root_of)
    held = select(CouponClaimCount.person_id).where(is_in(session, col(CouponClaimCount.person_id), merged))
    if (await session.exec(held.limit(1))).first() is None:
        return  # no claims, hence no coupons
    for old, new in sorted(root_of.items()):
        await exec_any(session, sa.update(_coupon).where(_coupon.c.person_id == old).values(person_id=new))
        await exec_any(session, _add_counters(session, old, new))
        await exec_any(session, sa.delete(_counts).where(_counts.c.person_id == old))


def _add_counters(session: AsyncSession, old: int, new: int) -> sa.Insert:
    """INSERT her counters under the survivor, ON CONFLICT adding them to the survivor's own."""
    dialect = postgresql if dialect_of(session) == "postgresql" else sqlite
    hers = sa.select(_counts.c.campaign_id, sa.literal(new, sa.Integer), _counts.c.claimed).where(
        _counts.c.person_id == old
    )
    statement = dialect.insert(_counts).from_select(["campaign_id", "person_id", "claimed"], hers)
    upsert: sa.Insert = statement.on_conflict_do_update(
        index_elements=["campaign_id", "person_id"],
        set_={"claimed": _counts.c.claimed + statement.excluded.claimed},
    )
    return upsert
