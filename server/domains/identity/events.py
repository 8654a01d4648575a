"""Touchpoint events: their types and the checks each must pass before it is stored."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from ..common.errors import CommonErrorCode as Common
from ..common.errors import ErrorCode
from .errors import IdentityErrorCode as Code
from .identifiers import IdentifierKey, IdentifierType, InvalidIdentifier, is_blocked, normalize

MAX_EVENTS_PER_CALL = 500
MAX_IDENTIFIERS = 20
MAX_PROPERTIES_BYTES = 8 * 1024
MAX_FUTURE = timedelta(hours=24)


class EventType(StrEnum):
    LIVESTREAM_JOIN = "LIVESTREAM_JOIN"
    LIVESTREAM_PRODUCT_CLICK = "LIVESTREAM_PRODUCT_CLICK"
    LIVESTREAM_BOOK_CLICK = "LIVESTREAM_BOOK_CLICK"
    PRODUCT_VIEW = "PRODUCT_VIEW"
    CART_ADD = "CART_ADD"
    COMMUNITY_JOIN = "COMMUNITY_JOIN"
    POS_PURCHASE = "POS_PURCHASE"
    STORE_VISIT = "STORE_VISIT"
    COUPON_CLAIM = "COUPON_CLAIM"
    UGC_POST = "UGC_POST"
    PROFILE_UPDATE = "PROFILE_UPDATE"
    CONSENT_UPDATE = "CONSENT_UPDATE"
    CUSTOMER_LOGIN = "CUSTOMER_LOGIN"


@dataclass(frozen=True)
class RawIdentifier:
    type: IdentifierType
    value: str
    namespace: str | None = None


@dataclass(frozen=True)
class RawEvent:
    """An event as a touchpoint (or another domain) sends it."""

    event_id: str
    type: EventType
    occurred_at: datetime
    identifiers: list[RawIdentifier]
    livestream_id: int | None = None
    store_id: int | None = None
    product_id: int | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    unreadable: str | None = None  # what the API could not read in it (a malformed id): rejected as such


@dataclass
class CheckedEvent:
    """An event that passed its checks, with its linkable identifier keys."""

    raw: RawEvent
    source: str
    keys: list[IdentifierKey]


class EventRejected(Exception):
    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_event(raw: RawEvent, now: datetime, blocked_values: frozenset[str]) -> list[IdentifierKey]:
    """The event's linkable keys, or EventRejected. References are checked in bulk elsewhere."""
    if raw.unreadable:
        raise EventRejected(Common.INVALID_VALUE, raw.unreadable)
    if not raw.event_id or len(raw.event_id) > 64:
        raise EventRejected(Common.INVALID_VALUE, "eventId must have 1-64 characters")
    if raw.occurred_at.tzinfo is None:
        raise EventRejected(Common.INVALID_VALUE, "occurredAt needs a time zone")
    if raw.occurred_at > now + MAX_FUTURE:
        raise EventRejected(Code.FUTURE_EVENT, "occurredAt is more than 24 hours in the future")
    if not raw.identifiers:
        raise EventRejected(Code.NO_IDENTIFIERS, "an event needs at least one identifier")
    if len(raw.identifiers) > MAX_IDENTIFIERS:
        raise EventRejected(Code.TOO_MANY_IDENTIFIERS, f"an event takes at most {MAX_IDENTIFIERS} identifiers")
    if not _finite(raw.properties):  # from a literal in the document: a variable's are refused as it is read
        raise EventRejected(Common.INVALID_VALUE, "properties hold NaN or an infinity, which JSON does not have")
    if _json_size(raw.properties) > MAX_PROPERTIES_BYTES:
        raise EventRejected(Code.PROPERTIES_TOO_LARGE, "properties take at most 8 KB of JSON")
    keys: set[IdentifierKey] = set()
    for identifier in raw.identifiers:
        if is_blocked(identifier.type, identifier.value, blocked_values):
            continue
        try:
            keys.add(normalize(identifier.type, identifier.value, identifier.namespace))
        except InvalidIdentifier as invalid:
            raise EventRejected(invalid.code, f"{identifier.type.value}: {invalid}") from None
    _check_limited(keys)
    if not keys:
        raise EventRejected(Code.NO_LINKABLE_IDENTIFIER, "every identifier is a placeholder that never links")
    return sorted(keys)


def _check_limited(keys: set[IdentifierKey]) -> None:
    seen: dict[IdentifierType, str] = {}
    for key in keys:
        if key.is_limited and seen.setdefault(key.type, key.value) != key.value:
            raise EventRejected(Code.CONFLICTING_IDENTIFIERS, f"two different {key.type.value} values in one event")


def _finite(value: Any) -> bool:
    """Whether every number in ``value`` is one JSON has (PostgreSQL refuses NaN and the infinities)."""
    try:
        json.dumps(value, allow_nan=False)
    except ValueError:
        return False
    except TypeError:
        return True  # not JSON at all: the size check refuses it
    return True


def _json_size(value: Any) -> int:
    if not value:
        return 2
    try:
        return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
    except (TypeError, ValueError):
        return MAX_PROPERTIES_BYTES + 1
