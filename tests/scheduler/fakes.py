"""A Sender that records what it was asked and answers as a script says."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from db.engine import SessionFactory
from db.models import Broadcast, BroadcastSource, BroadcastStatus, Group, GroupLevel
from scheduler.sender import Outcome, OutgoingMessage, SendResult

Script = Callable[[OutgoingMessage, int], SendResult | None]


@dataclass
class RecordingSender:
    """Every call lands in `calls`; `script(message, nth_call_to_chat)` may answer otherwise."""

    script: Script | None = None
    delay: float = 0.0
    calls: list[OutgoingMessage] = field(default_factory=list)
    per_chat: dict[int, int] = field(default_factory=dict)
    next_id: int = 1000

    async def send(self, message: OutgoingMessage) -> SendResult:
        self.calls.append(message)
        nth = self.per_chat.get(message.chat_id, 0) + 1
        self.per_chat[message.chat_id] = nth
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.script is not None:
            answer = self.script(message, nth)
            if answer is not None:
                return answer
        self.next_id += 1
        return SendResult(Outcome.SENT, message_id=self.next_id)

    def sent_chats(self) -> list[int]:
        return [m.chat_id for m in self.calls]


NOW = datetime(2024, 11, 25, 1, 0, tzinfo=UTC)


async def add_groups(
    sessions: SessionFactory,
    count: int,
    *,
    kelurahan: str = "35.73.05.1005",
    level: GroupLevel = GroupLevel.RW,
    start_chat: int = -1000,
    subscribed: bool = True,
) -> list[int]:
    """Registered groups with chat ids start_chat, start_chat-1, …; returns their chat ids."""
    chats = [start_chat - i for i in range(count)]
    async with sessions.begin() as session:
        for i, chat in enumerate(chats):
            session.add(
                Group(
                    chat_id=chat,
                    title=f"RW {i + 1}",
                    level=level,
                    kelurahan_code=kelurahan,
                    rw=i + 1,
                    subscribed=subscribed,
                    subscribed_at=NOW if subscribed else None,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
    return chats


def custom_broadcast(
    now: datetime,
    text: str = "<b>TPS sudah buka</b>",
    *,
    audience: str = "all",
    valid_for: timedelta = timedelta(hours=2),
) -> Broadcast:
    """A scheduled broadcast of an official's own text, due at `now`."""
    return Broadcast(
        source=BroadcastSource.CUSTOM,
        text=text,
        audience=audience,
        scheduled_at=now,
        expires_at=now + valid_for,
        status=BroadcastStatus.SCHEDULED,
        created_at=now,
    )
