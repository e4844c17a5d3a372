"""/privasi and /hapusdata: what the bot keeps about a person and deleting it (UU 27/2022),
and the daily job that deletes personal data once the retention period is over.

The rules live in domain/privacy.py (PERSONAL_DATA, retention_cutoff, erase_person); this
module only reads the update, asks for confirmation and replies.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import Application, BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.context import BotContext
from bot.services import Services
from bot.ui import callbacks
from domain.officials import find_actor
from domain.privacy import PERSONAL_DATA, erase_person, held_about, purge_expired
from messages.context import format_day
from messages.render import render

log = logging.getLogger(__name__)

JOB_ID = "privacy-retention"
NEW_MESSAGES = filters.UpdateType.MESSAGE


def _render(services: Services, key: str, **extra: object) -> str:
    return render(key, services.profile, services.clock.now(), extra=extra or None)


def privacy_text(services: Services) -> str:
    profile = services.profile
    days = services.settings.retention_days
    return _render(
        services,
        "sistem.privasi.info",
        pengendali=profile.privacy.controller
        or _render(services, "sistem.privasi.pengendali_bawaan"),
        kontak=profile.privacy.contact or _render(services, "sistem.privasi.kontak_bawaan"),
        hari_simpan=str(days),
        batas_simpan=format_day(profile.election_day + timedelta(days=days)),
    )


async def privasi(update: Update, context: BotContext) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text(privacy_text(context.services))


async def hapusdata(update: Update, context: BotContext) -> None:
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None:
        return
    services = context.services
    if chat.type != "private":
        await message.reply_text(_render(services, "sistem.privasi.di_grup"))
        return
    async with services.sessions() as session:
        counts = await held_about(session, user.id)
    lines = [f"• {item.label}: {counts[item.name]}" for item in PERSONAL_DATA if counts[item.name]]
    if context.user_data:
        lines.append(_render(services, "sistem.privasi.langkah_terbuka"))
    if not lines:
        await message.reply_text(_render(services, "sistem.privasi.hapus_kosong"))
        return
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    _render(services, "sistem.privasi.tombol_hapus"),
                    callback_data=callbacks.ERASE.build("ya"),
                ),
                InlineKeyboardButton(
                    _render(services, "sistem.privasi.tombol_batal"),
                    callback_data=callbacks.ERASE.build("batal"),
                ),
            ]
        ]
    )
    await message.reply_text(
        _render(services, "sistem.privasi.hapus_tanya", rincian="\n".join(lines)),
        reply_markup=keyboard,
    )


async def hapusdata_button(update: Update, context: BotContext) -> None:
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    services = context.services
    message = query.message
    # Only in the person's own private chat (the chat id is then their user id), and only the
    # two answers this button carries: anything else erases nothing.
    own_chat = message is not None and message.chat.id == user.id
    press = await callbacks.ERASE.parse_or_refuse(update, context, valid=own_chat)
    if press is None:
        return
    if press["answer"] == "batal":
        await query.answer()
        await query.edit_message_text(_render(services, "sistem.privasi.hapus_batal"))
        return
    now = services.clock.now()
    async with services.sessions.begin() as session:
        deleted = await erase_person(session, user.id, now)
        official = await find_actor(session, user.id)
    if context.user_data:
        context.user_data.clear()
    log.info("privacy: a person erased their data (%s)", deleted)
    text = _render(services, "sistem.privasi.hapus_selesai", jumlah=str(sum(deleted.values())))
    if official is not None:
        text += "\n\n" + _render(services, "sistem.privasi.petugas")
    await query.answer()
    try:
        await query.edit_message_text(text)
    except TelegramError as exc:  # the message is too old to edit: say it anew
        log.info("privacy: confirmation not edited: %s", exc)
        await context.bot.send_message(user.id, text)


async def retention_job(context: BotContext) -> None:
    """Daily: once RETENTION_DAYS after election day have passed, delete personal data."""
    services = context.services
    async with services.sessions.begin() as session:
        deleted = await purge_expired(
            session, services.profile, services.settings.retention_days, services.clock.now()
        )
    if any(deleted.values()):
        log.info("retention: deleted personal data past its period: %s", deleted)
    else:
        log.debug("retention: nothing to delete")


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [
        CommandHandler("privasi", privasi, filters=NEW_MESSAGES),
        CommandHandler("hapusdata", hapusdata, filters=NEW_MESSAGES),
        CallbackQueryHandler(hapusdata_button, pattern=callbacks.ERASE.pattern),
    ]


def install(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """The commands, and the daily retention job (first run a minute after start)."""
    application.add_handlers(handlers())
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            retention_job,
            interval=timedelta(days=1),
            first=timedelta(minutes=1),
            name=JOB_ID,
            job_kwargs={"id": JOB_ID, "replace_existing": True},
        )
