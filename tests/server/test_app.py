"""Settings, start-up safety and readiness."""

from __future__ import annotations

import gc
import stat

import pytest

from server.app import GC_YOUNG_THRESHOLD, create_app, create_app_from_env
from server.settings import InsecureSettingsError, Settings


def test_defaults_are_development_sqlite_under_var(monkeypatch):
    for name in ("IRS_ENV", "IRS_DATABASE_URL", "IRS_JWT_SECRET", "IRS_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.env.value == "development"
    assert settings.database_url == "sqlite+aiosqlite:///var/irs.db"
    assert settings.redis_url is None and settings.graphiql and settings.introspection


def test_settings_come_from_irs_environment_variables(monkeypatch):
    monkeypatch.setenv("IRS_DATABASE_URL", "postgresql+asyncpg://irs@db/irs")
    monkeypatch.setenv("IRS_REDIS_URL", "redis://cache:6379/0")
    settings = Settings()
    assert settings.database_url == "postgresql+asyncpg://irs@db/irs"
    assert settings.redis_url == "redis://cache:6379/0"


def test_development_secret_is_generated_once_and_kept(tmp_path):
    first = Settings(var_dir=tmp_path).signing_secret()
    second = Settings(var_dir=tmp_path).signing_secret()
    assert first == second and len(first) >= 32
    assert stat.S_IMODE((tmp_path / "jwt_secret").stat().st_mode) == 0o600


SAFE = {"jwt_secret": "s" * 40, "identity_salt": "t" * 40}


@pytest.mark.parametrize(
    "overrides, problem",
    [
        ({"identity_salt": "t" * 40}, "IRS_JWT_SECRET"),
        ({**SAFE, "jwt_secret": "short"}, "IRS_JWT_SECRET"),
        ({"jwt_secret": "s" * 40}, "IRS_IDENTITY_SALT"),
        ({**SAFE, "graphiql": True}, "IRS_GRAPHIQL"),
        ({**SAFE, "introspection": True}, "IRS_INTROSPECTION"),
        ({**SAFE, "dev_verifiers": True}, "IRS_DEV_VERIFIERS"),
    ],
)
def test_production_refuses_insecure_defaults(tmp_path, overrides, problem):
    settings = Settings(env="production", var_dir=tmp_path, **overrides)
    with pytest.raises(InsecureSettingsError, match=problem):
        create_app(settings)
    assert not (tmp_path / "jwt_secret").exists()


def test_production_turns_graphiql_and_introspection_off_by_default():
    settings = Settings(env="production", **SAFE)
    assert settings.graphiql is False and settings.introspection is False and settings.dev_verifiers is False
    settings.check_production_safety()


async def test_readyz_is_503_until_the_database_is_migrated(app_with_url, tmp_path):
    api = await app_with_url(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    response = await api.client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["reason"] == "migrations not at head"
    assert (await api.client.get("/healthz")).status_code == 200


async def test_readyz_is_503_when_the_database_is_unreachable(app_with_url):
    api = await app_with_url("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    response = await api.client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["reason"] == "database unreachable"


def test_a_serving_process_tunes_its_garbage_collector(monkeypatch, tmp_path):
    monkeypatch.setenv("IRS_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'irs.db'}")
    monkeypatch.setenv("IRS_VAR_DIR", str(tmp_path))
    before = gc.get_threshold()
    try:
        create_app_from_env()
        assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, *before[1:])
        assert gc.get_freeze_count() > 0  # start-up's long-lived objects are out of the collector's sight
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
