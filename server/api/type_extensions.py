"""Fields a higher domain adds to a lower domain's GraphQL type.

The graph has edges both ways (a booking's customer, a customer's bookings), but
domains depend one way: the lower domain's type cannot import the higher one.
The higher domain's ``graphql/`` package declares such a field with
:func:`extends` (its resolver takes the parent object as ``root``) and the
schema module applies every domain's extensions before the schema is built.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import strawberry
from strawberry.types.base import get_object_definition


@dataclass(frozen=True)
class TypeExtension:
    target: type
    name: str
    resolver: Callable[..., Any]
    options: dict[str, Any] = field(default_factory=dict)


def extends(target: type, name: str, **options: Any) -> Callable[[Callable[..., Any]], TypeExtension]:
    """Declare ``target.<name>`` resolved by the decorated function; ``options`` are strawberry.field's."""

    def declare(resolver: Callable[..., Any]) -> TypeExtension:
        return TypeExtension(target, name, resolver, options)

    return declare


def apply_extensions(extensions: Iterable[TypeExtension]) -> None:
    """Add each field to its type's definition (once: applying the same extension again is a no-op)."""
    for extension in extensions:
        definition = get_object_definition(extension.target, strict=True)
        existing = next((f for f in definition.fields if f.python_name == extension.name), None)
        if existing is not None:
            if getattr(existing, "type_extension", None) is extension:
                continue
            raise ValueError(f"{extension.target.__name__} already has a field {extension.name!r}")
        added = strawberry.field(resolver=extension.resolver, **extension.options)
        added.python_name = extension.name
        added.origin = extension.target
        added.type_extension = extension
        definition.fields.append(added)
