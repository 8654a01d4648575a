"""Depth and alias limits on a document, counted once per fragment.

strawberry's ``QueryDepthLimiter`` and ``MaxAliasesLimiter`` walk a fragment again at every
place it is spread: 30 fragments each spreading the next twice (a 600-token document) made
them walk 2^30 selections, a CPU-bound stall of the whole process. These rules report the same
errors with each fragment's figure computed once.
"""

from __future__ import annotations

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)


class _Walk:
    """Per document: the deepest field and the aliases under a selection set, fragments memoized."""

    def __init__(self, document) -> None:
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self._figures: dict[str, tuple[int, int]] = {}
        self._visiting: set[str] = set()

    def figures(self, selection_set: SelectionSetNode | None) -> tuple[int, int]:
        """(depth below this set, aliases in it); a field directly in the set is at depth 0."""
        depth, aliases = -1, 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                below, inner = self.figures(selection.selection_set)
                aliases += inner + (1 if selection.alias else 0)
                if not selection.name.value.startswith("__"):  # introspection is not counted
                    depth = max(depth, below + 1)
            else:
                inner_depth, inner = self._fragment(selection)
                depth, aliases = max(depth, inner_depth), aliases + inner
        return depth, aliases

    def _fragment(self, selection) -> tuple[int, int]:
        if isinstance(selection, InlineFragmentNode):
            return self.figures(selection.selection_set)
        if not isinstance(selection, FragmentSpreadNode):
            return -1, 0
        name = selection.name.value
        if name not in self._figures:
            fragment = self.fragments.get(name)
            if fragment is None or name in self._visiting:  # unknown or cyclic: other rules report it
                return -1, 0
            self._visiting.add(name)
            self._figures[name] = self.figures(fragment.selection_set)
            self._visiting.discard(name)
        return self._figures[name]


def _operations(context: ValidationContext) -> list[OperationDefinitionNode]:
    return [d for d in context.document.definitions if isinstance(d, OperationDefinitionNode)]


def depth_limit(max_depth: int) -> type[ValidationRule]:
    class DepthLimit(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            walk = _Walk(context.document)
            for operation in _operations(context):
                depth, _ = walk.figures(operation.selection_set)
                if depth > max_depth:
                    name = operation.name.value if operation.name else "anonymous"
                    context.report_error(
                        GraphQLError(f"'{name}' exceeds maximum operation depth of {max_depth}", [operation])
                    )

    return DepthLimit


def alias_limit(max_aliases: int) -> type[ValidationRule]:
    class AliasLimit(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            walk = _Walk(context.document)
            total = sum(walk.figures(operation.selection_set)[1] for operation in _operations(context))
            if total > max_aliases:
                context.report_error(GraphQLError(f"{total} aliases found. Allowed: {max_aliases}"))

    return AliasLimit
