"""Every ``<Code>.MEMBER`` written in server/ names a member of its error-code enum, and no code is
written as a string.

A misspelt member is an AttributeError only when its line runs, a string code a TypeError only then
(an Internal error for the client), and mypy does not look inside functions left unannotated (such as
the mutations' actions): this reads every line, run or not."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import server
import server.domains
from server.domains.common.errors import ErrorCode

ROOT = Path(server.__file__).parent


def _code_enums(tree: ast.Module, package: str) -> dict[str, type[ErrorCode]]:
    """Local name -> error-code enum, for each ``from ... import <X>ErrorCode [as Y]``."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = importlib.import_module("." * node.level + (node.module or ""), package)
            for alias in node.names:
                value = getattr(module, alias.name, None)
                if isinstance(value, type) and issubclass(value, ErrorCode):
                    found[alias.asname or alias.name] = value
    return found


def _references(source: str, package: str, name: str) -> list[tuple[str, bool]]:
    """Each ``Code.MEMBER`` in ``source``: where, and whether the enum has that member."""
    tree = ast.parse(source, name)
    enums = _code_enums(tree, package)
    return [
        (f"{name}:{node.lineno}: {node.value.id}.{node.attr}", node.attr in enums[node.value.id].__members__)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in enums
        and node.attr.isupper()
    ]


def test_every_code_reference_names_a_member():
    references = []
    for path in sorted(ROOT.rglob("*.py")):
        source = path.read_text()
        if "ErrorCode" in source:
            package = ".".join(("server", *path.relative_to(ROOT).parts[:-1]))
            references += _references(source, package, str(path.relative_to(ROOT.parent)))
    assert len(references) > 100  # the services' references are read
    assert [where for where, known in references if not known] == []


def test_a_misspelt_reference_is_found():
    source = "from ..stores.errors import StoreErrorCode as Code\nCode.DUPLICATE_COD\nCode.DUPLICATE_CODE\n"
    assert _references(source, "server.domains.tasks", "probe.py") == [
        ("probe.py:2: Code.DUPLICATE_COD", False),
        ("probe.py:3: Code.DUPLICATE_CODE", True),
    ]


def _all_code_values() -> set[str]:
    for module in pkgutil.walk_packages(server.domains.__path__, "server.domains."):
        if module.name.endswith(".errors"):
            importlib.import_module(module.name)
    pending, values = [ErrorCode], set()
    while pending:
        for enum in pending.pop().__subclasses__():
            pending.append(enum)
            values |= {member.value for member in enum}
    return values


def test_no_code_is_written_as_a_string():
    """Only the enums' own definitions spell a code out; ``code="PERSON_ERASED"`` anywhere else is refused."""
    values = _all_code_values()
    assert {"NOT_FOUND", "DUPLICATE_CODE", "PERSON_ERASED", "SLOT_FULL"} <= values
    spelt = [
        f"{path.relative_to(ROOT.parent)}:{node.lineno}: {node.value!r}"
        for path in sorted(ROOT.rglob("*.py"))
        if not (path.name == "errors.py" and "domains" in path.parts)
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in values
    ]
    assert spelt == []
