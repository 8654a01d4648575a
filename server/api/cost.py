"""What a document costs to answer, counted before it runs, and the limit on it.

A field that answers an object costs 1 (a scalar 0) unless ``@cost(weight:)`` says more, plus
what is selected under it. A list multiplies what each item costs by its size: the ``first``
argument when the field has one (its default otherwise), else ``@listSize(assumedSize:)``, else
:data:`ASSUMED_LIST_SIZE`. A connection's ``first`` sizes its ``edges`` (20 when not given, at
most 100, as the resolvers page). Introspection and ``__typename`` are free. Fragments are
counted once per place they could size differently, so a document of fragments spreading
fragments is counted in time linear in its length.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from functools import lru_cache
from typing import Any, cast

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    value_from_ast_untyped,
)
from strawberry.schema_directive import Location

from .pagination import DEFAULT_PAGE, MAX_PAGE
from .validation import ParsedText, document_of, parsed_text

ASSUMED_LIST_SIZE = 10


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="cost",
    description="What answering this field costs, against the query cost limit "
    "(an object's field costs 1 and a scalar's 0 otherwise).",
)
class Cost:
    weight: int = strawberry.field(
        description="What the field itself costs, instead of 1 (an object) or 0 (a scalar); its selections add theirs."
    )


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="listSize",
    description="How many items the query cost limit counts for this list.",
)
class ListSize:
    assumed_size: int = strawberry.field(
        description="Items the list is counted as holding (it has no `first` argument)."
    )


class _Weights:
    """A field's declared cost and list size, read from its schema directives once."""

    def __init__(self) -> None:
        # By the field's id (graphql-core's fields are not hashable). The field is held weakly: a schema
        # given up (an app shut down) is freed with its fields, and the entry goes before its id can be
        # reused. Holding the field itself kept every schema ever built alive.
        self._known: dict[int, tuple[weakref.ref[GraphQLField], int | None, int | None]] = {}

    def of(self, field: GraphQLField) -> tuple[int | None, int | None]:
        key = id(field)
        known = self._known.get(key)
        if known is None:
            known = (weakref.ref(field, lambda _gone: self._known.pop(key, None)), *self._read(field))
            self._known[key] = known
        return known[1], known[2]

    def __contains__(self, field_id: object) -> bool:
        return field_id in self._known

    @staticmethod
    def _read(field: GraphQLField) -> tuple[int | None, int | None]:
        definition = (field.extensions or {}).get("strawberry-definition")
        weight = size = None
        for directive in getattr(definition, "directives", None) or ():
            if isinstance(directive, Cost):
                weight = directive.weight
            elif isinstance(directive, ListSize):
                size = directive.assumed_size
        return weight, size


_WEIGHTS = _Weights()


def _is_connection(named: GraphQLNamedType) -> bool:
    return isinstance(named, GraphQLObjectType) and "edges" in named.fields and "pageInfo" in named.fields


class _Counter:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        operation: SelectionSetNode,
        root: GraphQLNamedType,
    ) -> None:
        self.schema, self.fragments, self.variables = schema, fragments, variables
        self.operation, self.root = operation, root
        self._fragment_costs: dict[tuple[str, int | None], int] = {}
        self.read_variables = False  # whether a size came from a variable (then the cost depends on its value)

    def count(self) -> int:
        return self.selections(self.operation, self.root)

    def selections(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType, page: int | None = None
    ) -> int:
        if selection_set is None:
            return 0
        return sum(self._selection(s, parent, page) for s in selection_set.selections)

    def _selection(self, selection, parent: GraphQLNamedType, page: int | None) -> int:
        if isinstance(selection, FieldNode):
            return self._field(selection, parent, page)
        if isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            return self.selections(
                selection.selection_set, self.schema.type_map[condition.name.value] if condition else parent, page
            )
        if isinstance(selection, FragmentSpreadNode):
            return self._spread(selection.name.value, page)
        return 0

    def _spread(self, name: str, page: int | None) -> int:
        key = (name, page)
        if key not in self._fragment_costs:
            fragment = self.fragments[name]
            self._fragment_costs[key] = self.selections(
                fragment.selection_set, self.schema.type_map[fragment.type_condition.name.value], page
            )
        return self._fragment_costs[key]

    def _field(self, node: FieldNode, parent: GraphQLNamedType, page: int | None) -> int:
        name = node.name.value
        if name.startswith("__"):
            return 0
        # The document is valid (validation ran first): a field is selected on an object or interface.
        field = cast("GraphQLObjectType | GraphQLInterfaceType", parent).fields[name]
        named = get_named_type(field.type)
        weight, assumed_size = _WEIGHTS.of(field)
        composite = is_composite_type(named)
        each = (1 if composite else 0) if weight is None else weight
        children = self.selections(node.selection_set, named, self._page(node, field)) if composite else 0
        if not isinstance(get_nullable_type(field.type), GraphQLList):
            return each + children
        size = page if name == "edges" and page is not None else self._list_size(node, field, assumed_size)
        return size * ((1 if composite else 0) + children) + (weight or 0)

    def _page(self, node: FieldNode, field: GraphQLField) -> int | None:
        if not _is_connection(get_named_type(field.type)):
            return None
        first = self._argument(node, field, "first")
        return min(max(first, 0), MAX_PAGE) if isinstance(first, int) else DEFAULT_PAGE

    def _list_size(self, node: FieldNode, field: GraphQLField, assumed_size: int | None) -> int:
        if "first" in field.args:
            first = self._argument(node, field, "first")
            if isinstance(first, int):
                return min(max(first, 0), MAX_PAGE)
        return assumed_size if assumed_size is not None else ASSUMED_LIST_SIZE

    def _argument(self, node: FieldNode, field: GraphQLField, name: str) -> Any:
        for argument in node.arguments or ():
            if argument.name.value == name:
                self.read_variables = self.read_variables or _mentions_variable(argument.value)
                return value_from_ast_untyped(argument.value, self.variables)
        default = field.args[name].default_value if name in field.args else None
        return default if isinstance(default, int) else None


