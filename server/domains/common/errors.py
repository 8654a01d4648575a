"""Domain errors: expected business failures with a stable code and a field path.

Each domain declares its code enum with :func:`error_codes`, which adds the
codes every domain shares. Services raise :class:`DomainError` (one or many
problems); the API turns them into ``UserError`` entries of the payload.
Authorization failures are not user errors: services raise
:class:`Forbidden`, the API answers with a top-level FORBIDDEN error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

COMMON_CODES = (
    "NOT_FOUND",
    "REQUIRED",
    "TOO_SHORT",
    "TOO_LONG",
    "INVALID_FORMAT",
    "OUT_OF_RANGE",
    "INVALID_VALUE",
    "TOO_MANY",
    "IDEMPOTENCY_KEY_REUSED",
)


def error_codes(name: str, *specific: str) -> type[Enum]:
    """An error-code enum holding the shared codes plus the domain's own."""
    members = dict.fromkeys((*COMMON_CODES, *specific))
    return Enum(name, {code: code for code in members}, module=__name__)


@dataclass(frozen=True)
class Problem:
    code: Enum
    message: str
    field: tuple[str, ...] | None = None
    retry_after: int | None = None  # seconds, when a limit refused


@dataclass
class DomainError(Exception):
    problems: list[Problem] = field(default_factory=list)

    @classmethod
    def single(cls, code: Enum, message: str, field: tuple[str, ...] | None = None, *, retry_after: int | None = None):
        return cls([Problem(code, message, field, retry_after)])

    def __str__(self) -> str:
        return "; ".join(f"{p.code.name}: {p.message}" for p in self.problems)


class Forbidden(Exception):
    """The actor may not do this (wrong role, another store, not the owner)."""


class Unauthenticated(Exception):
    """No valid credentials were presented."""
