"""The operations in ``operations/*.graphql``, each sent with only the fragments it uses."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    OperationDefinitionNode,
    Visitor,
    parse,
    visit,
)

OPERATIONS_DIR = Path(__file__).with_name("operations")


def operation_files() -> list[Path]:
    return sorted(OPERATIONS_DIR.glob("*.graphql"))


@cache
def _definitions() -> tuple[dict[str, OperationDefinitionNode], dict[str, FragmentDefinitionNode]]:
    operations, fragments = {}, {}
    for path in operation_files():
        for definition in parse(path.read_text(encoding="utf-8")).definitions:
            if isinstance(definition, OperationDefinitionNode):
                operations[definition.name.value] = definition
            elif isinstance(definition, FragmentDefinitionNode):
                fragments[definition.name.value] = definition
    return operations, fragments


def operation_names() -> list[str]:
    return sorted(_definitions()[0])


class _SpreadCollector(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_) -> None:
        self.names.add(node.name.value)


def _fragments_used(node, fragments: dict[str, FragmentDefinitionNode]) -> list[FragmentDefinitionNode]:
    seen: dict[str, FragmentDefinitionNode] = {}
    pending = [node]
    while pending:
        collector = _SpreadCollector()
        visit(pending.pop(), collector)
        for name in sorted(collector.names - seen.keys()):
            seen[name] = fragments[name]
            pending.append(fragments[name])
    return list(seen.values())


@cache
def document(name: str) -> DocumentNode:
    """The named operation with the fragments it needs, ready to send."""
    operations, fragments = _definitions()
    if name not in operations:
        raise KeyError(f"no operation {name!r} in {OPERATIONS_DIR}")
    operation = operations[name]
    return DocumentNode(definitions=(operation, *_fragments_used(operation, fragments)))
