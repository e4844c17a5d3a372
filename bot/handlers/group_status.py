"""A group's standing: /status for anyone in it, /berhenti for its admins."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from bot.context import BotContext
from bot.handlers.registration_flow import data, open_flow
from bot.ui.guards import NEW_MESSAGES, flood_limited, group_admin, in_group
from bot.ui.views import keyboard, text
from domain import subscriptions
from messages.context import format_day


@flood_limited
async def status(update: Update, context: BotContext) -> None:
    """/status: the group's registration, for anyone in the group."""
    found = await in_group(update, context)
    if found is None:
        return
    message, chat = found
    async with context.services.sessions() as session:
        state = await subscriptions.group_status(session, chat.id)
    await message.reply_text(status_text(context, state))


def status_text(context: BotContext, state: subscriptions.GroupStatus | None) -> str:
    if state is None or state.registration is None:
        return text(context, "ui.grup.belum_terdaftar")
    described = subscriptions.describe(state.registration, state.where)
    if not state.subscribed:
        return text(context, "ui.grup.tidak_menerima", wilayah=described)
    body = text(context, "ui.grup.terdaftar", wilayah=described)
    if state.subscribed_at is not None:
        local = state.subscribed_at.astimezone(context.services.profile.tz)
        body += "\n" + text(context, "ui.grup.terdaftar_sejak", tanggal=format_day(local.date()))
    return body + "\n" + text(context, "ui.grup.ubah_atau_berhenti")


@flood_limited
async def berhenti(update: Update, context: BotContext) -> None:
    """/berhenti (admins): stop broadcasts to the group, after confirmation."""
    found = await in_group(update, context)
    if found is None:
        return
    message, chat = found
    owner = await group_admin(message, context)
    if owner is None:
        return
    async with context.services.sessions() as session:
        state = await subscriptions.group_status(session, chat.id)
    if state is None or not state.subscribed:
        await message.reply_text(text(context, "ui.grup.tidak_ada_yang_dihentikan"))
        return
    # The confirmation is a step of the group's registration flow: it replaces an open /daftar.
    flow = await open_flow(context, chat.id, owner, step="stop")
    described = (
        subscriptions.describe(state.registration, state.where) if state.registration else ""
    )
    await message.reply_text(
        text(context, "ui.grup.hentikan", wilayah=described),
        reply_markup=keyboard(
            [
                [
                    (text(context, "ui.grup.tombol_ya_berhenti"), data(flow, "stop")),
                    (text(context, "ui.grup.tombol_batal"), data(flow, "x")),
                ]
            ]
        ),
    )


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [
        CommandHandler("status", status, filters=NEW_MESSAGES),
        CommandHandler("berhenti", berhenti, filters=NEW_MESSAGES),
    ]
