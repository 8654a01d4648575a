"""Input checks that collect every problem before anything is written."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, overload

from .errors import CommonErrorCode, DomainError, ErrorCode, Problem

Path = tuple[str, ...]

# One rule for every free text a person or a system gives us (names, titles, notes…): no control
# characters (C0, DEL, C1: NUL, ESC of terminal escapes…), no bidi embeddings, overrides or isolates
# (U+202A-U+202E, U+2066-U+2069: they make text read differently than it is stored), no lone
# surrogates. Multi-line fields (notes, descriptions, talking points) may hold tabs and line breaks.
_NOT_TEXT = "\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_SINGLE_LINE_REFUSED = re.compile(f"[\x00-\x1f{_NOT_TEXT}]")
_MULTI_LINE_REFUSED = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f{_NOT_TEXT}]")


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why ``value`` may not be stored as free text, or None when it may."""
    found = (_MULTI_LINE_REFUSED if multiline else _SINGLE_LINE_REFUSED).search(value)
    if found is None:
        return None
    character = found.group()
    kind = (
        "a bidi control"
        if "\u202a" <= character <= "\u2069"
        else ("a lone surrogate" if "\ud800" <= character <= "\udfff" else "a control character")
    )
    allowed = " (tabs and line breaks are allowed)" if multiline else ""
    return f"holds {kind}, U+{ord(character):04X}, at position {found.start()}{allowed}"


class Validator:
    """Collects problems for one input; :meth:`raise_if_any` ends the check."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, code: ErrorCode, message: str, path: Path | None) -> None:
        self.problems.append(Problem(code, message, path))

    def ok(self, path: Path) -> bool:
        """True while no problem has been recorded at ``path``."""
        return all(p.field != path for p in self.problems)

    @overload
    def text(
        self,
        path: Path,
        value: str,
        *,
        max_length: int,
        min_length: int = ...,
        required: bool = ...,
        pattern: str | None = ...,
        pattern_hint: str = ...,
        multiline: bool = ...,
    ) -> str: ...

    @overload
    def text(
        self,
        path: Path,
        value: str | None,
        *,
        max_length: int,
        min_length: int = ...,
        required: bool = ...,
        pattern: str | None = ...,
        pattern_hint: str = ...,
        multiline: bool = ...,
    ) -> str | None: ...

    def text(
        self,
        path: Path,
        value: str | None,
        *,
        max_length: int,
        min_length: int = 1,
        required: bool = True,
        pattern: str | None = None,
        pattern_hint: str = "",
        multiline: bool = False,
    ) -> str | None:
        if value is None:
            if required:
                self.add(CommonErrorCode.REQUIRED, f"{path[-1]} is required", path)
            return None
        value = value.strip()
        if len(value) < min_length:
            code = CommonErrorCode.REQUIRED if not value else CommonErrorCode.TOO_SHORT
            self.add(code, f"{path[-1]} needs at least {min_length} characters", path)
        elif len(value) > max_length:
            self.add(CommonErrorCode.TOO_LONG, f"{path[-1]} takes at most {max_length} characters", path)
        elif pattern and not re.fullmatch(pattern, value):
            self.add(CommonErrorCode.INVALID_FORMAT, f"{path[-1]} must be {pattern_hint}", path)
        elif (problem := text_problem(value, multiline=multiline)) is not None:
            self.add(CommonErrorCode.INVALID_FORMAT, f"{path[-1]} {problem}", path)
        return value

    def number_range(self, path: Path, value: float | int | None, low, high) -> None:
        if value is not None and not (low <= value <= high):
            self.add(CommonErrorCode.OUT_OF_RANGE, f"{path[-1]} must be between {low} and {high}", path)

    def count(self, path: Path, values: Sequence[Any] | None, maximum: int) -> None:
        if values is not None and len(values) > maximum:
            self.add(CommonErrorCode.TOO_MANY, f"{path[-1]} takes at most {maximum} entries", path)

    def raise_if_any(self) -> None:
        if self.problems:
            raise DomainError(list(self.problems))


def not_found(what: str, path: Path | None) -> DomainError:
    return DomainError.single(CommonErrorCode.NOT_FOUND, f"{what} not found", path)


MAX_ROW_ID = 2**31 - 1  # primary keys are INTEGER: a larger id overflows the PostgreSQL driver


def is_row_id(value: int) -> bool:
    """Could be a row's primary key (1..2^31-1)."""
    return 1 <= value <= MAX_ROW_ID
