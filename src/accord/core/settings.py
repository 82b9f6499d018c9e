"""One typed settings object, read from ACCORD_* environment variables."""

from __future__ import annotations

import secrets
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

VAR_DIR = Path("var")


class Environment(StrEnum):
    dev = "dev"
    prod = "prod"


class EmailBackend(StrEnum):
    dev = "dev"
    smtp = "smtp"


class SmsGatewayKind(StrEnum):
    dev = "dev"
    twilio = "twilio"
    generic = "generic"


class Settings(BaseSettings):
    """Every knob Accord has. Build one, hand it to `create_app` or a CLI command."""

    model_config = SettingsConfigDict(env_prefix="ACCORD_", extra="ignore")

    environment: Environment = Environment.dev
    var_dir: Path = Field(default=VAR_DIR, description="Where the SQLite file and keys live.")
    database_url: str = Field(default="", description="SQLAlchemy URL; empty means var/accord.db")
    secret_key: SecretStr = Field(
        default=SecretStr(""), description="Signs sessions and tokens; generated under var/."
    )
    base_url: str = Field(default="http://127.0.0.1:8000", description="Public base URL.")
    email_backend: EmailBackend = EmailBackend.dev
    email_from: str = "Accord <no-reply@accord.localhost>"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_tls: bool = False
    smtp_starttls: bool = False
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    # Texts (accord.sms): the dev phone, a Twilio-compatible API, or a generic JSON gateway.
    sms_gateway: SmsGatewayKind = SmsGatewayKind.dev
    sms_from: str = Field(
        default="", description="Accord's own number (E.164): codes, brands without a number."
    )
    sms_gateway_url: str = Field(default="", description="Generic gateway: where texts are POSTed.")
    sms_gateway_token: SecretStr = SecretStr("")
    sms_gateway_secret: SecretStr = Field(
        default=SecretStr(""), description="Generic gateway: whsec_ key its callbacks sign with."
    )
    sms_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    twilio_account_sid: str = ""
    twilio_auth_token: SecretStr = SecretStr("")
    twilio_api_url: str = Field(default="https://api.twilio.com", description="Twilio's API root.")
    dkim_domain: str = Field(default="", description="Sign brand mail with DKIM for this domain.")
    dkim_selector: str = "accord"
    dkim_key_file: Path | None = None
    worker_batch: int = Field(default=200, ge=1, le=5000)
    worker_lease_seconds: int = Field(default=60, ge=5)
    worker_in_process: bool = Field(default=True, description="`accord serve` runs a worker too.")
    bounce_webhook_token: SecretStr = SecretStr("")
    magic_link_minutes: int = Field(default=15, ge=1, le=60)
    magic_link_per_address_per_hour: int = Field(default=5, ge=1)
    magic_link_per_ip_per_hour: int = Field(
        default=30, ge=1, description="Sign-in links one client IP may ask for in an hour."
    )
    magic_link_global_per_hour: int = Field(
        default=2000, ge=1, description="Sign-in links the whole instance sends in an hour."
    )
    sign_in_failures_per_account: int = Field(
        default=5, ge=1, description="Wrong passwords of one account before back-off starts."
    )
    sign_in_failures_per_ip: int = Field(
        default=20, ge=1, description="Wrong passwords from one IP before back-off starts."
    )
    auth_answer_floor_ms: int = Field(
        default=200,
        ge=0,
        le=5000,
        description="Sign-in link and sign-up answers take at least this long (known or not).",
    )
    db_connections: int = Field(
        default=10,
        ge=1,
        le=200,
        description="Requests one web process serves with the database at once (the rest wait "
        "their turn), and the connections each process keeps open.",
    )
    session_days: int = Field(default=14, ge=1)
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    reply_domain: str = Field(
        default="", description="Domain of thread reply addresses; empty: base_url's host."
    )
    attachment_max_bytes: int = Field(
        default=512 * 1024, ge=1024, description="Largest attachment on a conversation message."
    )
    digest_minutes: int = Field(
        default=60, ge=5, description="How often members get the digest of new messages."
    )
    # Web Push, webhooks, tracking (accord.push, accord.webhooks, accord.delivery tracking).
    vapid_private_key_file: Path | None = Field(
        default=None, description="PEM P-256 key for Web Push; empty: generated under var/."
    )
    vapid_subject: str = Field(default="", description="VAPID `sub`: a mailto: or https: URL.")
    push_ttl_seconds: int = Field(default=86400, ge=0, le=2419200)
    push_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    webhook_timeout_seconds: float = Field(default=15.0, gt=0, le=30)
    webhook_disable_after_days: int = Field(default=5, ge=1, le=60)
    # Operations (accord.delivery.metrics, accord.core.logs).
    metrics_token: SecretStr = Field(
        default=SecretStr(""),
        description="Bearer token /metrics requires; empty: /metrics only in dev.",
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description="`json`: one JSON object per log line."
    )
    access_log: bool = Field(
        default=True, description="`accord serve` logs one line per request it answers."
    )

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def is_dev(self) -> bool:
        return self.environment is Environment.dev

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'accord.db').as_posix()}"

    def resolved_secret_key(self) -> str:
        """The configured key, or one generated once and kept in var/secret_key."""
        if self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value()
        path = self.var_dir / "secret_key"
        if not path.exists():
            self.var_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        key = path.read_text().strip()
        self.secret_key = SecretStr(key)
        return key
