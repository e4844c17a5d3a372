"""/topik: a group's admins choose which optional topics their group receives.

Callback data: ``callbacks.TOPIC`` (``tp:<topic>``). Every press is checked with
Telegram: only the group's admins change the choice; election and emergency topics are locked.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.context import BotContext
from bot.ui import callbacks
from bot.ui.guards import GROUP_ANONYMOUS_BOT_ID, is_admin
from bot.ui.views import text
from db.models import Group
from domain.topics import TopicChoice, TopicRefused, choices, set_topic
from scheduler.topics import TOPICS

log = logging.getLogger(__name__)


def _keyboard(context: BotContext, topics: list[TopicChoice]) -> InlineKeyboardMarkup:
    rows = []
    for choice in topics:
        label = (
            text(context, "sistem.topik.tombol_kunci", label=choice.label)
            if choice.forced
            else ("✅ " if choice.receives else "⬜ ") + choice.label
        )
        rows.append(
            [InlineKeyboardButton(label, callback_data=callbacks.TOPIC.build(choice.topic))]
        )
    return InlineKeyboardMarkup(rows)


async def _is_admin(context: BotContext, chat_id: int, user_id: int) -> bool:
    """An anonymous admin writes as GroupAnonymousBot; anyone else is asked of Telegram."""
    return user_id == GROUP_ANONYMOUS_BOT_ID or await is_admin(context, chat_id, user_id)


async def _registered_group(context: BotContext, chat_id: int) -> Group | None:
    async with context.services.sessions() as session:
        return await session.scalar(
            select(Group).where(Group.chat_id == chat_id, Group.subscribed.is_(True))
        )


async def topik(update: Update, context: BotContext) -> None:
    """Show the group's topics with buttons to turn optional ones on or off."""
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    if message is None or chat is None or user is None:
        return
    if chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP):
        await message.reply_text(text(context, "sistem.topik.hanya_grup"))
        return
    if not await _is_admin(context, chat.id, user.id):
        await message.reply_text(text(context, "sistem.topik.bukan_admin"))
        return
    group = await _registered_group(context, chat.id)
    if group is None:
        await message.reply_text(text(context, "sistem.topik.belum_terdaftar"))
        return
    async with context.services.sessions() as session:
        topics = await choices(session, group.id)
    await message.reply_text(
        text(context, "sistem.topik.pilihan", nama_grup=chat.title or group.title),
        reply_markup=_keyboard(context, topics),
    )


async def topik_button(update: Update, context: BotContext) -> None:
    """A press: toggle one optional topic, or say why it cannot change. Always answered."""
    query = update.callback_query
    if query is None:
        return
    press = callbacks.TOPIC.parse(query.data)
    topic = press["topic"] if press is not None else ""
    message = query.message
    if topic not in TOPICS or not isinstance(message, Message):
        await query.answer(text(context, "sistem.topik.tombol_lama"), show_alert=True)
        return
    if not await _is_admin(context, message.chat.id, query.from_user.id):
        await query.answer(text(context, "sistem.topik.bukan_admin"), show_alert=True)
        return
    group = await _registered_group(context, message.chat.id)
    if group is None:
        await query.answer(text(context, "sistem.topik.tombol_lama"), show_alert=True)
        return
    label = TOPICS[topic]
    services = context.services
    try:
        async with services.sessions.begin() as session:
            current = {c.topic: c for c in await choices(session, group.id)}
            receive = not current[topic].receives
            await set_topic(
                session, group.id, topic, receive, query.from_user.id, services.clock.now()
            )
            topics = await choices(session, group.id)
    except TopicRefused:
        await query.answer(text(context, "sistem.topik.dikunci", label=label), show_alert=True)
        return
    key = "sistem.topik.dinyalakan" if receive else "sistem.topik.dimatikan"
    await query.answer(text(context, key, label=label))
    try:
        await message.edit_reply_markup(reply_markup=_keyboard(context, topics))
    except BadRequest as exc:  # "message is not modified" after a double press
        log.info("topic keyboard not edited: %s", exc)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [
        CommandHandler("topik", topik, filters=filters.UpdateType.MESSAGE),
        CallbackQueryHandler(topik_button, pattern=callbacks.TOPIC.pattern),
    ]
