"""The import contracts (.importlinter) hold, and a wrong import breaks them.

`make lint` runs lint-imports on the tree; these tests show each contract catches
what it is for, on a scratch copy of the server with one wrong import added.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from server.domains.identity import hooks as identity_hooks
from server.domains.staff import hooks as staff_hooks
from server.wiring import connect_domains

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(tree: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=tree, env=env, capture_output=True, text=True, check=False
    )


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "server", tmp_path / "server", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


def _append(path: Path, line: str) -> None:
    path.write_text(path.read_text() + f"\n{line}\n")


def test_the_tree_keeps_every_contract(scratch):
    result = _lint_imports(scratch)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "wrong_import", "contract"),
    [
        # A lower domain calling up into a higher one (what identity did with bookings).
        ("domains/identity/view.py", "from ..bookings import services as _bookings", "Domain rules depend one way"),
        # In a function, too: grimp sees imports wherever they are written.
        (
            "domains/staff/services.py",
            "def _late():\n    from ..auth.services import revoke_sessions  # noqa: F401",
            "Domain rules depend one way",
        ),
        ("domains/catalog/services.py", "import strawberry as _strawberry", "Only the API and the graphql/ packages"),
        ("domains/stores/services.py", "from ...api import errors as _errors", "Domain rules import neither the API"),
        ("settings.py", "from .domains.identity import identifiers as _identifiers", "The platform modules import"),
        ("bus.py", "from .domains.tasks import topics as _topics", "The platform modules import"),
        (
            "domains/stores/graphql/types.py",
            "from ...bookings.graphql import types as _booking_types",
            "The GraphQL packages depend one way",
        ),
    ],
)
def test_a_wrong_import_breaks_its_contract(scratch, module, wrong_import, contract):
    _append(scratch / "server" / module, wrong_import)
    result = _lint_imports(scratch)
    assert result.returncode != 0
    broken = [line for line in result.stdout.splitlines() if " BROKEN" in line]
    assert any(line.startswith(contract) for line in broken), result.stdout


def test_start_up_registers_the_handlers_lower_domains_call():
    connect_domains()
    assert {"bookings"} <= set(identity_hooks._merges.domains())
    assert {"bookings"} <= set(identity_hooks._erasure.domains())
    assert {"bookings"} <= set(identity_hooks._store_relationships.domains())
    assert {"auth"} <= set(staff_hooks._access_changes.domains())
