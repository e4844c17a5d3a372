"""Errors told to the root admins: one message per kind of error per 10 minutes, with how many
happened meanwhile; the kind is the exception's type and where in our code, never its message.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram.error import TelegramError
from telegram.ext import Application

from bot.settings import Settings
from messages.render import render

if TYPE_CHECKING:  # bot.ops installs report_error with its Ops
    from bot.ops import Ops

log = logging.getLogger(__name__)

ERROR_WINDOW = 600.0  # one report per error kind per 10 minutes


def error_kind(error: BaseException) -> str:
    """The exception type and where it was raised (our code), never its message."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if "/site-packages/" not in f.filename] or frames
    where = f"{ours[-1].name} ({ours[-1].filename.rsplit('/', 1)[-1]})" if ours else "?"
    return f"{type(error).__name__} di {where}"


@dataclass
class ErrorWindow:
    _reported: dict[str, tuple[float, int]] = field(default_factory=dict)

    def should_report(self, kind: str, now: float) -> int | None:
        """The count to report for `kind`, or None inside its 10-minute window."""
        last, suppressed = self._reported.get(kind, (float("-inf"), 0))
        if now - last < ERROR_WINDOW:
            self._reported[kind] = (last, suppressed + 1)
            return None
        self._reported[kind] = (now, 0)
        return suppressed + 1


async def report_error(
    application: Application[Any, Any, Any, Any, Any, Any],
    settings: Settings,
    ops: Ops,
    error: BaseException,
) -> None:
    """Count a handler's error and, once per window, tell every root admin."""
    kind = error_kind(error)
    ops.handler_errors.labels(kind=type(error).__name__).inc()
    count = ops.errors.should_report(kind, ops.monotonic())
    if count is None:
        return
    services = application.bot_data.services
    if services is None:
        return
    text = render(
        "sistem.ops.galat",
        services.profile,
        services.clock.now(),
        extra={"jenis": kind, "jumlah": str(count)},
    )
    for admin_id in sorted(settings.admin_ids):
        try:
            await application.bot.send_message(admin_id, text)
        except TelegramError as exc:
            log.warning("could not report an error to admin %s: %s", admin_id, exc)
