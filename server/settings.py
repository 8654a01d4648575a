"""Runtime settings, read from environment variables prefixed ``IRS_``."""

from __future__ import annotations

import os
import secrets
from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class InsecureSettingsError(RuntimeError):
    """Production refuses to start with a development default."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IRS_", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    var_dir: Path = Path("var")
    database_url: str = ""
    redis_url: str | None = None
    jwt_secret: SecretStr | None = None
    jwt_issuer: str = "irs"
    access_token_minutes: int = Field(default=15, ge=1, le=60)
    refresh_token_days: int = Field(default=30, ge=1, le=365)
    login_max_failures: int = 5
    login_window_minutes: int = 15
    login_lock_minutes: int = 15
    max_query_depth: int = 12
    max_query_aliases: int = 30
    max_query_tokens: int = 2000
    graphiql: bool | None = None
    introspection: bool | None = None
    brand_currency: str = "CNY"
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.var_dir / 'irs.db'}"
        dev = self.env is Environment.DEVELOPMENT
        if self.graphiql is None:
            self.graphiql = dev
        if self.introspection is None:
            self.introspection = dev
        return self

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    def check_production_safety(self) -> None:
        """Raise when production would run on a development default."""
        if not self.is_production:
            return
        problems = []
        if self.jwt_secret is None or len(self.jwt_secret.get_secret_value()) < 32:
            problems.append("IRS_JWT_SECRET must be set (32 characters or more)")
        if self.graphiql:
            problems.append("IRS_GRAPHIQL must be off")
        if self.introspection:
            problems.append("IRS_INTROSPECTION must be off")
        if problems:
            raise InsecureSettingsError("; ".join(problems))

    def signing_secret(self) -> str:
        """The JWT secret; in development one is generated once under var_dir."""
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        self.check_production_safety()
        path = self.var_dir / "jwt_secret"
        if not path.exists():
            self.var_dir.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another worker won the race
                pass
            else:
                with os.fdopen(fd, "w") as handle:
                    handle.write(secrets.token_urlsafe(48))
        secret = path.read_text().strip()
        self.jwt_secret = SecretStr(secret)
        return secret
