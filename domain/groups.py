"""Group chats as the bot knows them: seen, registered, left, migrated."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Delivery, Group


async def group_by_chat(session: AsyncSession, chat_id: int) -> Group | None:
    return await session.scalar(select(Group).where(Group.chat_id == chat_id))


async def migrate_chat(
    session: AsyncSession, old_chat_id: int, new_chat_id: int, now: datetime
) -> Group | None:
    """Move a group to its supergroup id, keeping its registration and history; no duplicate.

    Telegram may show the bot the new supergroup (an update from it) before the migration
    notice: then a second, empty row exists for the new id and is folded into the old one.
    """
    group = await group_by_chat(session, old_chat_id)
    newcomer = await group_by_chat(session, new_chat_id)
    if group is None:
        return newcomer
    if newcomer is not None and newcomer.id != group.id:
        has_history = await session.scalar(
            select(Delivery.id).where(Delivery.group_id == newcomer.id).limit(1)
        )
        if newcomer.subscribed or has_history:
            # Both rows carry history: keep the newer one as the group, retire the old row.
            group.active = False
            group.inactive_reason = f"migrated to {new_chat_id}"
            group.updated_at = now
            newcomer.migrated_from_chat_id = old_chat_id
            return newcomer
        await session.delete(newcomer)
        await session.flush()
    group.migrated_from_chat_id = old_chat_id
    group.chat_id = new_chat_id
    group.chat_type = "supergroup"
    group.active = True
    group.inactive_reason = None
    group.updated_at = now
    await session.flush()
    return group


async def deactivate_chat(session: AsyncSession, chat_id: int, reason: str, now: datetime) -> None:
    """The bot can no longer send here (kicked, removed, chat gone): keep the history."""
    group = await group_by_chat(session, chat_id)
    if group is not None and group.active:
        group.active = False
        group.inactive_reason = reason[:255]
        group.updated_at = now


class ChatDirectory:
    """The engine's view of groups (scheduler.sender.GroupDirectory), backed by the rows above."""

    async def migrate(
        self, session: AsyncSession, old_chat_id: int, new_chat_id: int, now: datetime
    ) -> Group | None:
        return await migrate_chat(session, old_chat_id, new_chat_id, now)

    async def deactivate(
        self, session: AsyncSession, chat_id: int, reason: str, now: datetime
    ) -> None:
        await deactivate_chat(session, chat_id, reason, now)


GROUP_DIRECTORY = ChatDirectory()
