"""Input checks that collect every problem before anything is written."""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import Enum
from typing import Any

from .errors import DomainError, Problem

Path = tuple[str, ...]


class Validator:
    """Collects problems for one input; :meth:`raise_if_any` ends the check."""

    def __init__(self, codes: type[Enum]) -> None:
        self.codes = codes
        self.problems: list[Problem] = []

    def add(self, code: str, message: str, path: Path | None) -> None:
        self.problems.append(Problem(self.codes[code], message, path))

    def ok(self, path: Path) -> bool:
        """True while no problem has been recorded at ``path``."""
        return all(p.field != path for p in self.problems)

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
    ) -> str | None:
        if value is None:
            if required:
                self.add("REQUIRED", f"{path[-1]} is required", path)
            return None
        value = value.strip()
        if len(value) < min_length:
            code = "REQUIRED" if not value else "TOO_SHORT"
            self.add(code, f"{path[-1]} needs at least {min_length} characters", path)
        elif len(value) > max_length:
            self.add("TOO_LONG", f"{path[-1]} takes at most {max_length} characters", path)
        elif pattern and not re.fullmatch(pattern, value):
            self.add("INVALID_FORMAT", f"{path[-1]} must be {pattern_hint}", path)
        return value

    def number_range(self, path: Path, value: float | int | None, low, high) -> None:
        if value is not None and not (low <= value <= high):
            self.add("OUT_OF_RANGE", f"{path[-1]} must be between {low} and {high}", path)

    def count(self, path: Path, values: Sequence[Any] | None, maximum: int) -> None:
        if values is not None and len(values) > maximum:
            self.add("TOO_MANY", f"{path[-1]} takes at most {maximum} entries", path)

    def raise_if_any(self) -> None:
        if self.problems:
            raise DomainError(list(self.problems))


def not_found(codes: type[Enum], what: str, path: Path | None) -> DomainError:
    return DomainError.single(codes["NOT_FOUND"], f"{what} not found", path)
