"""Access tokens (JWT, short-lived) and refresh-token secrets."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import jwt

from ..common.actor import Actor, ActorKind, Role
from ..common.errors import Unauthenticated
from ..common.validation import is_row_id

ALGORITHM = "HS256"


@dataclass(frozen=True)
class TokenPolicy:
    secret: str
    issuer: str = "irs"
    access_ttl: timedelta = timedelta(minutes=15)
    refresh_ttl: timedelta = timedelta(days=30)

    @classmethod
    def from_settings(cls, settings) -> TokenPolicy:
        return cls(
            secret=settings.signing_secret(),
            issuer=settings.jwt_issuer,
            access_ttl=timedelta(minutes=settings.access_token_minutes),
            refresh_ttl=timedelta(days=settings.refresh_token_days),
        )


def encode_access_token(policy: TokenPolicy, actor: Actor, session_id: str, now: datetime) -> tuple[str, datetime]:
    """``session_id`` is the refresh-token family the token belongs to: ending that session ends it."""
    expires_at = now + policy.access_ttl
    claims = {
        "sub": actor.key,
        "sid": session_id,
        "iss": policy.issuer,
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        "typ": "access",
        "role": actor.role.value if actor.role else None,
        "store": actor.store_id,
    }
    return jwt.encode(claims, policy.secret, algorithm=ALGORITHM), expires_at


@dataclass(frozen=True)
class AccessClaims:
    actor: Actor
    session_id: str
    expires_at: datetime


def decode_access_token(policy: TokenPolicy, token: str, now: datetime | None = None) -> AccessClaims:
    claims = _verified(policy.secret, policy.issuer, token)
    moment = now.timestamp() if now is not None else time.time()
    if claims.expires_at.timestamp() <= moment:
        raise Unauthenticated("access token expired")
    return claims


@lru_cache(maxsize=8192)
def _verified(secret: str, issuer: str, token: str) -> AccessClaims:
    """Signature and shape, checked once per token (a client sends the same one for minutes);
    expiry is checked on every use by the caller."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=issuer,
            options={"require": ["sub", "sid", "exp", "iat", "iss"], "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError:
        raise Unauthenticated("invalid access token") from None  # the decoder's words stay here
    if claims.get("typ") != "access":
        raise Unauthenticated("not an access token")
    if not isinstance(claims["sid"], str):
        raise Unauthenticated("malformed access token session")
    kind, _, raw_id = str(claims["sub"]).partition(":")
    try:
        actor = Actor(
            kind=ActorKind(kind),
            id=_row_id(raw_id),
            role=Role(claims["role"]) if claims.get("role") else None,
            store_id=None if claims.get("store") is None else _row_id(claims["store"]),
        )
        return AccessClaims(actor, claims["sid"], datetime.fromtimestamp(claims["exp"], UTC))
    except (ValueError, TypeError, OverflowError, OSError):  # OverflowError, OSError: an exp past year 9999
        raise Unauthenticated("invalid access token") from None


def _row_id(value: object) -> int:
    number = int(value)  # type: ignore[call-overload]
    if isinstance(value, (bool, float)) or not is_row_id(number):
        raise ValueError(f"not a row id: {value!r}")
    return number


def new_refresh_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh_secret(secret: str) -> str:
    # A 256-bit random secret needs no slow hash: SHA-256 cannot be brute-forced.
    return hashlib.sha256(secret.encode()).hexdigest()
