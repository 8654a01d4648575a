"""Domain errors: expected business failures with a stable code and a field path.

Codes are ``StrEnum`` members, so a misspelt code fails at import (and in
mypy), not when the error happens: :class:`CommonErrorCode` holds the codes
every domain shares, each domain's ``errors.py`` its own. Services raise
:class:`DomainError` (one or many problems); the API turns them into
``UserError`` entries of the payload, whose code enum shows the shared codes
and the domain's.
Authorization failures are not user errors: services raise
:class:`Forbidden`, the API answers with a top-level FORBIDDEN error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ErrorCode(StrEnum):
    """Base of every error-code enum: a problem's code is a member of one of its subclasses, never a
    string nor another enum's member."""


class CommonErrorCode(ErrorCode):
    """Codes every domain shares (input checks, lookups, idempotency)."""

    NOT_FOUND = "NOT_FOUND"
    REQUIRED = "REQUIRED"
    TOO_SHORT = "TOO_SHORT"
    TOO_LONG = "TOO_LONG"
    INVALID_FORMAT = "INVALID_FORMAT"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    INVALID_VALUE = "INVALID_VALUE"
    TOO_MANY = "TOO_MANY"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"


@dataclass(frozen=True)
class Problem:
    code: ErrorCode  # a CommonErrorCode or the domain's own code
    message: str
    field: tuple[str, ...] | None = None
    retry_after: int | None = None  # seconds, when a limit refused

    def __post_init__(self) -> None:
        if not isinstance(self.code, ErrorCode):
            raise TypeError(f"error codes are ErrorCode enum members, not {self.code!r}")


@dataclass
class DomainError(Exception):
    problems: list[Problem] = field(default_factory=list)

    @classmethod
    def single(
        cls, code: ErrorCode, message: str, field: tuple[str, ...] | None = None, *, retry_after: int | None = None
    ):
        return cls([Problem(code, message, field, retry_after)])

    def __str__(self) -> str:
        return "; ".join(f"{p.code.name}: {p.message}" for p in self.problems)


class Forbidden(Exception):
    """The actor may not do this (wrong role, another store, not the owner)."""


class Unauthenticated(Exception):
    """No valid credentials were presented."""
