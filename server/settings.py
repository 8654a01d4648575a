"""Runtime settings, read from environment variables prefixed ``IRS_``."""

from __future__ import annotations

import os
import secrets
from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .domains.identity.identifiers import DEFAULT_BLOCKED_VALUES


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
    bus_channel_prefix: str = Field(default="irs:", description="Redis pub/sub channels start with this")
    jwt_secret: SecretStr | None = None
    identity_salt: SecretStr | None = None
    identity_blocked_values: list[str] = Field(default_factory=lambda: list(DEFAULT_BLOCKED_VALUES))
    dev_verifiers: bool | None = None
    wechat_apps: dict[str, SecretStr] = Field(default_factory=dict, description="mini-program appId -> appSecret")
    sms_gateway_url: str | None = None
    sms_gateway_token: SecretStr | None = None
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
    brand_name: str = Field(default="Elegance", description="signs messages to customers")
    scheduler: bool = Field(default=True, description="run background jobs in this process")
    outbox_sweep_seconds: float = Field(default=2.0, gt=0, description="how often the relay looks for rows "
                                        "a crashed process left (commits wake it at once)")
    http_concurrency: int = Field(default=8, ge=1, description="GraphQL operations over HTTP a process runs at "
                                  "once; more wait their turn, so a surge cannot starve live notifications")
    wechat_reminder_app_id: str | None = Field(default=None, description="mini-program sending reminders")
    wechat_reminder_template_id: str | None = None
    task_ack_sla_minutes: int = Field(default=10, ge=1, le=240, description="a guide acknowledges a task within")
    task_reminder_minutes: int = Field(default=60, ge=5, le=24 * 60, description="reminders this long before a slot")
    no_show_minutes: int = Field(default=30, ge=0, le=24 * 60, description="after slot end, unchecked -> NO_SHOW")
    check_in_opens_minutes: int = Field(default=60, ge=0, le=24 * 60, description="check-in opens this long "
                                        "before the slot starts (it closes at the no-show time)")
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
        if self.dev_verifiers is None:
            self.dev_verifiers = dev
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
        if self.identity_salt is None or len(self.identity_salt.get_secret_value()) < 32:
            problems.append("IRS_IDENTITY_SALT must be set (32 characters or more)")
        if self.dev_verifiers:
            problems.append("IRS_DEV_VERIFIERS must be off (they accept any SMS code 000000)")
        if problems:
            raise InsecureSettingsError("; ".join(problems))

    def signing_secret(self) -> str:
        """The JWT secret; in development one is generated once under var_dir."""
        if self.jwt_secret is None:
            self.jwt_secret = SecretStr(self._development_secret("jwt_secret"))
        return self.jwt_secret.get_secret_value()

    def tombstone_salt(self) -> bytes:
        """The salt of erasure tombstones; in development one is generated once under var_dir."""
        if self.identity_salt is None:
            self.identity_salt = SecretStr(self._development_secret("identity_salt"))
        return self.identity_salt.get_secret_value().encode()

    def _development_secret(self, name: str) -> str:
        self.check_production_safety()
        path = self.var_dir / name
        if not path.exists():
            self.var_dir.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another worker won the race
                pass
            else:
                with os.fdopen(fd, "w") as handle:
                    handle.write(secrets.token_urlsafe(48))
        return path.read_text().strip()
