"""Officials' onboarding commands in private chat: /undang (the WhatsApp invitation), /cekgrup.

/cekgrup runs the pre-flight in the background (minutes for thousands of groups, paced to
Telegram's limits) on a Bot of its own, and sends the reach to the official when it is done.
"""

from __future__ import annotations

import asyncio
import html
import logging
import math
from typing import Any
from weakref import WeakKeyDictionary

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import Application, BaseHandler, CommandHandler, filters

from bot.context import BotContext
from bot.http_sender import broadcast_bot
from bot.preflight import BotProber
from bot.ui.views import text as _render  # the one library renderer
from domain import onboarding, preflight
from domain.officials import Actor, find_actor
from domain.reach import reach, reach_text
from scheduler.audience import Audience

log = logging.getLogger(__name__)

# One pre-flight at a time per running bot (/cekgrup and the scheduled one share it), so two
# never read at twice the rate the pacer allows one.
_RUNNING: WeakKeyDictionary[Any, asyncio.Task[Any]] = WeakKeyDictionary()


def running_preflight(application: Any) -> asyncio.Task[Any] | None:
    """The pre-flight this bot is running now, if any."""
    task = _RUNNING.get(application)
    return task if task is not None and not task.done() else None


def mark_preflight(application: Any, task: asyncio.Task[Any]) -> None:
    _RUNNING[application] = task


async def _official(update: Update, context: BotContext) -> Actor | None:
    """The official in a private chat, or None after saying why not."""
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None:
        return None
    if chat.type != ChatType.PRIVATE:
        await message.reply_text(_render(context, "sistem.onboarding.hanya_pribadi"))
        return None
    async with context.services.sessions() as session:
        actor = await find_actor(session, user.id)
    if actor is None:
        await message.reply_text(_render(context, "sistem.onboarding.hanya_petugas"))
    return actor


async def undang(update: Update, context: BotContext) -> None:
    """/undang [kelurahan]: the invitation to forward to WhatsApp groups of RW leaders."""
    actor = await _official(update, context)
    message = update.effective_message
    if actor is None or message is None:
        return
    typed = " ".join(context.args or []).strip()
    place = None
    if typed:
        try:
            async with context.services.sessions() as session:
                place = await onboarding.find_place(session, typed)
        except onboarding.UnknownPlace as exc:
            await message.reply_text(
                "⚠️ "
                + html.escape(str(exc))
                + "\n"
                + _render(context, "sistem.onboarding.undang_petunjuk")
            )
            return
    services = context.services
    text = onboarding.invitation(
        services.profile,
        services.clock.now(),
        context.bot.first_name,
        context.bot.username,
        place,
    )
    await message.reply_text(_render(context, "sistem.onboarding.undang_pengantar"))
    # Plain text, escaped for the HTML default parse mode, so it forwards exactly as written.
    await message.reply_text(html.escape(text, quote=False))


async def cekgrup(update: Update, context: BotContext) -> None:
    """/cekgrup: check every registered group with Telegram; the reach comes when done."""
    actor = await _official(update, context)
    message = update.effective_message
    if actor is None or message is None:
        return
    application = context.application
    running = _RUNNING.get(application)
    if running is not None and not running.done():
        await message.reply_text(_render(context, "sistem.preflight.sedang_berjalan"))
        return
    services = context.services
    async with services.sessions() as session:
        total = len(await preflight.registered_groups(session))
    # Up to two calls a group, at the pre-flight's rate.
    minutes = max(1, math.ceil(total * 2 / preflight.DEFAULT_RATE / 60))
    await message.reply_text(
        _render(context, "sistem.preflight.mulai", total=total, minutes=minutes)
    )
    scope = Audience.of_scope(actor.scope)
    _RUNNING[application] = application.create_task(
        _run_and_report(application, message.chat_id, scope), update=update
    )


async def _run_and_report(
    application: Application[Any, Any, Any, Any, Any, Any], chat_id: int, scope: Audience
) -> None:
    services = application.bot_data.services
    settings = services.settings
    bot = broadcast_bot(
        settings.token, settings.telegram_base_url, settings.base_file_url, preflight.WORKERS
    )
    async with bot:
        await preflight.run_preflight(services.sessions, BotProber(bot), services.clock.now)
    async with services.sessions() as session:
        result = await reach(session, scope)
    text = reach_text(result, services.profile, services.clock.now(), limit=40)
    await application.bot.send_message(chat_id, text)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    new_messages = filters.UpdateType.MESSAGE
    return [
        CommandHandler("undang", undang, filters=new_messages),
        CommandHandler("cekgrup", cekgrup, filters=new_messages),
    ]
