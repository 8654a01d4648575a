"""Runtime settings, read from environment variables prefixed ``IRS_``."""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from limits import parse as parse_rate
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEVELOPMENT_ORIGINS = tuple(
    f"http://{host}:{port}" for host in ("localhost", "127.0.0.1") for port in (3000, 5173, 8080)
)


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
    bus_batches: bool = Field(
        default=True,
        description="publish each relay batch as one Redis message; false: a message per topic's channel, the "
        "only form releases before 2026-12-07 read. Keep it false while such a replica still runs (a rolling "
        "upgrade), then set it true; this release reads both",
    )
    jwt_secret: SecretStr | None = None
    identity_salt: SecretStr | None = None
    identity_blocked_values: list[str] | None = Field(
        default=None, description="placeholder identifier values to ignore; unset: identity's built-in list"
    )
    max_event_amount: int = Field(
        default=10**10,
        ge=0,
        le=2**53 - 1,
        description=("the largest amount (fen) one ingested purchase may carry; more is refused as OUT_OF_RANGE"),
    )
    dev_verifiers: bool | None = None
    wechat_apps: dict[str, SecretStr] = Field(default_factory=dict, description="mini-program appId -> appSecret")
    sms_gateway_url: str | None = None
    sms_gateway_token: SecretStr | None = None
    jwt_issuer: str = "irs"
    access_token_minutes: int = Field(default=15, ge=1, le=60)
    refresh_token_days: int = Field(default=30, ge=1, le=365)
    cors_origins: Annotated[list[str] | None, NoDecode] = Field(
        default=None,
        description=(
            "exact origins (scheme://host[:port]) whose pages may call the API (CORS) and open its WebSocket; "
            "comma-separated or a JSON list. Default: none in production, localhost dev ports in development"
        ),
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "addresses or networks of reverse proxies whose X-Forwarded-For names the client; default none: "
            "the client address is the socket peer"
        ),
    )
    rate_limit_key_prefix: str = Field(default="irs:limits", description="Redis keys of abuse limits")
    # Abuse limits, in the notation of the `limits` library ("5 per 15 minutes", "10/day").
    limit_sign_in_per_address: str = Field(
        default="5 per 15 minutes",
        description=("staffLogin attempts per username from one client address (a success clears them)"),
    )
    limit_sign_in_per_username: str = Field(
        default="50 per 15 minutes", description=("staffLogin attempts per username from all addresses together")
    )
    limit_sms_requests_per_address: str = Field(
        default="20 per hour", description=("customerSmsCodeRequest calls per client address")
    )
    limit_sms_codes_per_phone: str = Field(default="10 per day", description="SMS codes sent per phone")
    limit_sms_checks_per_phone: str = Field(
        default="10 per day", description=("SMS codes tried per phone, across resends (a success clears them)")
    )
    limit_bookings_per_customer: str = Field(default="10 per minute", description="bookingCreate per customer")
    limit_ingest_calls_per_source: str = Field(
        default="120 per minute", description=("eventsIngest calls per touchpoint source (each up to 500 events)")
    )
    limit_wrong_check_in_codes_per_staff: str = Field(
        default="10 per 10 minutes",
        description="bookingCheckIn by checkInCode: codes that matched no booking due, per staff member",
    )
    limit_wrong_check_in_codes_per_store: str = Field(
        default="30 per 10 minutes",
        description="bookingCheckIn by checkInCode: codes that matched no booking due, per store (all its staff)",
    )
    max_query_depth: int = 12
    max_query_aliases: int = 30
    max_query_tokens: int = 2000
    max_query_cost: int = Field(
        default=5000,
        ge=1,
        description=(
            "the most an operation may cost (items × fields, expensive fields weighted; README 'The API in brief')"
        ),
    )
    request_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description=("an operation that has not finished after this long stops reading and answers TIMEOUT"),
    )
    graphiql: bool | None = None
    introspection: bool | None = None
    brand_currency: str = "CNY"
    brand_name: str = Field(default="Elegance", description="signs messages to customers")
    brand_timezone: str = Field(
        default="Asia/Shanghai", description="IANA zone of the brand's days and months (ledger periods, performance)"
    )
    scheduler: bool = Field(default=True, description="run background jobs (and the ledger's consumer) in this process")
    public_url: str = Field(
        default="http://127.0.0.1:8000", description="this server as payment providers reach it (notifications)"
    )
    payments_sandbox: bool | None = Field(
        default=None,
        description="WeChat Pay and Alipay through the built-in sandbox at /sandbox-pay (development default; "
        "refused in production)",
    )
    payments_sandbox_url: str | None = Field(
        default=None, description="where the sandbox is served (default: public_url + /sandbox-pay)"
    )
    payments_sandbox_keys_dir: Path | None = Field(
        default=None, description="the sandbox's keys (default: var_dir/sandbox-pay; made when missing)"
    )
    payment_reconcile_minutes: int = Field(
        default=5, ge=1, description="charges pending this long are asked about at their provider"
    )
    wechat_pay_mchid: str | None = None
    wechat_pay_appid: str | None = None
    wechat_pay_private_key_path: Path | None = None
    wechat_pay_cert_serial_no: str | None = None
    wechat_pay_apiv3_key: SecretStr | None = None
    wechat_pay_public_key_path: Path | None = None
    wechat_pay_public_key_id: str | None = None
    wechat_pay_gateway: str = "https://api.mch.weixin.qq.com"
    alipay_app_id: str | None = None
    alipay_app_private_key_path: Path | None = None
    alipay_public_key_path: Path | None = None
    alipay_gateway: str = "https://openapi.alipay.com/gateway.do"
    outbox_sweep_seconds: float = Field(
        default=2.0,
        gt=0,
        description="how often the relay looks for rows a crashed process left (commits wake it at once)",
    )
    outbox_relay_spacing_seconds: float = Field(
        default=0.02,
        ge=0,
        le=1,
        description="the least time between two of the relay's rounds: under a surge of commits each round "
        "publishes what several wrote (fewer statements per booking) at the cost of at most this much delay; "
        "0 publishes after every commit",
    )
    socket_session_check_seconds: float = Field(
        default=60.0,
        gt=0,
        description="how often an open WebSocket re-reads its session, in case a revocation message was lost",
    )
    http_concurrency: int = Field(
        default=8,
        ge=1,
        description="GraphQL operations over HTTP a process runs at "
        "once; more wait their turn, so a surge cannot starve live notifications",
    )
    http_staff_concurrency: int = Field(
        default=4,
        ge=1,
        description="staff operations over HTTP (a guide's catch-up, acknowledge, check-in, checkout) a process "
        "runs at once in a lane of their own, beside http_concurrency: a surge of customers never queues them",
    )
    account_cache_seconds: float = Field(
        default=10.0,
        ge=0,
        description="how long a staff member's account, once confirmed, is trusted without reading it again; "
        "a revocation (sign-out, deactivation, a changed role or store) forgets it on every replica at once "
        "through the bus. 0: read it at every operation",
    )
    wechat_reminder_app_id: str | None = Field(default=None, description="mini-program sending reminders")
    wechat_reminder_template_id: str | None = None
    task_ack_sla_minutes: int = Field(default=10, ge=1, le=240, description="a guide acknowledges a task within")
    task_reminder_minutes: int = Field(default=60, ge=5, le=24 * 60, description="reminders this long before a slot")
    no_show_minutes: int = Field(default=30, ge=0, le=24 * 60, description="after slot end, unchecked -> NO_SHOW")
    check_in_opens_minutes: int = Field(
        default=60,
        ge=0,
        le=24 * 60,
        description="check-in opens this long before the slot starts (it closes at the no-show time)",
    )
    log_level: str = "INFO"

    @field_validator("cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _list_from_text(cls, value):
        """A list from the environment: a JSON list, or comma-separated values."""
        if isinstance(value, str):
            text = value.strip()
            return json.loads(text) if text.startswith("[") else [v.strip() for v in text.split(",") if v.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _exact_origins(cls, origins: list[str] | None) -> list[str] | None:
        for origin in origins or []:
            parts = urlsplit(origin)
            if (
                parts.scheme not in ("http", "https")
                or not parts.hostname
                or parts.path
                or parts.query
                or parts.fragment
                or parts.username
                or origin != origin.strip().lower().rstrip("/")
            ):
                raise ValueError(f"{origin!r} is not an exact origin like https://h5.example.com (no '*', no path)")
        return origins

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, proxies: list[str]) -> list[str]:
        for proxy in proxies:
            ipaddress.ip_network(proxy, strict=False)  # a ValueError names the bad entry
        return proxies

    @field_validator("brand_timezone")
    @classmethod
    def _zone(cls, name: str) -> str:
        ZoneInfo(name)  # a ZoneInfoNotFoundError names the bad zone
        return name

    @property
    def brand_zone(self) -> ZoneInfo:
        return ZoneInfo(self.brand_timezone)

    @field_validator(
        "limit_sign_in_per_address",
        "limit_sign_in_per_username",
        "limit_sms_requests_per_address",
        "limit_sms_codes_per_phone",
        "limit_sms_checks_per_phone",
        "limit_bookings_per_customer",
        "limit_ingest_calls_per_source",
        "limit_wrong_check_in_codes_per_staff",
        "limit_wrong_check_in_codes_per_store",
    )
    @classmethod
    def _rate(cls, rate: str) -> str:
        parse_rate(rate)  # a ValueError says what the notation is
        return rate

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if self.cors_origins is None:
            self.cors_origins = [] if self.is_production else list(DEVELOPMENT_ORIGINS)
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.var_dir / 'irs.db'}"
        dev = self.env is Environment.DEVELOPMENT
        if self.graphiql is None:
            self.graphiql = dev
        if self.introspection is None:
            self.introspection = dev
        if self.dev_verifiers is None:
            self.dev_verifiers = dev
        if self.payments_sandbox is None:
            self.payments_sandbox = dev
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
        if self.payments_sandbox:
            problems.append("IRS_PAYMENTS_SANDBOX must be off (its payments are not real)")
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
