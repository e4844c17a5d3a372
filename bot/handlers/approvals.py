"""Approvals: a broadcast that needs a second official waits for its approval screen's buttons.

The screen goes to every admin who may approve; `/setujui ID` shows it again (it never approves
by itself: the decision is made seeing the exact text, its reach and who created it).

Buttons: callbacks.APPROVAL, `p:ok:<id>` approve, `p:no:<id>` reject.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.context import BotContext
from bot.handlers.officials_admin import record_number, stop_or_cancel
from bot.handlers.siaran_screens import ack_line
from bot.jobs import schedule_broadcast
from bot.ui import callbacks
from bot.ui.callbacks import APPROVAL, refuse
from bot.ui.guards import official
from bot.ui.views import keyboard, local_time, text
from db.models import Broadcast, OfficialRole
from domain.broadcasts import (
    ApprovalScreen,
    DraftRefused,
    approval_screen,
    approve,
    approver_min_age,
)
from domain.inputs import INT32_MAX, parse_callback_int
from domain.officials import Actor, PermissionDenied, find_actor, list_officials
from domain.reach import reach, reach_line
from messages.neutrality import explain
from scheduler.audience import Audience

log = logging.getLogger(__name__)


async def ask_approvers(context: BotContext, broadcast: Broadcast, creator: Actor) -> None:
    """Send the approval screen to every admin who may approve it: the exact text, the guard's
    findings and highlights, the reminder that allusions are their check. Admins the rules
    refuse (the creator, accounts the creator added or proposed, fresh ones) are not asked.
    When nobody could be asked, the creator is told what to do instead."""
    services = context.services
    now = services.clock.now()
    async with services.sessions() as session:
        officials = await list_officials(session)
        screens = []
        for o in officials:
            if o.role != OfficialRole.ADMIN or o.user_id == creator.user_id:
                continue
            actor = await find_actor(session, o.user_id)
            if actor is None:
                continue
            shown = await approval_screen(session, actor, broadcast.id, services.profile, now)
            if shown.refusal is None:
                screens.append((o.user_id, shown))
        reach_text = await _reach_text(context, session, broadcast.audience)
    asked = 0
    for user_id, shown in screens:
        try:
            await send_screen(context, user_id, shown, reach_text)
            asked += 1
        except TelegramError as exc:  # an admin who never started the bot cannot be reached
            log.info("could not ask %s to approve #%s: %s", user_id, broadcast.id, exc)
    if asked:
        return
    key = "ops_petugas.penyetuju_tak_terjangkau" if screens else "ops_petugas.tanpa_penyetuju"
    hours = int(approver_min_age(services.profile).total_seconds() // 3600)
    try:
        await context.bot.send_message(
            creator.user_id, text(context, key, nomor=broadcast.id, jam=hours)
        )
    except TelegramError as exc:
        log.info(
            "could not tell %s that nobody can approve #%s: %s", creator.user_id, broadcast.id, exc
        )


async def _reach_text(context: BotContext, session: AsyncSession, audience: str) -> str:
    """The latest pre-flight's reach of the audience (issue 15), as in the /siaran preview."""
    services = context.services
    return reach_line(
        await reach(session, Audience.parse(audience)), services.profile, services.clock.now()
    )


async def send_screen(
    context: BotContext, chat_id: int, shown: ApprovalScreen, reach_text: str
) -> None:
    """The approval screen: who asks, for whom and when; what to check; the exact text with the
    buttons. The decision is the press, never the command that showed it."""
    header = text(
        context,
        "ui.persetujuan.minta",
        nomor=shown.broadcast_id,
        petugas=shown.created_by or "sistem",
        sasaran=shown.audience_label,
        waktu=local_time(context, shown.scheduled_at) if shown.scheduled_at else "-",
    )
    reach_part = text(context, "ops_petugas.jangkauan", jumlah=shown.recipients)
    if shown.ack_chain:
        reach_part += "\n" + ack_line(context)
    markup = keyboard(
        [
            [
                (
                    text(context, "ui.persetujuan.tombol_setujui"),
                    APPROVAL.build("ok", shown.broadcast_id),
                ),
                (
                    text(context, "ui.persetujuan.tombol_tolak"),
                    APPROVAL.build("no", shown.broadcast_id),
                ),
            ]
        ]
    )
    await context.bot.send_message(chat_id, "\n".join([header, reach_part, reach_text]))
    await context.bot.send_message(chat_id, findings_text(context, shown))
    await context.bot.send_message(chat_id, shown.html, reply_markup=markup)


