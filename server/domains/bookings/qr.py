"""The booking's QR code: a signed token the guide scans at check-in; single use by the booking's state."""

from __future__ import annotations

from datetime import datetime, timedelta

import jwt

from ..auth.tokens import ALGORITHM, TokenPolicy

QR_TYPE = "booking-qr"
VALID_AFTER_SLOT = timedelta(hours=12)


class InvalidQrToken(Exception):
    pass


def encode(policy: TokenPolicy, booking_id: int, nonce: str, slot_end: datetime) -> str:
    claims = {
        "sub": str(booking_id),
        "nonce": nonce,
        "typ": QR_TYPE,
        "iss": policy.issuer,
        "exp": int((slot_end + VALID_AFTER_SLOT).timestamp()),
    }
    return jwt.encode(claims, policy.secret, algorithm=ALGORITHM)


def decode(policy: TokenPolicy, token: str, now: datetime) -> tuple[int, str]:
    """(booking id, nonce) of a token this server signed and that has not expired."""
    try:
        claims = jwt.decode(
            token,
            policy.secret,
            algorithms=[ALGORITHM],
            issuer=policy.issuer,
            options={"require": ["sub", "exp", "nonce", "typ"], "verify_exp": False},
        )
    except jwt.PyJWTError:
        raise InvalidQrToken("not a booking QR code of this brand") from None
    if claims["typ"] != QR_TYPE or claims["exp"] <= now.timestamp():
        raise InvalidQrToken("this QR code has expired" if claims["typ"] == QR_TYPE else "not a booking QR code")
    try:
        return int(claims["sub"]), str(claims["nonce"])
    except ValueError:
        raise InvalidQrToken("not a booking QR code") from None
