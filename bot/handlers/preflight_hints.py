"""The button under a scheduled pre-flight's report: tell the affected groups' admins what to fix.

Thin: who pressed (an official, with their scope from the database), then
domain.preflight_schedule.send_fix_hints, then the counts as the press's answer and a reply.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot.context import BotContext
from bot.notices import BotNotifier
from bot.ui import callbacks
from bot.ui.callbacks import PREFLIGHT
from bot.ui.views import text
from domain.officials import find_actor
from domain.preflight_schedule import send_fix_hints


async def hints_pressed(update: Update, context: BotContext) -> None:
    """pf:h:<run>: message the registered admins of the run's fixable groups in the scope."""
    query = update.callback_query
    assert query is not None
    press = await PREFLIGHT.parse_or_refuse(update, context, valid=query.from_user is not None)
    if press is None:
        return
    services = context.services
    async with services.sessions() as session:
        actor = await find_actor(session, query.from_user.id)
    if actor is None:
        await callbacks.refuse(update, context, "sistem.preflight_jadwal.bukan_petugas")
        return
    await callbacks.answer(query)
    result = await send_fix_hints(
        services.sessions,
        BotNotifier(context.bot),
        services.profile,
        actor,
        press.number("run"),
        services.clock.now(),
    )
    if result is None:
        reply = text(context, "sistem.preflight_jadwal.tidak_ada_masalah")
    else:
        reply = text(
            context,
            "sistem.preflight_jadwal.petunjuk_terkirim",
            sent=result.sent,
            admins=result.admins,
            not_started=result.not_started,
            no_admin=result.no_admin,
            before=result.before,
        )
    if query.message is not None:
        await context.bot.send_message(query.message.chat.id, reply)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [CallbackQueryHandler(hints_pressed, pattern=PREFLIGHT.pattern)]
