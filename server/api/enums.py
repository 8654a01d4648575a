"""GraphQL enums over domain enums, with a description on every value.

Domain modules define plain Python enums (they may not import strawberry); their
``graphql/`` package exposes them with :func:`described_enum`, which is
``strawberry.enum`` plus a description for each value, given as ``{Member: "text"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import TypeVar

import strawberry

E = TypeVar("E", bound=type[Enum])


def described_enum(cls: E, *, description: str, values: Mapping[Enum, str], name: str | None = None) -> E:
    """``strawberry.enum(cls, name=name, description=description)`` whose values carry ``values``' texts.

    ``values`` maps members of ``cls`` to their descriptions; a key that is not a member of ``cls``
    raises ValueError. A member left out stays undocumented (tests/server/api/test_schema_documented.py
    lists it).
    """
    strangers = [key for key in values if not isinstance(key, cls)]
    if strangers:
        raise ValueError(f"{cls.__name__} has no members {strangers!r}")
    wrapped = strawberry.enum(cls, name=name, description=description)
    by_value = {member.value: text for member, text in values.items()}
    for value in wrapped.__strawberry_definition__.values:  # type: ignore[attr-defined]
        value.description = by_value.get(value.value, value.description)
    return wrapped
