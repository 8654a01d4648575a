"""The transaction rule (README, "Contributing"): a use case owns its transaction; helpers never commit."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from server.domains.common.audit import AuditEntry
from server.unit_of_work import unit_of_work, use_case
from tests.conftest import count_rows

SERVER = Path(__file__).resolve().parents[2] / "server"


def _entry(action: str) -> AuditEntry:
    return AuditEntry(actor="test", action=action, subject="unit-of-work", at=datetime.now(UTC))


@use_case
async def _write(session, action: str) -> None:
    session.add(_entry(action))


@use_case
async def _write_then_refuse(session) -> None:
    await _write(session, "inner")  # a use case inside another joins it
    raise ValueError("refused")


async def test_a_use_case_commits_what_it_wrote(db):
    async with db.writer() as session:
        await _write(session, "alone")
    assert await count_rows(db, "audit_log") == 1


async def test_a_refused_use_case_writes_nothing_not_even_what_a_joined_one_wrote(db):
    async with db.writer() as session:
        with pytest.raises(ValueError):
            await _write_then_refuse(session)
    assert await count_rows(db, "audit_log") == 0


async def test_nested_units_of_work_commit_once_at_the_outermost(db):
    async with db.writer() as session, unit_of_work(session):
        await _write(session, "first")
        assert await count_rows(db, "audit_log") == 0, "the joined use case committed early"
        await _write(session, "second")
    assert await count_rows(db, "audit_log") == 2


def _decorators(function: ast.AsyncFunctionDef) -> set[str]:
    return {d.id for d in function.decorator_list if isinstance(d, ast.Name)}


def _commits_outside_use_cases(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.AsyncFunctionDef) or "use_case" in _decorators(function):
            continue
        for node in ast.walk(function):
            is_commit = isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "commit"
            if is_commit and not any(
                inner is not function and isinstance(inner, ast.AsyncFunctionDef) and node in ast.walk(inner)
                for inner in ast.walk(function)
            ):
                found.append(f"{path.relative_to(SERVER.parent)}:{node.lineno} in {function.name}()")
    return found


# Transactions ended in one place as server/unit_of_work.py's are: the outbox relay's round (a transaction of its own),
# and the commit every unit of work ends with (its two statements: its own transaction's, then SQLAlchemy's).
TRANSACTION_PRIMITIVE = re.compile(r"server/prepared\.py:\d+ in (pooled_transaction|commit)\(\)")


def test_only_use_cases_commit():
    """Helpers, hook handlers, resolvers and jobs' steps never commit: only a function marked
    @use_case may (at its end through the decorator, or early where a write must survive a refusal)."""
    offenders = [
        found
        for path in sorted(SERVER.rglob("*.py"))
        if path.name != "unit_of_work.py"
        for found in _commits_outside_use_cases(path)
        if not TRANSACTION_PRIMITIVE.fullmatch(found)
    ]
    assert offenders == []