def document_cost(schema: GraphQLSchema, document, operation_name: str | None, variables: dict[str, Any] | None) -> int:
    """The cost of the operation the request runs (of a valid document)."""
    counter = _counter_of(schema, document, operation_name, variables)
    return 0 if counter is None else counter.count()


def _counter_of(
    schema: GraphQLSchema, document, operation_name: str | None, variables: dict[str, Any] | None
) -> _Counter | None:
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operation = _operation(document.definitions, operation_name)
    if operation is None:
        return None
    root = schema.get_root_type(operation.operation)
    if root is None:  # validation refuses an operation type the schema lacks (ours has all three)
        return None
    given = {**_defaults(operation), **(variables or {})}
    return _Counter(schema, fragments, given, operation.selection_set, root)


def _mentions_variable(value: ValueNode) -> bool:
    if isinstance(value, VariableNode):
        return True
    if isinstance(value, ListValueNode):
        return any(_mentions_variable(each) for each in value.values)
    if isinstance(value, ObjectValueNode):
        return any(_mentions_variable(each.value) for each in value.fields)
    return False


def _defaults(operation: OperationDefinitionNode) -> dict[str, Any]:
    """The operation's variables with a default (``query($n: Int = 100)``): a page size left out runs at it."""
    return {
        each.variable.name.value: value_from_ast_untyped(each.default_value)
        for each in operation.variable_definitions or ()
        if each.default_value is not None
    }


class Costs:
    """A schema's operation costs. A document sent without variables (``me``, a screen's fixed query) costs
    the same each time: kept by document and operation, least recently used dropped first. With variables
    (a page size among them) it is counted each time."""

    def __init__(self, schema: GraphQLSchema, capacity: int) -> None:
        self.schema = schema
        self.without_variables = lru_cache(maxsize=capacity)(self._without_variables)

    def of(
        self, text: str | None, document: DocumentNode, operation_name: str | None, variables: dict[str, Any] | None
    ) -> int:
        """The cost of ``document``, parsed from ``text`` (kept by the text: see ``api.validation``). A document
        whose variables size no list (a booking's ``$input``) costs the same whatever their values: kept too."""
        cost, sized_by_variables = self.without_variables(parsed_text(text, document), operation_name)
        if variables and sized_by_variables:
            return document_cost(self.schema, document, operation_name, variables)
        return cost

    def _without_variables(self, key: ParsedText | DocumentNode, operation_name: str | None) -> tuple[int, bool]:
        counter = _counter_of(self.schema, document_of(key), operation_name, None)
        if counter is None:
            return 0, False
        return counter.count(), counter.read_variables


def _operation(definitions: Iterable, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


def too_costly(
    costs: Costs, query: str | None, document: DocumentNode, operation: str | None, variables: Any, limit: int
) -> GraphQLError | None:
    """QUERY_TOO_COSTLY for a valid document costing more than ``limit``, or None."""
    cost = costs.of(query, document, operation, variables)
    if cost <= limit:
        return None
    return GraphQLError(
        f"the query costs {cost}, above the limit of {limit}: ask for fewer items or fields",
        extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "limit": limit},
    )
