"""Officials' reports in a private chat: /laporan, /belum and the nudge to groups that have not
acknowledged a broadcast.

Buttons carry everything they need (callbacks.REPORT, `l:<what>[:<broadcast id>]`); who may
see or do what is checked again on every press. An operator limited to a kecamatan sees only
that kecamatan.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.charts import report_chart
from bot.context import BotContext
from bot.ui import callbacks
from bot.ui.callbacks import REPORT, refuse
from bot.ui.guards import NEW_MESSAGES, official
from bot.ui.views import Rows, keyboard, reason, text
from domain import escalation
from domain.checkin_counts import checkin_totals
from domain.inputs import INT32_MAX, InvalidNumber, parse_callback_int, parse_record_id
from domain.nudges import NudgeAlreadySent, NudgeRefused, create_nudge
from domain.officials import Actor, PermissionDenied
from domain.report_groups import group_lines, report_csv
from domain.report_text import broadcast_line, recent_text, report_text, unacknowledged_text
from domain.reports import ReportError, broadcast_report, recent_broadcasts

log = logging.getLogger(__name__)

PRIVATE_ONLY = "ui.laporan.hanya_chat_pribadi"


def _broadcast_arg(context: BotContext) -> tuple[str | None, int | None]:
    """(refusal, id): no argument means the latest broadcast; a refusal says what was wrong."""
    args = context.args or []
    if not args:
        return None, None
    try:
        return None, parse_record_id(" ".join(args))
    except InvalidNumber as exc:
        return str(exc), None


def _target(args: tuple[str, ...]) -> int | None:
    """The broadcast id a report button carries; None for forged or stale data."""
    value = parse_callback_int(args[0]) if len(args) == 1 else None
    return value if value is not None and 0 < value <= INT32_MAX else None


# -- /laporan --------------------------------------------------------------------------------


async def laporan(update: Update, context: BotContext) -> None:
    """The report of the latest broadcast, or `/laporan 12`, or `/laporan daftar`."""
    actor = await official(update, context, private_only=PRIVATE_ONLY)
    message = update.effective_message
    if actor is None or message is None:
        return
    if context.args and context.args[0].lower() in ("daftar", "list"):
        await _send_recent(message.chat_id, context, actor)
        return
    refusal, broadcast_id = _broadcast_arg(context)
    if refusal is not None:
        await message.reply_text(reason(context, refusal, then="ui.laporan.nomor_salah"))
        return
    await _send_report(message.chat_id, context, actor, broadcast_id)


async def _send_recent(chat_id: int, context: BotContext, actor: Actor) -> None:
    profile = context.services.profile
    async with context.services.sessions() as session:
        recent = await recent_broadcasts(session, actor.scope)
    rows: Rows = [[(broadcast_line(b, profile)[:60], REPORT.build("r", b.id))] for b in recent]
    await context.bot.send_message(
        chat_id, recent_text(recent, profile), reply_markup=keyboard(rows) if rows else None
    )


async def _send_report(
    chat_id: int, context: BotContext, actor: Actor, broadcast_id: int | None
) -> None:
    """Text, then the chart (sendPhoto), then one CSV row per group (sendDocument)."""
    services = context.services
    profile = services.profile
    try:
        async with services.sessions() as session:
            report = await broadcast_report(session, broadcast_id, actor.scope)
            lines = await group_lines(session, report.broadcast.id, actor.scope)
            checkin = await checkin_totals(session, report.broadcast.id, actor.scope)
    except ReportError as exc:
        await context.bot.send_message(chat_id, str(exc))
        return
    bid = report.broadcast.id
    rows: Rows = [
        [
            (text(context, "ui.laporan.tombol_belum"), REPORT.build("b", bid)),
            (text(context, "ui.laporan.tombol_siaran_lain"), REPORT.build("d")),
        ]
    ]
    body = report_text(report, profile)
    if checkin is not None:  # a check-in: its answers beside delivery and reading
        body += "\n\n" + text(
            context,
            "checkin.rekap",
            rincian=", ".join(f"{label} {n}" for label, n in checkin.answers),
            tanpa=checkin.unanswered,
            warga=", ".join(f"{label} {n}" for label, n in checkin.members),
        )
    await context.bot.send_message(chat_id, body, reply_markup=keyboard(rows))
    if report.total.targeted == 0:
        return
    # Drawing takes a few hundred milliseconds: not on the event loop that answers presses.
    png = await asyncio.to_thread(report_chart, report)
    await context.bot.send_photo(
        chat_id,
        photo=png,
        filename=f"laporan-siaran-{bid}.png",
        caption=text(context, "ui.laporan.keterangan_grafik", nomor=bid),
    )
    await context.bot.send_document(
        chat_id,
        document=report_csv(lines, profile.tz, profile.timezone_label),
        filename=f"laporan-siaran-{bid}.csv",
        caption=text(context, "ui.laporan.keterangan_csv", nomor=bid, jumlah=len(lines)),
    )


# -- /belum and the nudge --------------------------------------------------------------------


async def belum(update: Update, context: BotContext) -> None:
    """The groups that have not acknowledged a broadcast, by kelurahan, with the nudge."""
    actor = await official(update, context, private_only=PRIVATE_ONLY)
    message = update.effective_message
    if actor is None or message is None:
        return
    refusal, broadcast_id = _broadcast_arg(context)
    if refusal is not None:
        await message.reply_text(reason(context, refusal, then="ui.laporan.nomor_salah_belum"))
        return
    await _send_unacknowledged(message.chat_id, context, actor, broadcast_id)


async def _send_unacknowledged(
    chat_id: int, context: BotContext, actor: Actor, broadcast_id: int | None
) -> None:
    services = context.services
    try:
        async with services.sessions() as session:
            report = await broadcast_report(session, broadcast_id, actor.scope)
            lines = await group_lines(
                session, report.broadcast.id, actor.scope, unacknowledged_only=True
            )
            chain = await escalation.summary(
                session, report.broadcast.id, services.profile, services.clock.now(), actor.scope
            )
    except ReportError as exc:
        await context.bot.send_message(chat_id, str(exc))
        return
    body = unacknowledged_text(report, lines, services.profile)
    if chain:  # the acknowledgement chain's steps so far (domain.escalation)
        body += "\n\n" + chain
    bid = report.broadcast.id
    rows: Rows = []
    if lines and actor.is_admin:
        label = text(context, "ui.laporan.tombol_pengingat", jumlah=len(lines))
        rows.append([(label, REPORT.build("n", bid))])
    elif lines:
        body += "\n\n" + text(context, "ui.laporan.pengingat_hanya_admin")
    rows.append([(text(context, "ui.laporan.tombol_laporan"), REPORT.build("r", bid))])
    await context.bot.send_message(chat_id, body, reply_markup=keyboard(rows))


async def _nudge(
    update: Update, context: BotContext, actor: Actor, broadcast_id: int, again: bool
) -> None:
    """Create the follow-up and send it in the background through the broadcast engine."""
    services = context.services
    query = update.callback_query
    assert query is not None and query.message is not None
    chat_id = query.message.chat.id
    now = services.clock.now()
    try:
        async with services.sessions.begin() as session:
            nudge, recipients = await create_nudge(
                session, actor, broadcast_id, services.profile, now, again=again
            )
    except NudgeAlreadySent as exc:
        if not exc.recipients:
            await context.bot.send_message(chat_id, str(exc))
            return
        rows: Rows = [
            [(text(context, "ui.laporan.tombol_kirim_lagi"), REPORT.build("n!", broadcast_id))]
        ]
        await context.bot.send_message(
            chat_id,
            str(exc) + "\n" + text(context, "ui.laporan.kirim_lagi_tanya"),
            reply_markup=keyboard(rows),
        )
        return
    except (NudgeRefused, PermissionDenied) as exc:
        await context.bot.send_message(chat_id, str(exc))
        return
    context.application.create_task(services.broadcasts.run(nudge.id), name=f"follow-up:{nudge.id}")
    await context.bot.send_message(
        chat_id,
        text(
            context,
            "ui.laporan.pengingat_dikirim",
            nomor=nudge.id,
            jumlah=recipients,
            siaran=broadcast_id,
        ),
    )


async def report_button(update: Update, context: BotContext) -> None:
    """l:r:<id> report · l:d list · l:b:<id> not acknowledged · l:n[!]:<id> nudge."""
    query = update.callback_query
    if query is None:
        return
    if query.message is None:
        await refuse(update, context, REPORT.unknown, alert=False)
        return
    actor = await official(update, context, private_only=PRIVATE_ONLY)
    if actor is None:
        return
    press = REPORT.parse(query.data)
    what = press["step"] if press else ""
    args = press.args if press else ()
    target = _target(args)
    chat_id = query.message.chat.id
    if what == "d" and not args:
        await callbacks.answer(query)
        await _send_recent(chat_id, context, actor)
    elif what == "r" and target is not None:
        await callbacks.answer(query, text(context, "ui.laporan.menyiapkan"))
        await _send_report(chat_id, context, actor, target)
    elif what == "b" and target is not None:
        await callbacks.answer(query)
        await _send_unacknowledged(chat_id, context, actor, target)
    elif what in ("n", "n!") and target is not None:
        if not actor.is_admin:
            await refuse(update, context, "ui.laporan.pengingat_hanya_admin_singkat")
            return
        await callbacks.answer(query)
        await _nudge(update, context, actor, target, again=what == "n!")
    else:
        await refuse(update, context, REPORT.unknown, alert=False)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [
        CommandHandler("laporan", laporan, filters=NEW_MESSAGES),
        CommandHandler("belum", belum, filters=NEW_MESSAGES),
        CallbackQueryHandler(report_button, pattern=REPORT.pattern),
    ]
