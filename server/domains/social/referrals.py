"""Referral codes and arrivals: a new customer who comes through another's share link is hers.

New means: no purchase on her timeline yet (POS_PURCHASE, in store or online) and no referrer yet. She
cannot be her own referrer. The referrer is credited by the ledger when the referred customer buys
(a REFERRER share, and/or a reward coupon, per commission plan).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ...unit_of_work import use_case
from ..common.actor import Actor, ActorKind
from ..common.dialect import insert_ignore
from ..common.errors import DomainError, Forbidden
from ..common.validation import Validator
from ..identity.events import EventType
from ..identity.persons import root_person
from ..identity.view import has_any_event
from .errors import SocialErrorCode as Code
from .models import Referral, ReferralCode

# Unambiguous characters (no 0/O, 1/I/L): read aloud or typed from a poster.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
CODE_PATTERN = f"[{ALPHABET}]{{{CODE_LENGTH}}}"


def _new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


async def code_of(session: AsyncSession, person_id: int, now: datetime) -> str:
    """Her code, made on first use (a race with herself, or a clash of codes, is settled by the unique keys)."""
    while True:
        existing = await session.get(ReferralCode, person_id, populate_existing=True)
        if existing is not None:
            return existing.code
        values = {"person_id": person_id, "code": _new_code(), "created_at": now}
        await session.exec(insert_ignore(session, ReferralCode, values))


@use_case
async def my_code(session: AsyncSession, person_id: int, now: datetime) -> str:
    """Her code, made now if she has none (its own transaction)."""
    return await code_of(session, person_id, now)


def share_url(public_url: str, code: str, path: str = "/share") -> str:
    """``public_url`` + ``path`` carrying her code (``?ref=CODE``): whoever arrives through it is hers."""
    return f"{public_url.rstrip('/')}{path}?ref={code}"


def post_share_url(public_url: str, post_id: int, code: str) -> str:
    """The link to one of her posts, carrying her code like her own share link."""
    return share_url(public_url, code, path=f"/share/ugc/{post_id}")


async def codes_by_person(session: AsyncSession, person_ids: Sequence[int]) -> dict[int, str]:
    """The codes these customers have (those without one yet are left out)."""
    rows = await session.exec(select(ReferralCode).where(col(ReferralCode.person_id).in_(list(person_ids))))
    return {row.person_id: row.code for row in rows}


def _require_customer(actor: Actor) -> None:
    if actor.kind is not ActorKind.CUSTOMER:
        raise Forbidden("customers accept referrals")


async def _owner_of(session: AsyncSession, code: str) -> int | None:
    """The customer a code stands for now (a code of a merged id is her survivor's)."""
    row = (await session.exec(select(ReferralCode).where(col(ReferralCode.code) == code))).first()
    owner = await root_person(session, row.person_id) if row else None
    return owner.id if owner else None


@use_case
async def accept(session: AsyncSession, actor: Actor, code: str, now: datetime) -> Referral:
    """She arrived through ``code``'s share link: record who brought her, if she is new."""
    _require_customer(actor)
    check = Validator()
    given = check.text(
        ("code",),
        code.upper() if code else code,
        max_length=CODE_LENGTH,
        pattern=CODE_PATTERN,
        pattern_hint="8 letters and digits",
    )
    check.raise_if_any()
    referrer_id = await _owner_of(session, given)
    if referrer_id is None:
        raise DomainError.single(Code.REFERRAL_CODE_UNKNOWN, "no customer has this code", ("code",))
    if referrer_id == actor.id:
        raise DomainError.single(Code.REFERRAL_OWN_CODE, "your own code", ("code",))
    if await session.get(Referral, actor.id) is not None:
        raise DomainError.single(Code.ALREADY_REFERRED, "you were referred already", ("code",))
    if await has_any_event(session, actor.id, [EventType.POS_PURCHASE.value]):
        raise DomainError.single(
            Code.NOT_A_NEW_CUSTOMER, "referrals are for customers who have not bought yet", ("code",)
        )
    result = await session.exec(
        insert_ignore(
            session,
            Referral,
            {"referred_id": actor.id, "referrer_id": referrer_id, "code": given, "created_at": now},
        )
    )
    if (result.rowcount or 0) != 1:  # a second tap raced the first
        raise DomainError.single(Code.ALREADY_REFERRED, "you were referred already", ("code",))
    referral = await session.get(Referral, actor.id)
    assert referral is not None
    return referral


async def referrer_of(session: AsyncSession, person_id: int) -> int | None:
    """Who brought her (the ledger's REFERRER), if anyone did."""
    referral = await session.get(Referral, person_id)
    return referral.referrer_id if referral else None


async def referrers_of(session: AsyncSession, person_ids: Sequence[int]) -> dict[int, int | None]:
    """Who brought each of them (None: nobody), in one statement."""
    found: dict[int, int | None] = dict.fromkeys(person_ids)
    statement = select(Referral.referred_id, Referral.referrer_id).where(
        col(Referral.referred_id).in_(list(person_ids))
    )
    for referred, referrer in await session.exec(statement):
        found[referred] = referrer
    return found
