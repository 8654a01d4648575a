"""The provider package stands alone: no other domain, no API, no strawberry (it is reused by whatever
domain takes payments, and the sandbox by the CLI and tests)."""

from __future__ import annotations

import ast
from pathlib import Path

import server.domains.payments.providers as providers

FORBIDDEN = ("server.api", "server.app", "server.cli", "server.wiring", "strawberry")


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            found.add("." * node.level + (node.module or ""))
    return found


def test_the_providers_import_no_other_domain_nor_the_api():
    package = Path(providers.__file__).parent
    for path in package.glob("*.py"):
        for module in imported_modules(path):
            assert not module.startswith(".."), f"{path.name} imports {module} from outside the package"
            assert not module.startswith(FORBIDDEN), f"{path.name} imports {module}"
            if module.startswith("server."):
                assert module.startswith("server.domains.payments.providers") or module == "server.settings", (
                    f"{path.name} imports {module}"
                )
