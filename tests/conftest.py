"""Test fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from IRS_TEST_POSTGRES_URL (default: the local server); a
throwaway database is created for the run and dropped after. With CI=true an
unreachable PostgreSQL fails the run instead of skipping.
IRS_TEST_DATABASES=sqlite limits a local run to SQLite.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from server import migrate
from server.app import create_app
from server.db import Database
from server.models import metadata
from server.settings import Settings
from server.wiring import connect_domains

# Kivy, imported by the guide app's tests, takes over the root logger unless told not to: the
# server tests that read captured logs would then see every library's DEBUG lines.
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")

POSTGRES_URL = os.environ.get("IRS_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
BACKENDS = [b.strip() for b in os.environ.get("IRS_TEST_DATABASES", "sqlite,postgres").split(",") if b.strip()]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
TEST_SECRET = "test-secret-" + "x" * 40

connect_domains()  # as every entry point does: tests call domain use cases without the app too


class FrozenClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime.now(UTC).replace(microsecond=0)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta) -> None:
        self.current += timedelta(**delta)


async def _postgres_admin_engine():
    engine = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))
    except Exception as error:
        await engine.dispose()
        message = f"PostgreSQL unreachable at {POSTGRES_URL}: {error}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return engine


async def create_postgres_database(prefix: str = "irs_test") -> str:
    engine = await _postgres_admin_engine()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    async with engine.connect() as connection:
        await connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


async def drop_postgres_database(url: str) -> None:
    engine = await _postgres_admin_engine()
    name = make_url(url).database
    async with engine.connect() as connection:
        await connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await engine.dispose()


@pytest.fixture(scope="session")
def tmp_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("irs")


@pytest.fixture(scope="session", params=BACKENDS)
async def migrated_url(request, tmp_root) -> AsyncIterator[str]:
    """A database at head, per backend, shared by the session's tests."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_root / 'shared.db'}"
        await asyncio.to_thread(migrate.upgrade, url)
        yield url
        return
    url = await create_postgres_database()
    try:
        await asyncio.to_thread(migrate.upgrade, url)
        yield url
    finally:
        await drop_postgres_database(url)


@pytest.fixture(params=BACKENDS)
async def fresh_url(request, tmp_path) -> AsyncIterator[str]:
    """An empty database of the backend, for tests that migrate or seed from scratch."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
        return
    url = await create_postgres_database("irs_fresh")
    try:
        yield url
    finally:
        await drop_postgres_database(url)


@pytest.fixture(scope="session")
async def shared_db(migrated_url) -> AsyncIterator[Database]:
    database = Database.connect(migrated_url)
    yield database
    await database.dispose()


async def empty_tables(database: Database) -> None:
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    async with database.engine.begin() as connection:
        if database.is_sqlite:
            for table in tables:
                await connection.execute(sa.text(f'DELETE FROM "{table}"'))
        else:
            quoted = ", ".join(f'"{t}"' for t in tables)
            await connection.execute(sa.text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))


@pytest.fixture
async def db(shared_db) -> Database:
    """The backend's database, emptied before the test."""
    await empty_tables(shared_db)
    return shared_db


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


def make_settings(database_url: str, tmp_root: Path, **overrides) -> Settings:
    # Tests run the background jobs themselves (app.state.scheduler.run_once()) after moving the clock,
    # and the relay publishes on commit only: no sweep adds statements to a test counting them.
    values = {
        "database_url": database_url,
        "jwt_secret": TEST_SECRET,
        "identity_salt": TEST_SECRET,
        "var_dir": tmp_root / "var",
        "env": "development",
        "scheduler": False,
        "outbox_sweep_seconds": 3600,
        "request_timeout_seconds": 60,
        "payments_sandbox": False,  # tests/server/payments start one where they need it
    }  # generous: CI machines run beside other work
    values.update(overrides)
    return Settings(**values)


@dataclass
class Api:
    """Calls /graphql the way a client would."""

    client: httpx.AsyncClient
    app: object

    async def __call__(self, query: str, variables: dict | None = None, token: str | None = None, **headers) -> dict:
        response = await self.post(query, variables, token, **headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def post(self, query: str, variables: dict | None = None, token: str | None = None, **headers):
        if token:
            headers["authorization"] = f"Bearer {token}"
        return await self.client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)

    async def data(self, query: str, variables: dict | None = None, token: str | None = None) -> dict:
        body = await self(query, variables, token)
        assert "errors" not in body, body["errors"]
        return body["data"]


@pytest.fixture
async def app_factory(db, app_with_url):
    """Start apps against the test database (settings overridable); each is shut down after the test."""

    async def start(**settings_overrides):
        return await app_with_url(db.engine.url.render_as_string(hide_password=False), **settings_overrides)

    return start


@pytest.fixture
async def api(app_factory) -> Api:
    return await app_factory()


@pytest.fixture
async def world(db):
    from tests.world import build_world

    return await build_world(db)


@pytest.fixture
def token_for(api, world):
    """Sign in as one of the world's staff and return the access token."""
    from tests.world import login

    cache: dict[str, str] = {}

    async def get(username: str) -> str:
        if username not in cache:
            cache[username] = await login(api, username)
        return cache[username]

    return get


@contextlib.asynccontextmanager
async def calling_from(api: Api, address: str) -> AsyncIterator[Api]:
    """The same app, called from another client address (the socket peer the app sees)."""
    transport = httpx.ASGITransport(app=api.app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://irs.test") as client:
        yield Api(client=client, app=api.app)


REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def shared_redis() -> dict:
    """Settings for apps that share Redis (the bus and the abuse limits) under keys of this test only."""
    from redis import asyncio as aioredis

    client = aioredis.from_url(REDIS_URL)
    try:
        await client.ping()
    except OSError:
        pytest.fail("Redis must run on 127.0.0.1:6379 for this test (see DESIGN.md)")
    finally:
        await client.aclose()
    tag = uuid.uuid4().hex[:10]
    return {
        "redis_url": REDIS_URL,
        "bus_channel_prefix": f"irs-test-{tag}:",
        "rate_limit_key_prefix": f"irs-test-{tag}:limits",
    }


async def count_rows(database: Database, table: str) -> int:
    async with database.engine.connect() as connection:
        return (await connection.execute(sa.text(f'SELECT count(*) FROM "{table}"'))).scalar_one()


@pytest.fixture
async def live_server(db, tmp_root, clock):
    """The app on a real uvicorn server on a free port (for WebSocket tests): its host:port."""
    from tests.live_server import LiveServer

    server = LiveServer(db.engine.url.render_as_string(hide_password=False), tmp_root, clock)
    await server.start()
    yield server.address
    await server.stop()


@pytest.fixture
async def app_with_url(tmp_root, clock):
    """An app on a database of the test's own choosing."""
    stack = []

    async def start(url: str, timer=time.monotonic, **settings_overrides):
        app = create_app(make_settings(url, tmp_root, **settings_overrides), clock=clock, timer=timer)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://irs.test")
        stack.append((lifespan, client))
        return Api(client=client, app=app)

    yield start
    for lifespan, client in reversed(stack):
        await client.aclose()
        await lifespan.__aexit__(None, None, None)


def answered_nothing(body: dict) -> bool:
    """Every root field of the answer is null (a refused root field answers null beside its error)."""
    data = body.get("data")
    return data is None or all(value is None for value in data.values())
