"""Validating a document once per schema: the same query text is checked against the schema once.

strawberry's ValidationCache keeps its LRU at module level, keyed on the schema: every schema built in
a process (one per app; the test suite builds thousands) stays alive in it, several MB each. Here the
answers live on the schema (``IRSSchema.validations``) and go with it.

Where introspection is off, the errors carry no "Did you mean …?" hints (see ``suggestions``).

The answers are kept by the text the document was parsed from (:class:`ParsedText`), not by the document:
graphql-core's AST nodes are frozen dataclasses, and hashing one hashes every node below it, a Python call
each, at every request.
"""

from __future__ import annotations

from functools import lru_cache

from graphql import DocumentNode, GraphQLError, GraphQLSchema, validate

from .suggestions import STRAWBERRY_RULES

DOCUMENTS_KEPT = 1024  # distinct documents per schema whose answer is kept (least recently used dropped)


class ParsedText:
    """A document as a cache key: the text it was parsed from stands for it (the parse is cached by that text
    too), so the key hashes a string, once, and compares strings."""

    __slots__ = ("document", "text")

    def __init__(self, text: str, document: DocumentNode) -> None:
        self.text, self.document = text, document

    def __hash__(self) -> int:
        return hash(self.text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParsedText) and other.text == self.text


def parsed_text(text: str | None, document: DocumentNode) -> ParsedText | DocumentNode:
    """The key of ``document``: by its text where there is one (every operation over HTTP or a socket)."""
    return document if text is None else ParsedText(text, document)


def document_of(key: ParsedText | DocumentNode) -> DocumentNode:
    return key.document if isinstance(key, ParsedText) else key


class Validations:
    """A schema's validation answers, by document (:func:`parsed_text`) and rules (least recently used
    dropped first)."""

    def __init__(self, schema: GraphQLSchema, hide_suggestions: bool, capacity: int = DOCUMENTS_KEPT) -> None:
        self.schema, self.hide_suggestions = schema, hide_suggestions
        # functools' LRU, one per schema: a third of the cost of a pure-Python one on a hit.
        self.validate = lru_cache(maxsize=capacity)(self._validate)

    def _validate(self, key: ParsedText | DocumentNode, rules: tuple) -> list[GraphQLError]:
        return validate(
            self.schema, document_of(key), (*rules, *STRAWBERRY_RULES), hide_suggestions=self.hide_suggestions
        )

    @property
    def hits(self) -> int:
        return self.validate.cache_info().hits