def findings_text(context: BotContext, shown: ApprovalScreen) -> str:
    """What the approver should look at before deciding, and that allusions are theirs."""
    found = shown.findings
    lines = [text(context, "ui.persetujuan.temuan_judul")]
    if found.findings:
        lines.append(text(context, "ui.alasan", alasan=explain(list(found.findings))))
    for key, values in (
        ("ui.persetujuan.temuan_nama", found.names),
        ("ui.persetujuan.temuan_angka", found.numbers),
        ("ui.persetujuan.temuan_simbol", found.symbols),
        ("ui.persetujuan.temuan_tautan", found.links),
    ):
        if values:
            lines.append(text(context, key, isi=", ".join(values)[:600]))
    if len(lines) == 1:
        lines.append(text(context, "ui.persetujuan.temuan_tidak_ada"))
    lines.append(text(context, "ui.alasan", alasan=shown.note))
    if shown.refusal:
        lines.append(text(context, "ui.persetujuan.tidak_dapat", alasan=shown.refusal))
    return "\n".join(lines)


async def _approve(update: Update, context: BotContext, broadcast_id: int) -> str:
    """Approve and schedule; the outcome in plain text ("" when the user was already told)."""
    actor = await official(update, context)
    if actor is None:
        return ""
    services = context.services
    try:
        async with services.sessions.begin() as session:
            broadcast = await approve(
                session, actor, broadcast_id, services.clock.now(), profile=services.profile
            )
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
    """/setujui ID: show the approval screen; the approval is its button (issue 10)."""
    message = update.effective_message
    if message is None:
        return
    number = await record_number(message, context, "ui.persetujuan.format")
    if number is None:
        return
    actor = await official(update, context)
    if actor is None:
        return
    services = context.services
    try:
        async with services.sessions() as session:
            shown = await approval_screen(
                session, actor, number, services.profile, services.clock.now()
            )
            audience = await session.scalar(
                select(Broadcast.audience).where(Broadcast.id == number)
            )
            reach_text = await _reach_text(context, session, audience or "all")
    except (DraftRefused, PermissionDenied) as exc:
        await message.reply_text(text(context, "ui.alasan", alasan=str(exc)))
        return
    if shown.refusal is not None:
        await message.reply_text(text(context, "ui.alasan", alasan=shown.refusal))
        return
    await send_screen(context, message.chat_id, shown, reach_text)


async def approval_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    press = APPROVAL.parse(query.data)
    broadcast_id = parse_callback_int(press["broadcast"]) if press else None
    if press is None or broadcast_id is None or not 0 < broadcast_id <= INT32_MAX:
        await refuse(update, context, "otoritas.tombol.tidak_berlaku", alert=False)
        return
    if press["verb"] == "ok":
        outcome = await _approve(update, context, broadcast_id)
    else:
        outcome = await stop_or_cancel(update, context, broadcast_id, rejected=True)
    if outcome:
        await callbacks.answer(query, outcome, alert=True)
        if query.message is not None:
            try:
                await query.edit_message_reply_markup(None)
            except TelegramError as exc:  # pressed twice: "message is not modified"
                log.info("removing approval buttons failed: %s", exc)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [
        CommandHandler("setujui", setujui),
        CallbackQueryHandler(approval_button, pattern=APPROVAL.pattern),
    ]
