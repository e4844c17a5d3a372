"""/eskalasi ID: an admin makes one broadcast require acknowledgement with the profile's chain.

Thin: the official and the number, then domain.escalation.require_acknowledgement; the chain's
jobs follow from the database (bot/escalation_jobs.py) once the broadcast has gone out.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from bot.context import BotContext
from bot.handlers.officials_admin import record_number
from bot.ui.guards import NEW_MESSAGES, official
from bot.ui.views import text
from domain import escalation


async def eskalasi(update: Update, context: BotContext) -> None:
    """/eskalasi ID: the silent groups of broadcast ID get the chain's steps."""
    actor = await official(update, context)
    message = update.effective_message
    if actor is None or message is None:
        return
    broadcast_id = await record_number(message, context, "sistem.eskalasi.cara")
    if broadcast_id is None:
        return
    services = context.services
    now = services.clock.now()
    try:
        async with services.sessions.begin() as session:
            await escalation.require_acknowledgement(
                session, actor, broadcast_id, services.profile, now
            )
    except escalation.EscalationRefused as refused:
        await message.reply_text(text(context, refused.key, **refused.params))
        return
    steps = escalation.chain_text(services.profile, now)
    await message.reply_text(
        text(context, "sistem.eskalasi.diwajibkan", broadcast_id=broadcast_id, langkah=steps)
    )


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [CommandHandler("eskalasi", eskalasi, filters=NEW_MESSAGES)]
