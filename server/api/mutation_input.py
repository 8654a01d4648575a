"""Every mutation takes one ``input:`` argument.

Some mutations first took plain arguments (``taskStart(id:)``); deployed clients still send them,
so they keep working, deprecated, beside ``input`` (nullable until they are removed). A call gives
one form or the other: :func:`one_input` turns the plain arguments into the input object, and
refuses both or neither as a user error.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, TypeVar

import strawberry
from strawberry.types.base import StrawberryOptional, has_object_definition
from strawberry.types.nodes import SelectedField
from strawberry.utils.str_converters import to_camel_case

from ..domains.common.errors import CommonErrorCode, DomainError, Problem

T = TypeVar("T")

INPUT_ARGUMENT = "input"
DEPRECATION = "Pass `input` instead; the plain arguments will be removed."

Input = Annotated[
    T | None,
    strawberry.argument(
        description="What the mutation acts on. Required: it is nullable only while the deprecated plain "
        "arguments remain (give one form; both or neither is a user error on `input`)."
    ),
]
"""The ``input`` argument of a mutation that also takes deprecated plain arguments."""


def deprecated_argument(description: str) -> Any:
    """A plain argument kept for clients written before its mutation took ``input``."""
    return strawberry.argument(description=description, deprecation_reason=DEPRECATION)


def input_given(info: strawberry.Info) -> bool:
    """Whether this call passed the ``input`` argument (a value, not null)."""
    field = info.selected_fields[0]  # the mutation field itself, never a fragment
    assert isinstance(field, SelectedField)
    return field.arguments.get(INPUT_ARGUMENT) is not None


def one_input(input: T | None, input_type: type[T], **plain: Any) -> T:
    """The call's input: ``input`` itself, or the input built from the deprecated plain arguments.

    Both forms, or neither: INVALID_VALUE / REQUIRED on ``input``. A required field missing from the
    plain arguments: REQUIRED on that argument (GraphQL checked it when it was non-null).
    """
    given = {name: value for name, value in plain.items() if value is not None}
    if input is not None:
        if given:
            raise DomainError.single(
                CommonErrorCode.INVALID_VALUE, "give input or the deprecated arguments, not both", ()
            )
        return input
    if not given:
        raise DomainError.single(CommonErrorCode.REQUIRED, "input is required", (INPUT_ARGUMENT,))
    missing = [name for name in _required_fields(input_type) if name not in given]
    if missing:
        raise DomainError(
            [Problem(CommonErrorCode.REQUIRED, f"{to_camel_case(n)} is required", (to_camel_case(n),)) for n in missing]
        )
    return input_type(**given)


def _required_fields(input_type: type) -> list[str]:
    assert has_object_definition(input_type), f"{input_type!r} is not a strawberry input"
    return [
        field.python_name
        for field in input_type.__strawberry_definition__.fields
        if not isinstance(field.type, StrawberryOptional)
        and field.default is dataclasses.MISSING
        and field.default_factory is dataclasses.MISSING
    ]
