"""Approvals: a broadcast that needs a second official waits for /setujui or the buttons.

Buttons: callbacks.APPROVAL, `p:ok:<id>` approve, `p:no:<id>` reject.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.context import BotContext
from bot.handlers.officials_admin import broadcast_number, stop_or_cancel
from bot.jobs import schedule_broadcast
from bot.notify import render_broadcast
from bot.ui import callbacks
from bot.ui.callbacks import APPROVAL, refuse
from bot.ui.guards import official
from bot.ui.views import keyboard, local_time, text
from db.models import Broadcast, OfficialRole
from domain.broadcasts import DraftRefused, approve
from domain.officials import Actor, PermissionDenied, list_officials

log = logging.getLogger(__name__)


async def ask_approvers(context: BotContext, broadcast: Broadcast, creator: Actor) -> None:
    """Send the draft to every admin who may approve it (not its creator; same scope)."""
    services = context.services
    async with services.sessions() as session:
        officials = await list_officials(session)
    admins = [
        o
        for o in officials
        if o.role == OfficialRole.ADMIN
        and o.user_id != creator.user_id
        and (creator.citywide or o.kecamatan_code in (None, creator.kecamatan_code))
    ]
    header = text(
        context,
        "ui.persetujuan.minta",
        nomor=broadcast.id,
        petugas=creator.user_id,
        sasaran=broadcast.audience,
        waktu=local_time(context, broadcast.scheduled_at),
    )
    body = broadcast.text or ""
    if not body and broadcast.message_key:
        body = render_broadcast(broadcast, services.profile, services.clock)
    markup = keyboard(
        [
            [
                (
                    text(context, "ui.persetujuan.tombol_setujui"),
                    APPROVAL.build("ok", broadcast.id),
                ),
                (text(context, "ui.persetujuan.tombol_tolak"), APPROVAL.build("no", broadcast.id)),
            ]
        ]
    )
    for admin in admins:
        try:
            await context.bot.send_message(admin.user_id, header)
            await context.bot.send_message(admin.user_id, body, reply_markup=markup)
        except TelegramError as exc:  # an admin who never started the bot cannot be reached
            log.info("could not ask %s to approve #%s: %s", admin.user_id, broadcast.id, exc)


async def _approve(update: Update, context: BotContext, broadcast_id: int) -> str:
    """Approve and schedule; the outcome in plain text ("" when the user was already told)."""
    actor = await official(update, context)
    if actor is None:
        return ""
    services = context.services
    try:
        async with services.sessions.begin() as session:
            broadcast = await approve(session, actor, broadcast_id, services.clock.now())
    except (DraftRefused, PermissionDenied) as exc:
        return str(exc)
    assert context.job_queue is not None
    schedule_broadcast(context.job_queue, broadcast)
    when = local_time(context, broadcast.scheduled_at)
    if broadcast.created_by:
        try:
            await context.bot.send_message(
                broadcast.created_by,
                text(
                    context,
                    "ui.persetujuan.disetujui_untuk_pembuat",
                    nomor=broadcast.id,
                    waktu=when,
                ),
            )
        except TelegramError as exc:
            log.info("could not tell %s: %s", broadcast.created_by, exc)
    return text(context, "ui.persetujuan.disetujui", nomor=broadcast.id, waktu=when)


async def setujui(update: Update, context: BotContext) -> None:
    """/setujui ID"""
    message = update.effective_message
    assert message is not None
    number = broadcast_number(context)
    if number is None:
        await message.reply_text(text(context, "ui.persetujuan.format"))
        return
    outcome = await _approve(update, context, number)
    if outcome:
        await message.reply_text(text(context, "ui.alasan", alasan=outcome))


async def approval_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    press = APPROVAL.parse(query.data)
    if press is None:
        await refuse(update, context, APPROVAL.unknown, alert=False)
        return
    broadcast_id = press.number("broadcast")
    if press["verb"] == "ok":
        outcome = await _approve(update, context, broadcast_id)
    else:
        outcome = await stop_or_cancel(update, context, broadcast_id, rejected=True)
    if outcome:
        await callbacks.answer(query, outcome, alert=True)
        if query.message is not None:
            await query.edit_message_reply_markup(None)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [
        CommandHandler("setujui", setujui),
        CallbackQueryHandler(approval_button, pattern=APPROVAL.pattern),
    ]
