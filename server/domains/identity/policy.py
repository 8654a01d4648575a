"""What an operator sets for OneID (salt, placeholder values, purchase cap)."""

from __future__ import annotations

from dataclasses import dataclass

from .identifiers import DEFAULT_BLOCKED_VALUES
from .traits import DEFAULT_MAX_EVENT_AMOUNT


@dataclass(frozen=True)
class IdentityPolicy:
    """Settings the identity services read."""

    tombstone_salt: bytes
    blocked_values: frozenset[str] = frozenset(DEFAULT_BLOCKED_VALUES)
    max_event_amount: int = DEFAULT_MAX_EVENT_AMOUNT
