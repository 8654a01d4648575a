"""Identifier types, their normalisation, and the values that never link."""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cache, lru_cache
from typing import NamedTuple

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from ..common.errors import ErrorCode
from .errors import IdentityErrorCode as Code


class IdentifierType(StrEnum):
    PHONE = "PHONE"
    WECHAT_OPENID = "WECHAT_OPENID"
    WECHAT_UNIONID = "WECHAT_UNIONID"
    APP_USER_ID = "APP_USER_ID"
    POS_MEMBER_ID = "POS_MEMBER_ID"
    LIVESTREAM_VIEWER_ID = "LIVESTREAM_VIEWER_ID"
    EMAIL = "EMAIL"


# Which identifier decides when an event points at several persons that must not merge.
PRIORITY = (
    IdentifierType.WECHAT_UNIONID,
    IdentifierType.APP_USER_ID,
    IdentifierType.POS_MEMBER_ID,
    IdentifierType.PHONE,
    IdentifierType.WECHAT_OPENID,
    IdentifierType.LIVESTREAM_VIEWER_ID,
    IdentifierType.EMAIL,
)
RANK = {t: i for i, t in enumerate(PRIORITY)}
# A person holds at most one value of each of these.
LIMITED = frozenset({IdentifierType.WECHAT_UNIONID, IdentifierType.APP_USER_ID, IdentifierType.POS_MEMBER_ID})
# These are only unique within a namespace: an openid per WeChat appid, a viewer id per platform.
NAMESPACE_OF = {IdentifierType.WECHAT_OPENID: "appId", IdentifierType.LIVESTREAM_VIEWER_ID: "platform"}

DEFAULT_BLOCKED_VALUES = ("", "null", "none", "nil", "undefined", "anonymous", "unknown", "guest", "0", "-")
_TOKEN = re.compile(r"[A-Za-z0-9_.:@-]{1,128}")
_NAMESPACE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_NON_DIGITS = re.compile(r"\D")


class InvalidIdentifier(ValueError):
    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


class IdentifierKey(NamedTuple):
    """(type, namespace, value): a tuple, so hashing and sorting thousands a batch stay cheap."""

    type: IdentifierType
    namespace: str
    value: str

    @property
    def rank(self) -> int:
        return RANK[self.type]

    @property
    def is_limited(self) -> bool:
        return self.type in LIMITED


@lru_cache(maxsize=65536)  # touchpoints send the same identifiers over and over; parsing phones is not free
def normalize(kind: IdentifierType, value: str, namespace: str | None = None, region: str = "CN") -> IdentifierKey:
    """The canonical key, or InvalidIdentifier."""
    value = (value or "").strip()
    namespace = (namespace or "").strip()
    if kind in NAMESPACE_OF:
        if not _NAMESPACE.fullmatch(namespace):
            raise InvalidIdentifier(
                Code.INVALID_IDENTIFIER, f"{kind.value} needs its {NAMESPACE_OF[kind]} as namespace"
            )
    elif namespace:
        raise InvalidIdentifier(Code.INVALID_IDENTIFIER, f"{kind.value} takes no namespace")
    if kind is IdentifierType.PHONE:
        return IdentifierKey(kind, "", _normalize_phone(value, region))
    if kind is IdentifierType.EMAIL:
        return IdentifierKey(kind, "", _normalize_email(value))
    if not _TOKEN.fullmatch(value):
        raise InvalidIdentifier(Code.INVALID_IDENTIFIER, f"{kind.value} must be 1-128 letters, digits or _.:@-")
    return IdentifierKey(kind, namespace, value)


# A bare 11-digit Chinese mobile number, the form most touchpoints send.
_CN_MOBILE = re.compile(r"(?:\+86)?(1\d{10})")


@cache
def _is_cn_mobile_block(block: str) -> bool:
    """Whether the 7-digit block (号段) is allocated to mobile numbers.

    Chinese mobile numbers are allocated in blocks of 10,000, so the block
    decides validity for every number in it; asking libphonenumber once per
    block keeps its metadata as the authority at a fraction of the cost.
    """
    number = phonenumbers.parse(block + "0000", "CN")
    return phonenumbers.is_valid_number(number) and (
        phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE
    )


def _normalize_phone(value: str, region: str) -> str:
    if region == "CN" and (match := _CN_MOBILE.fullmatch(value)) and _is_cn_mobile_block(match[1][:7]):
        return "+86" + match[1]
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise InvalidIdentifier(Code.INVALID_PHONE, "not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidIdentifier(Code.INVALID_PHONE, "not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _normalize_email(value: str) -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise InvalidIdentifier(Code.INVALID_EMAIL, "not an e-mail address") from None


def is_blocked(kind: IdentifierType, raw_value: str, blocked_values: frozenset[str]) -> bool:
    """Placeholder values that many unrelated people share must never link them."""
    value = (raw_value or "").strip().lower()
    if value in blocked_values:
        return True
    if kind is IdentifierType.PHONE:
        digits = _NON_DIGITS.sub("", value)
        national = digits[-11:] if len(digits) >= 11 else digits
        # all zeros, one repeated digit, or a mobile prefix followed by one repeated digit
        return not national or len(set(national)) == 1 or len(set(national[3:])) == 1
    return False


def mask_phone(e164: str) -> str:
    """+8613812345678 -> 138****5678."""
    national = e164[3:] if e164.startswith("+86") else e164.lstrip("+")
    if len(national) < 7:
        return "*" * len(national)
    return f"{national[:3]}****{national[-4:]}"


def mask_name(name: str) -> str:
    return name[:1] + "*" * max(len(name) - 1, 1) if name else name
