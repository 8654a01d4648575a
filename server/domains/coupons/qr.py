"""A coupon's QR code: a JWT signed with the server's secret carrying the coupon's code.

Derived, never stored: the same coupon always gives the same token (no issue time in it), valid until
its campaign's validUntil. The audience ``coupon`` keeps it apart from access tokens and booking QR codes
signed with the same secret (neither carries that audience; an access token needs a session id a coupon
token does not have).
"""

from __future__ import annotations

from datetime import datetime

import jwt

from ..auth.tokens import ALGORITHM, TokenPolicy

AUDIENCE = "coupon"
MAX_TOKEN_LENGTH = 1000


class InvalidCouponToken(Exception):
    pass


def looks_like_token(text: str) -> bool:
    """A JWT has three dot-separated parts; a coupon code has no dot."""
    return text.count(".") == 2


def encode(policy: TokenPolicy, code: str, valid_until: datetime) -> str:
    claims = {"sub": code, "aud": AUDIENCE, "iss": policy.issuer, "exp": int(valid_until.timestamp())}
    return jwt.encode(claims, policy.secret, algorithm=ALGORITHM)


def decode(policy: TokenPolicy, token: str, now: datetime) -> str:
    """The code inside a coupon token this server signed, not expired at ``now``."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise InvalidCouponToken("not a coupon QR code")
    try:
        claims = jwt.decode(
            token,
            policy.secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=policy.issuer,
            options={"require": ["sub", "exp", "aud", "iss"], "verify_exp": False},
        )
    except (jwt.PyJWTError, ValueError):  # ValueError: text that is no JWT at all (a lone surrogate…)
        raise InvalidCouponToken("not a coupon QR code of this brand") from None
    expires = claims["exp"]
    if not isinstance(expires, int) or expires <= now.timestamp():
        raise InvalidCouponToken("this coupon QR code has expired")
    code = claims["sub"]
    if not isinstance(code, str):
        raise InvalidCouponToken("not a coupon QR code")
    return code
