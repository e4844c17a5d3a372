"""Who may do what, checked the same way by every handler.

- `flood_limited`: one user's messages through a token bucket.
- `group_admin` / `is_admin`: a group's admins, anonymous ones included, asked of Telegram.
- `official`: the registered official behind an update, in a private chat; with the refusal
  said (in words, or as the answer to a press) when there is none.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Chat, Message, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import filters

from bot.context import BotContext
from bot.ui.views import text
from domain.flood import TokenBucket, Verdict
from domain.officials import Actor, find_actor

log = logging.getLogger(__name__)

Callback = Callable[[Update, BotContext], Coroutine[Any, Any, None]]

NEW_MESSAGES = filters.UpdateType.MESSAGE  # not edits, not channel posts
PRIVATE = filters.ChatType.PRIVATE
GROUPS = filters.ChatType.GROUPS

GROUP_ANONYMOUS_BOT_ID = 1087968824  # the account an anonymous admin writes through
ANY_ADMIN = 0  # a flow any admin of the chat may continue


def flood_limited(callback: Callback) -> Callback:
    """Let a user's message through only while their token bucket has room.

    The first message over the limit gets one polite notice; later ones are ignored until the
    bucket refills. A button press over the limit is still answered (Telegram needs that).
    """

    @functools.wraps(callback)
    async def guarded(update: Update, context: BotContext) -> None:
        if update.effective_user is None or context.user_data is None:
            await callback(update, context)
            return
        bucket = context.user_data.get("flood")
        if not isinstance(bucket, TokenBucket):
            bucket = context.user_data["flood"] = TokenBucket()
        verdict = bucket.take()
        if verdict is Verdict.ALLOW:
            await callback(update, context)
            return
        if update.callback_query is not None:
            await update.callback_query.answer(text(context, "ui.tombol.tunggu"))
        elif verdict is Verdict.WARN and update.effective_message is not None:
            await update.effective_message.reply_text(text(context, "warga.tunggu"))

    return guarded


def is_group(chat: Chat | None) -> bool:
    return chat is not None and chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


def anonymous_admin(message: Message) -> bool:
    """An anonymous admin writes as the group itself, through GroupAnonymousBot."""
    return (
        message.sender_chat is not None
        and message.sender_chat.id == message.chat.id
        and message.from_user is not None
        and message.from_user.id == GROUP_ANONYMOUS_BOT_ID
    )


async def is_admin(context: BotContext, chat_id: int, user_id: int) -> bool:
    """Asked of Telegram each time: admins change, and a stale answer would let a wrong one in."""
    try:
        member = await context.bot.get_chat_member(chat_id, user_id)
    except TelegramError as exc:
        log.info("getChatMember %s in %s failed: %s", user_id, chat_id, exc)
        return False
    return member.status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)


async def group_admin(message: Message, context: BotContext) -> int | None:
    """Who manages the group through this message (ANY_ADMIN for an anonymous admin), or None
    after telling a non-admin so."""
    if anonymous_admin(message):
        return ANY_ADMIN
    user = message.from_user
    if user is not None and not user.is_bot and await is_admin(context, message.chat.id, user.id):
        return user.id
    await message.reply_text(text(context, "sistem.bukan_admin"))
    return None


async def in_group(update: Update, context: BotContext) -> tuple[Message, Chat] | None:
    """The message and its group; in a private chat the sender is told where this works."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return None
    if not is_group(chat):
        await message.reply_text(text(context, "ui.grup.hanya_di_grup"))
        return None
    return message, chat


async def official(
    update: Update, context: BotContext, *, private_only: str = "ui.petugas.hanya_chat_pribadi"
) -> Actor | None:
    """The registered official behind this update in a private chat, or None after saying why."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return None
    if chat.type != ChatType.PRIVATE:
        # A press is answered, never with a message posted into the group.
        if update.callback_query is not None:
            await _answer_press(update, text(context, private_only))
        elif update.effective_message is not None:
            await update.effective_message.reply_text(text(context, private_only))
        return None
    async with context.services.sessions() as session:
        actor = await find_actor(session, user.id)
    if actor is None:
        refusal = text(context, "ui.petugas.bukan_petugas")
        if update.callback_query is not None:
            await _answer_press(update, refusal)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(refusal)
    return actor


async def _answer_press(update: Update, body: str) -> None:
    assert update.callback_query is not None
    try:
        await update.callback_query.answer(body[:200], show_alert=True)
    except TelegramError as exc:
        log.info("answering a press failed: %s", exc)
