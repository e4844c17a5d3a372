"""Texts around broadcasts: rendering a library message, telling the creator how it went."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram.error import NetworkError, RetryAfter, TelegramError

from db.engine import SessionFactory
from db.models import Broadcast, OfficialRole
from domain.broadcasts import STATUS_LABEL
from domain.officials import list_officials
from election.profile import ElectionProfile
from messages.library import default_library
from messages.render import render
from scheduler.clock import Clock
from scheduler.preparation import BroadcastSummary

log = logging.getLogger(__name__)


def ack_label() -> str:
    """The "✅ Sudah dibaca" button's label: a plain library text without placeholders."""
    return default_library().get("sistem.tombol.sudah_dibaca").text


def render_broadcast(broadcast: Broadcast, profile: ElectionProfile, clock: Clock) -> str:
    """The HTML a broadcast sends: its own text, or its library message rendered now."""
    if broadcast.text is not None:
        return broadcast.text
    if broadcast.message_key is None:
        raise ValueError(f"broadcast {broadcast.id} has neither text nor a message key")
    return render(broadcast.message_key, profile, clock.now())


def summary_text(summary: BroadcastSummary) -> str:
    label = STATUS_LABEL.get(summary.status, summary.status.value)
    text = (
        f"📣 Siaran #{summary.broadcast_id} {label}: terkirim {summary.sent}, "
        f"gagal {summary.failed}, dilewati {summary.skipped}."
    )
    if summary.reason:
        text += f"\nKeterangan: {summary.reason}"
    return text


class BroadcastNotifier:
    def __init__(self, bot: Any, sessions: SessionFactory, profile: ElectionProfile) -> None:
        self.bot = bot
        self.sessions = sessions
        self.profile = profile
        self._outage_lock = asyncio.Lock()

    async def paused(self) -> None:
        """Telegram is unreachable: tell the admins once.

        The message itself needs Telegram, so it is retried until it gets through (at the
        latest when Telegram is back); the "resumed" message waits for it, in order.
        """
        async with self._outage_lock:
            await self._tell_admins(render("engine.jeda_tidak_terjangkau", self.profile))

    async def resumed(self, seconds: float) -> None:
        """Sending goes on after an outage of `seconds`: tell the admins once."""
        minutes = round(seconds / 60)
        took = f"{minutes} menit" if minutes >= 1 else f"{max(1, round(seconds))} detik"
        text = render("engine.lanjut_terjangkau", self.profile, extra={"lama_gangguan": took})
        async with self._outage_lock:
            await self._tell_admins(text)

    async def _tell_admins(self, text: str, *, retry_for: float = 1800.0) -> None:
        async with self.sessions() as session:
            waiting = [
                o.user_id
                for o in await list_officials(session)
                if o.role is OfficialRole.ADMIN and o.kecamatan_code is None
            ]
        loop = asyncio.get_running_loop()
        give_up = loop.time() + retry_for
        delay = 1.0
        while waiting:
            user_id = waiting[0]
            try:
                await self.bot.send_message(user_id, text)
            except (NetworkError, RetryAfter):  # Telegram still unreachable: later
                if loop.time() > give_up:
                    log.warning("gave up telling officials about the outage")
                    return
                await asyncio.sleep(delay)
                delay = min(10.0, delay * 2)
                continue
            except TelegramError as exc:  # blocked the bot, never started it
                log.warning("could not tell official %s about the outage: %s", user_id, exc)
            waiting.pop(0)

    async def finished(self, summary: BroadcastSummary, broadcast: Broadcast) -> None:
        """Tell the official who created the broadcast how it went (timeline ones have none)."""
        if broadcast.created_by is None:
            return
        try:
            await self.bot.send_message(broadcast.created_by, summary_text(summary))
        except TelegramError as exc:
            log.warning(
                "could not tell %s about broadcast %s: %s", broadcast.created_by, broadcast.id, exc
            )
