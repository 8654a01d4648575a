"""Assertions and reads shared by the domain API tests."""

from __future__ import annotations

from sqlmodel import select

from tests.conftest import answered_nothing, count_rows


async def count_tables(db, tables) -> dict[str, int]:
    return {table: await count_rows(db, table) for table in tables}


async def fetch(db, model, **where) -> list:
    async with db.reader() as session:
        return list((await session.exec(select(model).filter_by(**where))).all())


def assert_user_error(payload: dict, code: str, field: list[str] | None, obj: str) -> None:
    """Exactly one user error with this code and field path, and no object in the payload."""
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)], payload["errors"]
    assert payload[obj] is None


async def assert_forbidden(api, query: str, variables: dict, token: str) -> None:
    body = await api(query, variables, token)
    assert answered_nothing(body), body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], body
