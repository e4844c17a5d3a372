"""Settings from the environment and `.env`; a bad value stops start-up with one clear line."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from election.resources import shipped_profile, shipped_regions, shipped_timeline
from scheduler.ratelimit import TELEGRAM

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PROFILE = shipped_profile()
DEFAULT_TIMELINE = shipped_timeline()
DEFAULT_REGIONS = shipped_regions()


def default_data_dir() -> Path:
    """Where the SQLite database (and nothing shipped) lives when DATA_DIR is not set.

    From a checkout (the package sits beside its pyproject.toml): the checkout's data/.
    Installed: $XDG_DATA_HOME/kentongan (~/.local/share/kentongan), never site-packages.
    """
    if (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "bot").is_dir():
        return PROJECT_ROOT / "data"
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "kentongan"


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


# What each setting is, for the one-line error a user sees.
_HINTS = {
    "TELEGRAM_BOT_TOKEN": "set it to the token BotFather gave you (e.g. 123456:ABC-DEF...)",
    "TELEGRAM_BASE_URL": "use Telegram's https://api.telegram.org/bot or a local server's URL",
    "DATABASE_URL": "e.g. sqlite+aiosqlite:////var/lib/kentongan/kentongan.db or "
    "postgresql+asyncpg://...",
    "DATA_DIR": "a writable folder for the SQLite database, e.g. /var/lib/kentongan",
    "REGIONS_FILE": "path to the kecamatan/kelurahan CSV",
    "LOG_FORMAT": "text or json",
    "WEBHOOK_URL": "the public https:// URL Telegram posts updates to, e.g. "
    "https://bot.example.go.id/telegram (empty: long polling)",
    "WEBHOOK_SECRET": "1-256 characters A-Z a-z 0-9 _ -, e.g. from `openssl rand -hex 32`",
    "WEBHOOK_PORT": "the local port the webhook server listens on, e.g. 8080",
    "OPS_PORT": "the local port for /healthz and /metrics in polling mode (0: off)",
    "RETENTION_DAYS": "days after election day to keep acks, question logs and flows, e.g. 90",
    "ADMIN_IDS": "comma-separated numeric Telegram user ids, e.g. 12345,67890",
    "ELECTION_PROFILE": "path to an election profile TOML file",
    "TIMELINE_FILE": "path to a timeline TOML file",
    "LOG_LEVEL": "one of DEBUG, INFO, WARNING, ERROR",
}


class SettingsError(Exception):
    """One line that says which setting is wrong and how to fix it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    telegram_bot_token: SecretStr | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    # The SQLite database's folder when DATABASE_URL is not set (see default_data_dir).
    data_dir: Path = Field(default_factory=default_data_dir)
    # Empty: SQLite at DATA_DIR/kentongan.db.
    database_url: str = ""
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    election_profile: Path = DEFAULT_PROFILE
    timeline_file: Path = DEFAULT_TIMELINE
    regions_file: Path = DEFAULT_REGIONS
    log_level: str = "INFO"
    log_format: str = "text"
    # Webhook mode when set (the public HTTPS URL Telegram posts to); otherwise long polling.
    webhook_url: str = ""
    # Required with WEBHOOK_URL: Telegram sends it in X-Telegram-Bot-Api-Secret-Token.
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    drop_pending_updates: bool = False
    # /healthz and /metrics in polling mode (0: off); in webhook mode the webhook server's.
    ops_listen: str = "127.0.0.1"
    ops_port: int = Field(default=0, ge=0, le=65535)
    # Acks, residents' question logs and flow state are deleted this many days after the
    # profile's election day (UU 27/2022: kept no longer than their purpose needs).
    retention_days: int = Field(default=90, ge=0, le=3650)
    # A field case nobody took in the posko within this many minutes goes to the kecamatan's
    # officials and the root admins (issue 13).
    field_escalation_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # Sends per second across all chats; Telegram allows about 30 (1000 with paid broadcasts).
    broadcast_rate: float = Field(default=TELEGRAM.per_second, gt=0, le=TELEGRAM.paid_per_second)
    paid_broadcast: bool = False

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        token = value.get_secret_value().strip()
        bot_id, _, secret = token.partition(":")
        if not bot_id.isdigit() or len(secret) < 8:
            # Never echo the token itself: it is a secret.
            raise ValueError("does not look like a bot token")
        return SecretStr(token)

    @field_validator("telegram_base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _db_url(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must use an async driver")
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
            if not all(p.lstrip("-").isdigit() for p in parts):
                raise ValueError("must be numbers")
            return frozenset(int(p) for p in parts)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must be an https:// URL")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        secret = value.get_secret_value().strip()
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ValueError("only A-Z, a-z, 0-9, _ and -, at most 256 characters")
        return SecretStr(secret)

    @field_validator("log_format")
    @classmethod
    def _format(cls, value: str) -> str:
        if value.lower() not in {"text", "json"}:
            raise ValueError("must be text or json")
        return value.lower()

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            self.database_url = sqlite_url(self.data_dir / "kentongan.db")
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError("WEBHOOK_URL needs WEBHOOK_SECRET")
        return self

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("unknown log level")
        return level

    @property
    def token(self) -> str:
        if self.telegram_bot_token is None:
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN is not set: "
                + _HINTS["TELEGRAM_BOT_TOKEN"]
                + " (in the environment or in .env; see .env.example)"
            )
        return self.telegram_bot_token.get_secret_value()

    @property
    def base_file_url(self) -> str:
        # Telegram serves files from /file/bot<token>; a local server mirrors that layout.
        return self.telegram_base_url.removesuffix("/bot") + "/file/bot"


def load_settings(**overrides: object) -> Settings:
    """Build Settings, turning pydantic's report into one line naming the first bad setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]).upper() if err["loc"] else "settings"
        hint = _HINTS.get(name, "see .env.example")
        raise SettingsError(f"{name} is invalid ({err['msg']}): {hint}") from None
