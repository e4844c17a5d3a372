"""What the engine needs from Telegram, as plain data: a send and its classified outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Group


class Outcome(StrEnum):
    SENT = "sent"
    RETRY_AFTER = "retry_after"  # Telegram asked us to wait (429)
    TRANSIENT = "transient"  # network error, timeout, 5xx: worth retrying
    FORBIDDEN = "forbidden"  # kicked, removed, blocked: stop sending to this chat
    MIGRATED = "migrated"  # the group became a supergroup with a new id
    CHAT_NOT_FOUND = "chat_not_found"
    BAD_REQUEST = "bad_request"  # our message is wrong: retrying will not help


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    message_id: int | None = None
    retry_after: float = 0.0
    new_chat_id: int | None = None
    reason: str = ""


@dataclass(frozen=True)
class OutgoingMessage:
    chat_id: int
    html: str
    ack_label: str
    ack_data: str
    paid: bool = False
    # A check-in's answers (key, label): its buttons replace the ack button; the Sender builds
    # their data from `broadcast_id` and the key (bot.ui.callbacks.CHECKIN).
    answers: tuple[tuple[str, str], ...] = ()
    broadcast_id: int = 0


class Sender(Protocol):
    async def send(self, message: OutgoingMessage) -> SendResult: ...


class GroupDirectory(Protocol):
    """What the engine may change about a group when Telegram says so: the domain implements it."""

    async def migrate(
        self, session: AsyncSession, old_chat_id: int, new_chat_id: int, now: datetime
    ) -> Group | None:
        """The group became a supergroup; return the row that now holds `new_chat_id`."""
        ...

    async def deactivate(
        self, session: AsyncSession, chat_id: int, reason: str, now: datetime
    ) -> None:
        """The bot can no longer send to this chat."""
        ...
