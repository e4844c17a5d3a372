"""Membership events: the bot arriving in a group, leaving it, the group becoming a supergroup."""

from __future__ import annotations

import logging
from typing import Any

from telegram import ChatMember, ChatMemberUpdated, Update
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import BaseHandler, ChatMemberHandler, MessageHandler, filters

from bot.context import BotContext
from bot.handlers.registration_flow import data, open_flow
from bot.ui.guards import ANY_ADMIN, GROUP_ANONYMOUS_BOT_ID, is_group
from bot.ui.views import keyboard, text
from domain import flows, subscriptions

log = logging.getLogger(__name__)


def _present(member: ChatMember) -> bool:
    if member.status in (
        ChatMemberStatus.OWNER,
        ChatMemberStatus.ADMINISTRATOR,
        ChatMemberStatus.MEMBER,
    ):
        return True
    return member.status == ChatMemberStatus.RESTRICTED and bool(
        getattr(member, "is_member", False)
    )


async def membership(update: Update, context: BotContext) -> None:
    """my_chat_member: added (greet once, or ask to keep the old registration) or removed."""
    change: ChatMemberUpdated | None = update.my_chat_member
    if change is None or not is_group(change.chat):
        return  # private chats (blocking the bot) and channels are not groups
    chat = change.chat
    was, now_in = _present(change.old_chat_member), _present(change.new_chat_member)
    actor = change.from_user.id if change.from_user else None
    services = context.services
    now = services.clock.now()
    if was and not now_in:
        reason = "kicked" if change.new_chat_member.status == ChatMemberStatus.BANNED else "left"
        async with services.sessions.begin() as session:
            await subscriptions.bot_left(session, chat.id, reason, actor, now)
            await flows.end_all_in(session, chat.id)
        return
    if now_in and not was:
        async with services.sessions.begin() as session:
            arrival = await subscriptions.bot_joined(
                session, chat.id, chat.title, chat.type, actor, now
            )
            described = (
                await subscriptions.describe_in(session, arrival.previous)
                if arrival.previous
                else ""
            )
        flow = await open_flow(context, chat.id, ANY_ADMIN)
        if arrival.previous is not None:
            body = (
                text(context, "sistem.grup.sapaan_kembali")
                + "\n\n"
                + text(context, "ui.daftar.pendaftaran_sebelumnya", wilayah=described)
            )
            markup = keyboard(
                [
                    [
                        (text(context, "ui.daftar.tombol_tetap_pakai"), data(flow, "keep")),
                        (text(context, "ui.tombol.ubah"), data(flow, "k")),
                    ]
                ]
            )
        else:
            body = text(context, "sistem.sapaan_grup")
            markup = keyboard([[(text(context, "ui.daftar.tombol_daftarkan"), data(flow, "k"))]])
        try:
            await context.bot.send_message(chat.id, body, reply_markup=markup)
        except TelegramError as exc:  # e.g. added without the right to send messages
            log.info("could not greet %s: %s", chat.id, exc)


async def migrated(update: Update, context: BotContext) -> None:
    """A group upgraded to a supergroup: both service messages lead to the same single move."""
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id:
        old, new = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old, new = message.migrate_from_chat_id, message.chat.id
    else:
        return
    user = message.from_user
    actor = user.id if user is not None and user.id != GROUP_ANONYMOUS_BOT_ID else None
    services = context.services
    async with services.sessions.begin() as session:
        await subscriptions.migrate(session, old, new, actor, services.clock.now())


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [
        ChatMemberHandler(membership, ChatMemberHandler.MY_CHAT_MEMBER),
        MessageHandler(filters.StatusUpdate.MIGRATE, migrated),
    ]
