"""Settings from the environment and `.env`; a bad value stops start-up with one clear line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from scheduler.ratelimit import TELEGRAM

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE_URL = f"sqlite+aiosqlite:///{PROJECT_ROOT / 'data' / 'kentongan.db'}"
DEFAULT_PROFILE = PROJECT_ROOT / "data" / "elections" / "pilkada-2024-kota-malang.toml"
DEFAULT_TIMELINE = PROJECT_ROOT / "data" / "timelines" / "pilkada-2024-kota-malang.toml"

# What each setting is, for the one-line error a user sees.
_HINTS = {
    "TELEGRAM_BOT_TOKEN": "set it to the token BotFather gave you (e.g. 123456:ABC-DEF...)",
    "TELEGRAM_BASE_URL": "use Telegram's https://api.telegram.org/bot or a local server's URL",
    "DATABASE_URL": "e.g. sqlite+aiosqlite:///data/kentongan.db or postgresql+asyncpg://...",
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
    database_url: str = DEFAULT_DATABASE_URL
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    election_profile: Path = DEFAULT_PROFILE
    timeline_file: Path = DEFAULT_TIMELINE
    log_level: str = "INFO"
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
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
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
