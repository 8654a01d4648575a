"""What an operation passes before it runs, in one schema extension: its length in tokens, its parse (once per
text), its validation (once per text: GraphQL's rules and ours) and its cost (QUERY_TOO_COSTLY).

One extension, not five (strawberry's MaxTokensLimiter, ParserCache and AddValidationRules, and a validation
cache and a cost limit of ours): strawberry wraps every extension's hooks anew at each operation, and with
five of them that was about a tenth of a ``{ __typename }``.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Protocol, cast

from graphql import DocumentNode, GraphQLError, OperationDefinitionNode, parse
from graphql.validation import ASTValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from .cost import Costs, too_costly
from .validation import DOCUMENTS_KEPT, Validations, parsed_text


class _CheckingSchema(Protocol):  # server.api.schema.IRSSchema (which imports this module)
    validations: Validations
    costs: Costs


@lru_cache(maxsize=DOCUMENTS_KEPT)
def parsed(text: str, max_tokens: int) -> DocumentNode:
    """The document of a text, the last 1,024 distinct texts kept for the process (a text refused is not)."""
    return parse(text, max_tokens=max_tokens)


class Admission(SchemaExtension):
    """Parses, validates and prices the operation; strawberry answers its errors and runs nothing."""

    def __init__(self, *, max_tokens: int, rules: tuple[type[ASTValidationRule], ...], max_cost: int) -> None:
        self.max_tokens, self.rules, self.max_cost = max_tokens, rules, max_cost

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self.max_tokens  # were strawberry ever to parse it itself
        if context.query is not None:
            context.graphql_document = parsed(context.query, self.max_tokens)
        yield

    def on_validate(self) -> Iterator[None]:
        context, document = self.execution_context, self.execution_context.graphql_document
        context.validation_rules = (*context.validation_rules, *self.rules)
        if document is not None:  # strawberry validates only a document it parsed
            schema = cast(_CheckingSchema, context.schema)
            errors = schema.validations.validate(parsed_text(context.query, document), tuple(context.validation_rules))
            if not errors and _name_given(context) is None and _operations_in(document) > 1:
                errors = [GraphQLError("Must provide operationName: the document has several operations.")]
            if not errors:
                costly = too_costly(
                    schema.costs, context.query, document, context.operation_name, context.variables, self.max_cost
                )
                errors = [costly] if costly else []
            context.pre_execution_errors = errors
        yield


def _name_given(context: ExecutionContext) -> str | None:
    """The operationName the request gave. GraphQL runs the operation it names, or the document's only one;
    strawberry's ``operation_name`` would name the first of several (its own field keeps what was given: were it
    renamed, the tests of a document of several operations without a name fail)."""
    return getattr(context, "_provided_operation_name", context.operation_name)


def _operations_in(document: DocumentNode) -> int:
    return sum(isinstance(definition, OperationDefinitionNode) for definition in document.definitions)
