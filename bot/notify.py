"""Texts around broadcasts: rendering a library message, telling the creator how it went."""

from __future__ import annotations

import logging
from typing import Any

from telegram.error import TelegramError

from db.engine import SessionFactory
from db.models import Broadcast
from domain.broadcasts import STATUS_LABEL
from election.profile import ElectionProfile
from messages.library import default_library
from messages.render import render
from scheduler.clock import Clock
from scheduler.engine import BroadcastSummary

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
