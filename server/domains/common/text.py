"""Text helpers shared by searches."""

from __future__ import annotations


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its wildcards (``%``, ``_``) taken literally (escape ``\\``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
