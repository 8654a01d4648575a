"""Assertions, reads and steps shared by the server tests."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import select

from tests.conftest import answered_nothing, count_rows


async def count_tables(db, tables) -> dict[str, int]:
    return {table: await count_rows(db, table) for table in tables}


async def scalar(db, sql: str, **params):
    async with db.engine.connect() as connection:
        return (await connection.execute(sa.text(sql), params)).scalar()


async def run_jobs(api) -> dict[str, int]:
    """Every background job once, at the test clock's time."""
    return await api.app.state.scheduler.run_once()


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
