"""Which optional topics a group receives (/topik); election and emergency topics always."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Group, GroupTopicOptOut
from scheduler.topics import FORCED_TOPICS, OPTIONAL_TOPICS, TOPICS


class TopicRefused(ValueError):
    """A topic that cannot be changed; the message says why, in Bahasa Indonesia."""


@dataclass(frozen=True)
class TopicChoice:
    topic: str
    label: str
    receives: bool
    forced: bool


async def choices(session: AsyncSession, group_id: int) -> list[TopicChoice]:
    """Every topic with whether this group receives it; forced topics first."""
    opted_out = set(
        (
            await session.scalars(
                select(GroupTopicOptOut.topic).where(GroupTopicOptOut.group_id == group_id)
            )
        ).all()
    )
    order = [t for t in TOPICS if t in FORCED_TOPICS] + list(OPTIONAL_TOPICS)
    return [
        TopicChoice(t, TOPICS[t], t in FORCED_TOPICS or t not in opted_out, t in FORCED_TOPICS)
        for t in order
    ]


async def set_topic(
    session: AsyncSession, group_id: int, topic: str, receive: bool, by: int | None, now: datetime
) -> None:
    """Turn one optional topic on or off for a group (idempotent)."""
    if topic not in TOPICS:
        raise TopicRefused("Topik itu tidak dikenal. Ketik /topik untuk melihat pilihannya.")
    if topic in FORCED_TOPICS:
        raise TopicRefused(
            f"Topik {TOPICS[topic]} selalu dikirim ke semua grup terdaftar dan tidak dapat "
            "dimatikan."
        )
    if await session.get(Group, group_id) is None:
        raise TopicRefused("Grup ini belum dikenal bot. Daftarkan dulu dengan /daftar.")
    row = await session.get(GroupTopicOptOut, (group_id, topic))
    if receive and row is not None:
        await session.execute(
            delete(GroupTopicOptOut).where(
                GroupTopicOptOut.group_id == group_id, GroupTopicOptOut.topic == topic
            )
        )
    elif not receive and row is None:
        session.add(GroupTopicOptOut(group_id=group_id, topic=topic, chosen_by=by, chosen_at=now))
    await session.flush()
