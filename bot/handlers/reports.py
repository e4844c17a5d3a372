"""Officials' reports in a private chat: /laporan, /belum (and the nudge), /cakupan.

Buttons carry everything they need (`l:<what>:<broadcast id>`); who may see or do what is
checked again on every press. An operator limited to a kecamatan sees only that kecamatan.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.charts import report_chart
from bot.context import BotContext
from domain.coverage import (
    MAX_BYTES,
    ListRejected,
    coverage,
    coverage_csv,
    decode,
    import_list,
    parse_list,
)
from domain.nudges import NudgeAlreadySent, NudgeRefused, create_nudge
from domain.officials import Actor, PermissionDenied, find_actor
from domain.regions import match_kelurahan, read_regions
from domain.report_text import (
    broadcast_line,
    coverage_detail,
    coverage_text,
    recent_text,
    report_text,
    unacknowledged_text,
)
from domain.reports import (
    ReportError,
    broadcast_report,
    group_lines,
    recent_broadcasts,
    report_csv,
    scope_name,
)
from messages.telegram_html import escape

log = logging.getLogger(__name__)

NOT_OFFICIAL = (
    "Perintah ini hanya untuk petugas Pemkot yang terdaftar. "
    "Bila Anda petugas, minta admin menambahkan Anda dengan /petugas."
)
PRIVATE_ONLY = "Laporan hanya dapat dibuka di chat pribadi dengan bot."
BAD_NUMBER = "Nomor siaran harus angka, mis. /laporan 12. Tanpa nomor: siaran terakhir."
CAPTION = r"^/cakupan(@\w+)?(\s|$)"


def _kb(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


async def _official(update: Update, context: BotContext) -> Actor | None:
    """The official behind the update, in a private chat; otherwise say why not, and None."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return None
    if chat.type != ChatType.PRIVATE:
        if update.effective_message is not None:
            await update.effective_message.reply_text(PRIVATE_ONLY)
        return None
    async with context.services.sessions() as session:
        actor = await find_actor(session, user.id)
    if actor is None:
        if update.callback_query is not None:
            await update.callback_query.answer(NOT_OFFICIAL, show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(NOT_OFFICIAL)
    return actor


def _broadcast_arg(context: BotContext) -> tuple[bool, int | None]:
    """(ok, id): no argument means the latest broadcast."""
    args = context.args or []
    if not args:
        return True, None
    value = args[0].lstrip("#")
    return (True, int(value)) if value.isdigit() else (False, None)


# -- /laporan --------------------------------------------------------------------------------


async def laporan(update: Update, context: BotContext) -> None:
    """The report of the latest broadcast, or `/laporan 12`, or `/laporan daftar`."""
    actor = await _official(update, context)
    message = update.effective_message
    if actor is None or message is None:
        return
    if context.args and context.args[0].lower() in ("daftar", "list"):
        await _send_recent(message.chat_id, context, actor)
        return
    ok, broadcast_id = _broadcast_arg(context)
    if not ok:
        await message.reply_text(BAD_NUMBER)
        return
    await _send_report(message.chat_id, context, actor, broadcast_id)


async def _send_recent(chat_id: int, context: BotContext, actor: Actor) -> None:
    profile = context.services.profile
    async with context.services.sessions() as session:
        recent = await recent_broadcasts(session, actor.kecamatan_code)
    rows = [[(broadcast_line(b, profile)[:60], f"l:r:{b.id}")] for b in recent]
    await context.bot.send_message(
        chat_id, recent_text(recent, profile), reply_markup=_kb(rows) if rows else None
    )


async def _send_report(
    chat_id: int, context: BotContext, actor: Actor, broadcast_id: int | None
) -> None:
    """Text, then the chart (sendPhoto), then one CSV row per group (sendDocument)."""
    services = context.services
    profile = services.profile
    try:
        async with services.sessions() as session:
            report = await broadcast_report(session, broadcast_id, actor.kecamatan_code)
            lines = await group_lines(session, report.broadcast.id, actor.kecamatan_code)
    except ReportError as exc:
        await context.bot.send_message(chat_id, str(exc))
        return
    bid = report.broadcast.id
    await context.bot.send_message(
        chat_id,
        report_text(report, profile),
        reply_markup=_kb([[("🔕 Belum konfirmasi", f"l:b:{bid}"), ("📋 Siaran lain", "l:d")]]),
    )
    if report.total.targeted == 0:
        return
    # Drawing takes a few hundred milliseconds: not on the event loop that answers presses.
    png = await asyncio.to_thread(report_chart, report)
    await context.bot.send_photo(
        chat_id,
        photo=png,
        filename=f"laporan-siaran-{bid}.png",
        caption=f"Siaran #{bid}: grup terkirim dan sudah dibaca",
    )
    await context.bot.send_document(
        chat_id,
        document=report_csv(lines, profile.tz, profile.timezone_label),
        filename=f"laporan-siaran-{bid}.csv",
        caption=f"Siaran #{bid}: satu baris per grup ({len(lines)} grup)",
    )


# -- /belum and the nudge --------------------------------------------------------------------


async def belum(update: Update, context: BotContext) -> None:
    """The groups that have not acknowledged a broadcast, by kelurahan, with the nudge."""
    actor = await _official(update, context)
    message = update.effective_message
    if actor is None or message is None:
        return
    ok, broadcast_id = _broadcast_arg(context)
    if not ok:
        await message.reply_text("Nomor siaran harus angka, mis. /belum 12.")
        return
    await _send_unacknowledged(message.chat_id, context, actor, broadcast_id)


async def _send_unacknowledged(
    chat_id: int, context: BotContext, actor: Actor, broadcast_id: int | None
) -> None:
    services = context.services
    try:
        async with services.sessions() as session:
            report = await broadcast_report(session, broadcast_id, actor.kecamatan_code)
            lines = await group_lines(
                session, report.broadcast.id, actor.kecamatan_code, unacknowledged_only=True
            )
    except ReportError as exc:
        await context.bot.send_message(chat_id, str(exc))
        return
    text = unacknowledged_text(report, lines, services.profile)
    bid = report.broadcast.id
    rows: list[list[tuple[str, str]]] = []
    if lines and actor.is_admin:
        rows.append([(f"🔔 Kirim pengingat ke {len(lines)} grup", f"l:n:{bid}")])
    elif lines:
        text += "\n\n<i>Hanya admin yang dapat mengirim pengingat ke grup-grup ini.</i>"
    rows.append([("📊 Laporan", f"l:r:{bid}")])
    await context.bot.send_message(chat_id, text, reply_markup=_kb(rows))


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
        rows = [[("🔔 Ya, kirim lagi", f"l:n!:{broadcast_id}")]] if exc.recipients else []
        await context.bot.send_message(
            chat_id,
            f"{exc}\nKirim pengingat sekali lagi?" if rows else str(exc),
            reply_markup=_kb(rows) if rows else None,
        )
        return
    except (NudgeRefused, PermissionDenied) as exc:
        await context.bot.send_message(chat_id, str(exc))
        return
    context.application.create_task(services.broadcasts.run(nudge.id), name=f"follow-up:{nudge.id}")
    await context.bot.send_message(
        chat_id,
        f"🔔 Pengingat #{nudge.id} sedang dikirim ke {recipients} grup yang belum konfirmasi "
        f"siaran #{broadcast_id}. Hasilnya akan saya kabarkan di sini.",
    )


# -- buttons ---------------------------------------------------------------------------------


async def report_button(update: Update, context: BotContext) -> None:
    """l:r:<id> report · l:d list · l:b:<id> not acknowledged · l:n[!]:<id> nudge."""
    query = update.callback_query
    if query is None or query.message is None:
        return
    actor = await _official(update, context)
    if actor is None:
        return
    parts = (query.data or "").split(":")
    what = parts[1] if len(parts) > 1 else ""
    target = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else None
    chat_id = query.message.chat.id
    if what == "d":
        await query.answer()
        await _send_recent(chat_id, context, actor)
    elif what == "r" and target is not None:
        await query.answer("Menyiapkan laporan…")
        await _send_report(chat_id, context, actor, target)
    elif what == "b" and target is not None:
        await query.answer()
        await _send_unacknowledged(chat_id, context, actor, target)
    elif what in ("n", "n!") and target is not None:
        if not actor.is_admin:
            await query.answer("Hanya admin yang dapat mengirim pengingat.", show_alert=True)
            return
        await query.answer()
        await _nudge(update, context, actor, target, again=what == "n!")
    else:
        await query.answer("Tombol ini sudah tidak berlaku. Ketik /laporan.")


# -- /cakupan --------------------------------------------------------------------------------


async def cakupan(update: Update, context: BotContext) -> None:
    """Which listed RW and RT have a registered group; `/cakupan <kelurahan>` for details."""
    actor = await _official(update, context)
    message = update.effective_message
    if actor is None or message is None:
        return
    services = context.services
    async with services.sessions() as session:
        report = await coverage(session, actor.kecamatan_code)
        scope = await scope_name(session, actor.kecamatan_code)
    if context.args:
        name = " ".join(context.args)
        matches = match_kelurahan(name, read_regions())
        found = [k for k in report.kelurahan if k.code in {m.code for m in matches}]
        if len(found) == 1:
            await message.reply_text(coverage_detail(found[0]))
        elif found:
            names = ", ".join(k.name for k in found)
            await message.reply_text(f"Maksud Anda yang mana: {names}? Tulis nama lengkapnya.")
        elif matches and actor.kecamatan_code is not None:
            await message.reply_text("Kelurahan itu di luar kecamatan Anda.")
        else:
            await message.reply_text(
                f"Kelurahan {name!r} tidak dikenal. Contoh: /cakupan Sumbersari"
            )
        return
    await message.reply_text(coverage_text(report, scope))
    if report.has_list:
        await context.bot.send_document(
            message.chat_id,
            document=coverage_csv(report),
            filename="cakupan-rw-rt.csv",
            caption="Satu baris per RW/RT di daftar resmi, dengan grupnya bila ada.",
        )


async def cakupan_import(update: Update, context: BotContext) -> None:
    """A CSV sent with the caption /cakupan replaces the RW/RT list of its kelurahan."""
    actor = await _official(update, context)
    message = update.effective_message
    if actor is None or message is None or message.document is None:
        return
    document = message.document
    if document.file_size and document.file_size > MAX_BYTES:
        await message.reply_text(
            f"Berkas terlalu besar (batas {MAX_BYTES // 1_000_000} MB). Kirim per kecamatan."
        )
        return
    file = await context.bot.get_file(document.file_id)
    data = bytes(await file.download_as_bytearray())
    try:
        parsed = parse_list(decode(data), read_regions(), actor.kecamatan_code)
    except ListRejected as exc:
        shown = [str(p) for p in exc.problems[:15]]
        more = len(exc.problems) - len(shown)
        await message.reply_text(
            "❌ Daftar RW/RT <b>tidak diimpor</b>; tidak ada yang berubah. "
            "Perbaiki baris berikut lalu kirim lagi dengan keterangan /cakupan:\n"
            + "\n".join(f"• {escape(line)}" for line in shown)
            + (f"\n… dan {more} masalah lain." if more > 0 else "")
        )
        return
    services = context.services
    async with services.sessions.begin() as session:
        summary = await import_list(session, parsed, actor.user_id, services.clock.now())
    await message.reply_text(
        f"✅ Daftar RW/RT diimpor: {summary.kelurahan} kelurahan, {summary.rw} RW, "
        f"{summary.rt} RT (menggantikan {summary.replaced} baris lama). "
        "Lihat cakupannya dengan /cakupan."
    )


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    new = filters.UpdateType.MESSAGE  # an edited command is not a new request
    return [
        CommandHandler("laporan", laporan, filters=new),
        CommandHandler("belum", belum, filters=new),
        CommandHandler("cakupan", cakupan, filters=new),
        # Before residents' own private document handler (TPS upload): the caption decides.
        MessageHandler(
            new & filters.ChatType.PRIVATE & filters.Document.ALL & filters.CaptionRegex(CAPTION),
            cakupan_import,
        ),
        CallbackQueryHandler(report_button, pattern=r"^l:"),
    ]
