"""Residents' questions: the /start menu, the topic commands, and answers in their own words.

Menu buttons: callbacks.MENU, `r:<intent>`. The TPS lookup itself is bot.handlers.tps_lookup.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import BotContext
from bot.handlers.tps_lookup import start_tps_lookup
from bot.ui import callbacks
from bot.ui.callbacks import MENU as MENU_BUTTON
from bot.ui.callbacks import refuse
from bot.ui.guards import GROUPS, NEW_MESSAGES, PRIVATE, Callback, flood_limited
from bot.ui.views import Rows, add_to_group_button, bot_link, in_rows, keyboard, text
from domain import tps
from domain.answers import MENU, answer, looks_like_nik
from domain.intents import Intent, classify

log = logging.getLogger(__name__)


def menu_markup(context: BotContext, *, with_group_link: bool = False) -> InlineKeyboardMarkup:
    rows: Rows = in_rows([(label, MENU_BUTTON.build(intent.value)) for label, intent in MENU], 2)
    if with_group_link:
        rows.append([add_to_group_button(context)])
    return keyboard(rows)


async def send_answer(message: Message, context: BotContext, intent: Intent) -> None:
    """Reply with the library answer for `intent`, said relative to now."""
    services = context.services
    private = message.chat.type == ChatType.PRIVATE
    registry = False
    if intent is Intent.TPS:
        async with services.sessions() as session:
            registry = await tps.has_registry(session)
    if intent is Intent.TPS and registry and private:
        await start_tps_lookup(message, context)
        return
    reply = answer(intent, services.profile, services.clock.now(), has_tps_registry=registry)
    markup: InlineKeyboardMarkup | None = None
    if reply.show_menu and private:
        markup = menu_markup(context, with_group_link=intent is Intent.BANTUAN)
    elif intent is Intent.TPS and registry:
        link = InlineKeyboardButton(
            text(context, "ui.tps.tombol_cari"), url=bot_link(context, start="tps")
        )
        markup = keyboard([[link]])
    await message.reply_text(reply.html, reply_markup=markup)


@flood_limited
async def start(update: Update, context: BotContext) -> None:
    """/start in a private chat: the menu (or a deep link's payload: tps, daftar)."""
    message = update.effective_message
    if message is None:
        return
    payload = (context.args or [""])[0].lower()
    if payload == "tps":
        await send_answer(message, context, Intent.TPS)
        return
    if payload == "daftar":
        await message.reply_text(
            text(context, "sistem.grup.daftar_di_grup"),
            reply_markup=keyboard([[add_to_group_button(context)]]),
        )
        return
    await message.reply_text(
        text(context, "warga.sambutan"), reply_markup=menu_markup(context, with_group_link=True)
    )


def _command(intent: Intent) -> Callback:
    @flood_limited
    async def command(update: Update, context: BotContext) -> None:
        if update.effective_message is not None:
            await send_answer(update.effective_message, context, intent)

    command.__name__ = f"command_{intent.value}"
    return command


@flood_limited
async def bantuan(update: Update, context: BotContext) -> None:
    """/bantuan: what the bot does, in a private chat with the menu, in a group its commands."""
    message = update.effective_message
    if message is None:
        return
    if message.chat.type == ChatType.PRIVATE:
        await send_answer(message, context, Intent.BANTUAN)
    else:
        await message.reply_text(text(context, "sistem.grup.bantuan"))


@flood_limited
async def menu_button(update: Update, context: BotContext) -> None:
    """r:<intent>: a menu button; the answer comes as a new message so the menu stays."""
    query = update.callback_query
    assert query is not None
    press = MENU_BUTTON.parse(query.data)
    intent = Intent._value2member_map_.get(press["intent"]) if press else None
    private = query.message is not None and query.message.chat.type == ChatType.PRIVATE
    # The menu lives in private chats: a press in a group never posts into the group.
    if not isinstance(intent, Intent) or not isinstance(query.message, Message) or not private:
        await refuse(update, context, MENU_BUTTON.unknown, alert=False)
        return
    await callbacks.answer(query)
    await send_answer(query.message, context, intent)


@flood_limited
async def free_text(update: Update, context: BotContext) -> None:
    """A question in a private chat, in the resident's own words."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    if looks_like_nik(message.text):
        await _refuse_nik(message, context)
        return
    intent = classify(message.text).intent
    if intent is Intent.UNKNOWN:  # the bot does not know: offer the menu and an official
        from bot.handlers.questions import offer  # here: that module imports this one

        await offer(message, context)
        return
    await send_answer(message, context, intent)


async def _refuse_nik(message: Message, context: BotContext) -> None:
    """Never keep a NIK: the message is deleted when Telegram allows it, and never logged."""
    body = text(context, "warga.nik")
    try:
        await message.delete()
        body += "\n" + text(context, "ui.warga.nik_dihapus")
    except TelegramError:
        log.info("could not delete a message that looked like a NIK")
    await message.chat.send_message(body)


# What a group member may ask by replying to the bot; greetings, thanks and anything unclear
# get no answer there, so a "terima kasih" under a broadcast does not start a conversation.
GROUP_REPLY_INTENTS = frozenset(Intent) - {Intent.BANTUAN, Intent.TERIMA_KASIH, Intent.UNKNOWN}


@flood_limited
async def group_reply(update: Update, context: BotContext) -> None:
    """Text replying to the bot in a group (privacy mode shows the bot only those)."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    reply_to = message.reply_to_message
    if reply_to is None or reply_to.from_user is None or reply_to.from_user.id != context.bot.id:
        return
    if looks_like_nik(message.text):
        await _refuse_nik(message, context)
        return
    intent = classify(message.text).intent
    if intent in GROUP_REPLY_INTENTS:
        await send_answer(message, context, intent)


@flood_limited
async def unknown_command(update: Update, context: BotContext) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text(
            text(context, "ui.warga.perintah_tidak_dikenal"), reply_markup=menu_markup(context)
        )


@flood_limited
async def not_text(update: Update, context: BotContext) -> None:
    """Stickers, photos, voice notes, locations... in a private chat: say what works."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(
            text(context, "warga.bukan_teks"), reply_markup=menu_markup(context)
        )


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The menu and topic commands; `catch_all` goes after every other module's handlers."""
    return [
        CommandHandler("start", start, filters=PRIVATE & NEW_MESSAGES),
        CommandHandler("kapan", _command(Intent.KAPAN), filters=NEW_MESSAGES),
        CommandHandler("tps", _command(Intent.TPS), filters=NEW_MESSAGES),
        CommandHandler("syarat", _command(Intent.SYARAT), filters=NEW_MESSAGES),
        CommandHandler("bantuan", bantuan, filters=NEW_MESSAGES),
        CallbackQueryHandler(menu_button, pattern=MENU_BUTTON.pattern),
    ]


def catch_all() -> list[BaseHandler[Any, Any, Any]]:
    """Every other private message, so nothing a resident sends goes unanswered."""
    private_new = PRIVATE & NEW_MESSAGES
    return [
        MessageHandler(private_new & filters.TEXT & ~filters.COMMAND, free_text),
        MessageHandler(
            GROUPS & NEW_MESSAGES & filters.REPLY & filters.TEXT & ~filters.COMMAND, group_reply
        ),
        MessageHandler(private_new & filters.COMMAND, unknown_command),
        MessageHandler(private_new & ~filters.TEXT & ~filters.StatusUpdate.ALL, not_text),
    ]
