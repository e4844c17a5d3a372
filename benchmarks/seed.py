"""The database a sending benchmark starts from: registered RW groups and one broadcast to all.

Shared by the broadcast, reliability and pre-flight benchmarks so that each measures the same
city. Callers import it inside the function that needs it, as they do the bot's modules: the
sandbox's process never loads the database layer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Broadcast, BroadcastSource, BroadcastStatus, Group, GroupLevel

KELURAHAN = "35.73.05.1005"  # Sumbersari: every group in one kelurahan
SLICE = 5000  # rows per INSERT, so that the set-up does not set the process's peak RSS


def _rw(index: int) -> int:
    return index + 1


async def add_groups(
    session: AsyncSession,
    chat_ids: Sequence[int],
    now: datetime,
    *,
    rw: Callable[[int], int] = _rw,
) -> None:
    """One registered RW group per chat id ("RW 00001", …), active and subscribed."""
    for first in range(0, len(chat_ids), SLICE):
        await session.execute(
            insert(Group),
            [
                {
                    "chat_id": chat_id,
                    "title": f"RW {i + 1:05d}",
                    "chat_type": "supergroup",
                    "level": GroupLevel.RW,
                    "kelurahan_code": KELURAHAN,
                    "rw": rw(i),
                    "active": True,
                    "subscribed": True,
                    "subscribed_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
                for i, chat_id in enumerate(chat_ids[first : first + SLICE], start=first)
            ],
        )


async def add_broadcast(session: AsyncSession, text: str, now: datetime) -> int:
    """An official's text to every group, due now, valid for an hour; its id."""
    broadcast = Broadcast(
        source=BroadcastSource.CUSTOM,
        text=text,
        audience="all",
        scheduled_at=now,
        expires_at=now + timedelta(hours=1),
        status=BroadcastStatus.SCHEDULED,
        created_at=now,
    )
    session.add(broadcast)
    await session.flush()
    return broadcast.id
