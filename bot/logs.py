"""Logging set-up: one handler on the root logger, a redaction filter, text or JSON lines.

The filter sits on the handler, so it sees every record from every library (httpx, PTB,
aiohttp, APScheduler, ours) at every level: the bot token never reaches the log (PTB logs
"Set Bot API URL: …/bot<token>" at DEBUG, httpx logs request URLs), and 16-digit numbers
(a NIK typed by a resident, shown in PTB's DEBUG dump of an update) are masked.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TextIO

# A Telegram bot token wherever it appears, e.g. in ".../bot123456:AAH.../getMe".
_TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")
# A 16-digit number standing alone (NIK, KK number, card numbers): never in the log.
_SIXTEEN = re.compile(r"(?<!\d)\d{16}(?!\d)")
TOKEN_MASK = "<token>"
NUMBER_MASK = "<16 angka>"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, TOKEN_MASK)
    text = _TOKEN.sub(TOKEN_MASK, text)
    return _SIXTEEN.sub(NUMBER_MASK, text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (and traceback) with secrets and 16-digit numbers masked."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the line
            message = str(record.msg)
        record.msg = redact(message, self.secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
            # The formatter would format exc_info again, unredacted: keep only the text.
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors (LOG_FORMAT=json)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(
    level: str,
    *,
    fmt: str = "text",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> logging.Handler:
    """Replace the root logger's handlers with one redacting handler; returns it."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RedactingFilter(secrets))
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_kentongan", False):
            root.removeHandler(old)
            old.close()
    handler._kentongan = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    quiet = level != "DEBUG"
    # At INFO these libraries log every request and job run; our own lines say what matters.
    for name in ("httpx", "httpcore", "alembic", "apscheduler", "aiohttp.access"):
        logging.getLogger(name).setLevel(logging.WARNING if quiet else logging.NOTSET)
    return handler
