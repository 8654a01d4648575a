"""GraphQL errors without "Did you mean …?" hints, where introspection is off.

A hint names fields, arguments and enum values close to what was sent, so a
client guessing names would learn the schema that introspection hides.
graphql-core leaves them out when asked (``hide_suggestions``); strawberry does
not ask, so validation and execution are given the option here.
"""

from __future__ import annotations

from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from .execution import Execution

# The rules strawberry adds to every validation (strawberry.schema.schema.validate_document).
STRAWBERRY_RULES = (MaybeNullValidationRule, OneOfInputValidationRule)


class SuggestionFreeExecution(Execution):
    """Coercing variables and arguments (queries, mutations, subscriptions) without hints."""

    @classmethod
    def build(cls, *args, **kwargs):
        return super().build(*args, **{**kwargs, "hide_suggestions": True})
