"""Assertions, reads and steps shared by the server tests."""

from __future__ import annotations

from collections.abc import Callable

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


def relay_statement(statement: str) -> bool:
    """The outbox relay's reads and marks: it publishes beside a request, on the same engine."""
    return "outbox" in statement and statement.lstrip().upper().startswith(("SELECT", "UPDATE"))


def account_confirmation(statement: str) -> bool:
    """A token holder's confirmation: the only statement that asks about ended sessions."""
    return "refresh_token" in statement and "revoked_at IS NOT NULL" in statement


class Statements:
    """The SQL statements the app's engine runs while active for which ``counted(statement)`` holds:
    ``seen`` (each on one line) and ``count``."""

    def __init__(self, api=None, counted: Callable[[str], bool] = lambda _statement: True, *, engines=()) -> None:
        """``engines`` (sync engines) instead of the app's one: a runtime's live engine beside its main one."""
        self.engines = list(engines) or [api.app.state.runtime.db.engine.sync_engine]
        self.counted = counted
        self.seen: list[str] = []

    @property
    def count(self) -> int:
        return len(self.seen)

    def _seen(self, _connection, _cursor, statement: str, *_rest) -> None:
        if self.counted(statement):
            self.seen.append(" ".join(statement.split()))

    def __enter__(self) -> Statements:
        for engine in self.engines:
            sa.event.listen(engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc) -> None:
        for engine in self.engines:
            sa.event.remove(engine, "before_cursor_execute", self._seen)


class ReadsOnly(Statements):
    """Counts the SQL statements the app's engine runs while active, without the outbox relay's: on a
    loaded machine it may still be publishing what earlier mutations announced, beside the call counted."""

    def __init__(self, api) -> None:
        super().__init__(api, lambda statement: "outbox" not in statement)


class SessionWay:
    """The statements SQLAlchemy hands its DB-API cursor while active (the dialect's do_execute and
    do_executemany), for which ``counted(statement)`` holds: what server.prepared did not run by asyncpg
    itself. Not an engine event, which would send every statement the session's way."""

    def __init__(self, engine, counted: Callable[[str], bool] = lambda _statement: True) -> None:
        self.dialect = engine.dialect
        self.counted = counted
        self.seen: list[str] = []

    def __enter__(self) -> SessionWay:
        self.replaced = {name: self.dialect.__dict__.get(name) for name in ("do_execute", "do_executemany")}
        for name in self.replaced:
            original = getattr(self.dialect, name)

            def counted(cursor, statement, *rest, _original=original):
                if self.counted(statement):
                    self.seen.append(" ".join(statement.split()))
                return _original(cursor, statement, *rest)

            setattr(self.dialect, name, counted)
        return self

    def __exit__(self, *_exc) -> None:
        for name, before in self.replaced.items():  # an outer SessionWay's counter, or the dialect's own method
            if before is None:
                delattr(self.dialect, name)
            else:
                setattr(self.dialect, name, before)

    def of(self, table: str) -> list[str]:
        return [each for each in self.seen if table in each]
