"""Validating a document once per schema: the same query text is checked against the schema once.

strawberry's ValidationCache keeps its LRU at module level, keyed on the schema: every schema built in
a process (one per app; the test suite builds thousands) stays alive in it, several MB each. Here the
answers live on the schema (``IRSSchema.validations``) and go with it.

Where introspection is off, the errors carry no "Did you mean …?" hints (see ``suggestions``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, cast

from cachetools import LRUCache
from graphql import GraphQLError, GraphQLSchema, validate
from strawberry.extensions import SchemaExtension

from .suggestions import STRAWBERRY_RULES

DOCUMENTS_KEPT = 1024  # distinct documents per schema whose answer is kept (least recently used dropped)


class Validations:
    """A schema's validation answers, by document and rules."""

    def __init__(self, hide_suggestions: bool, capacity: int = DOCUMENTS_KEPT) -> None:
        self.hide_suggestions = hide_suggestions
        self._answers: LRUCache[tuple, list[GraphQLError]] = LRUCache(capacity)
        self.hits = 0

    def validate(self, schema, document, rules: tuple) -> list[GraphQLError]:
        key = (document, rules)
        answer = self._answers.get(key)
        if answer is not None:
            self.hits += 1
            return answer
        answer = validate(schema, document, (*rules, *STRAWBERRY_RULES), hide_suggestions=self.hide_suggestions)
        self._answers[key] = answer
        return answer


class _ValidatingSchema(Protocol):  # server.api.schema.IRSSchema (which imports this module)
    validations: Validations
    _schema: GraphQLSchema


class CachedValidation(SchemaExtension):
    """Validation through the schema's own ``validations``."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        schema = cast(_ValidatingSchema, context.schema)
        context.pre_execution_errors = schema.validations.validate(
            schema._schema, context.graphql_document, tuple(context.validation_rules)
        )
        yield
