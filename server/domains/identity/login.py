"""Customer sign-in for mini-programs: by WeChat login code, or by phone and SMS code."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import uuid
from datetime import datetime, timedelta

from limits import RateLimitItem
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from ...unit_of_work import use_case
from ..common.dialect import insert_ignore
from ..common.errors import CommonErrorCode as Common
from ..common.errors import DomainError
from ..common.ratelimits import AbuseLimits, RateLimited
from .errors import IdentityErrorCode as Code
from .events import EventRejected, EventType, RawEvent, RawIdentifier
from .identifiers import IdentifierType, InvalidIdentifier, normalize
from .ingestion import record_event
from .models import SmsCode, SmsThrottle
from .policy import IdentityPolicy
from .verifiers import DEV_SMS_CODE, VerificationFailed, Verifiers, VerifierUnavailable

CODE_LIFETIME = timedelta(minutes=5)
RESEND_AFTER = timedelta(seconds=60)
MAX_CODE_ATTEMPTS = 5
LOGIN_SOURCE = "customer-login"


def _phone(value: str, path: tuple[str, ...]) -> str:
    try:
        return normalize(IdentifierType.PHONE, value).value
    except InvalidIdentifier as invalid:
        raise DomainError.single(invalid.code, str(invalid), path) from None


def _code_hash(phone: str, code: str) -> str:
    return hashlib.sha256(f"{phone}|{code}".encode()).hexdigest()


@use_case
async def request_sms_code(
    session: AsyncSession, verifiers: Verifiers, limits: AbuseLimits, address: str, phone: str, now: datetime
) -> datetime:
    """Send a six-digit code; returns when it expires. One code a minute per phone, and the abuse
    limits: requests per client address, codes per phone."""
    number = _phone(phone, ("phone",))
    if verifiers.sms is None:
        raise DomainError.single(Code.VERIFIER_UNAVAILABLE, "SMS sign-in is not configured")
    await _within(limits, limits.sms_requests_per_address, address, "too many code requests from this address")
    await session.exec(insert_ignore(session, SmsThrottle, {"phone": number, "last_sent_at": now - RESEND_AFTER}))
    claimed = await session.exec(
        update(SmsThrottle)
        .where(col(SmsThrottle.phone) == number, col(SmsThrottle.last_sent_at) <= now - RESEND_AFTER)
        .values(last_sent_at=now)
    )
    if claimed.rowcount != 1:  # one statement decides, so concurrent requests send one SMS
        raise DomainError.single(
            Code.TOO_MANY_ATTEMPTS,
            "a code was sent less than a minute ago",
            ("phone",),
            retry_after=await _resend_wait(session, number, now),
        )
    await _within(limits, limits.sms_codes_per_phone, number, "too many codes sent to this phone", ("phone",))
    code = f"{secrets.randbelow(1_000_000):06d}"
    session.add(
        SmsCode(phone=number, code_hash=_code_hash(number, code), created_at=now, expires_at=now + CODE_LIFETIME)
    )
    await session.commit()  # the code is stored before it is sent: she may type it before the send returns
    try:
        await verifiers.sms.send(number, f"【Elegance】验证码 {code}，5 分钟内有效。")
    except VerifierUnavailable as error:
        raise DomainError.single(Code.VERIFIER_UNAVAILABLE, str(error)) from None
    return now + CODE_LIFETIME


async def _within(
    limits: AbuseLimits, rate: RateLimitItem, key: str, message: str, field: tuple[str, ...] | None = None
) -> None:
    try:
        await limits.take(rate, key)
    except RateLimited as limited:
        raise DomainError.single(
            Code.RATE_LIMITED, f"{message}; try again later", field, retry_after=limited.retry_after
        ) from None


async def _resend_wait(session: AsyncSession, phone: str, now: datetime) -> int:
    last_sent = (await session.exec(select(SmsThrottle.last_sent_at).where(SmsThrottle.phone == phone))).first()
    return max(1, math.ceil((last_sent + RESEND_AFTER - now).total_seconds())) if last_sent else 1


async def _count_sms_attempt(
    session: AsyncSession, verifiers: Verifiers, limits: AbuseLimits, phone: str, code: str, now: datetime
) -> SmsCode | None:
    """The code she is trying, with this attempt counted (None: the development code, accepted)."""
    if verifiers.accept_dev_sms_code and code == DEV_SMS_CODE:
        return None
    latest = (
        await session.exec(
            select(SmsCode)
            .where(SmsCode.phone == phone, col(SmsCode.used_at).is_(None))
            .order_by(col(SmsCode.created_at).desc())
            .limit(1)
        )
    ).first()
    if latest is None or latest.expires_at <= now:
        raise DomainError.single(Code.CODE_EXPIRED, "no valid code for this phone; request a new one", ("smsCode",))
    # Codes tried per phone, across resends (a new code does not start the count again).
    try:
        await limits.take(limits.sms_checks_per_phone, phone)
    except RateLimited as limited:
        raise DomainError.single(
            Code.TOO_MANY_ATTEMPTS,
            "too many codes tried for this phone; try again later",
            ("smsCode",),
            retry_after=limited.retry_after,
        ) from None
    # Count the attempt before comparing, in one conditional statement: parallel guesses cannot pass the limit.
    counted = await session.exec(
        update(SmsCode)
        .where(col(SmsCode.id) == latest.id, col(SmsCode.attempts) < MAX_CODE_ATTEMPTS, col(SmsCode.used_at).is_(None))
        .values(attempts=SmsCode.attempts + 1)
    )
    if counted.rowcount != 1:
        raise DomainError.single(Code.TOO_MANY_ATTEMPTS, "too many wrong codes; request a new one", ("smsCode",))
    return latest


async def _accept_sms_code(
    session: AsyncSession, limits: AbuseLimits, latest: SmsCode, phone: str, code: str, now: datetime
) -> None:
    if not hmac.compare_digest(latest.code_hash, _code_hash(phone, code or "")):
        raise DomainError.single(Code.INVALID_CODE, "wrong code", ("smsCode",))
    spent = await session.exec(
        update(SmsCode).where(col(SmsCode.id) == latest.id, col(SmsCode.used_at).is_(None)).values(used_at=now)
    )
    if spent.rowcount != 1:
        raise DomainError.single(Code.INVALID_CODE, "this code was already used", ("smsCode",))
    await limits.forget(limits.sms_checks_per_phone, phone)


async def _wechat_identifiers(verifiers: Verifiers, app_id: str, code: str) -> list[RawIdentifier]:
    if verifiers.wechat is None:
        raise DomainError.single(Code.VERIFIER_UNAVAILABLE, "WeChat sign-in is not configured")
    try:
        identity = await verifiers.wechat.exchange(app_id, code)
    except VerificationFailed as failed:
        raise DomainError.single(Code.INVALID_CODE, str(failed), ("wechatCode",)) from None
    except VerifierUnavailable as error:
        raise DomainError.single(Code.VERIFIER_UNAVAILABLE, str(error)) from None
    identifiers = [RawIdentifier(IdentifierType.WECHAT_OPENID, identity.openid, app_id)]
    if identity.unionid:
        identifiers.append(RawIdentifier(IdentifierType.WECHAT_UNIONID, identity.unionid))
    return identifiers


@use_case
async def customer_login(
    session: AsyncSession,
    policy: IdentityPolicy,
    verifiers: Verifiers,
    limits: AbuseLimits,
    now: datetime,
    *,
    phone: str | None = None,
    sms_code: str | None = None,
    wechat_app_id: str | None = None,
    wechat_code: str | None = None,
) -> int:
    """Verify the customer and resolve her through OneID; returns her person id."""
    if (phone is None) == (wechat_code is None):
        raise DomainError.single(
            Common.INVALID_VALUE, "sign in with phone and smsCode, or with wechatAppId and wechatCode"
        )
    if phone is not None:
        number = _phone(phone, ("phone",))
        attempt = await _count_sms_attempt(session, verifiers, limits, number, sms_code or "", now)
        await session.commit()  # the attempt counts even when the code turns out wrong
        if attempt is not None:
            await _accept_sms_code(session, limits, attempt, number, sms_code or "", now)
        identifiers = [RawIdentifier(IdentifierType.PHONE, number)]
    else:
        identifiers = await _wechat_identifiers(verifiers, wechat_app_id or "", wechat_code or "")
    event = RawEvent(event_id=uuid.uuid4().hex, type=EventType.CUSTOMER_LOGIN, occurred_at=now, identifiers=identifiers)
    try:
        return await record_event(session, policy, LOGIN_SOURCE, event, now)
    except EventRejected as rejected:
        raise DomainError.single(rejected.code, f"cannot sign in with this identifier: {rejected}") from None
