"""Officials' view of coverage in a private chat: /grup (registered groups per kelurahan) and
/cakupan (which RW and RT of the city's official list have a group), and that list's import."""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from bot.context import BotContext
from bot.funnel_chart import funnel_chart, labels
from bot.ui.guards import NEW_MESSAGES, PRIVATE, flood_limited, official
from bot.ui.views import reply_long, text
from domain import group_report
from domain.coverage import (
    MAX_BYTES,
    ListRejected,
    coverage_csv,
    decode,
    import_list,
    neighbourhood_coverage,
    parse_list,
)
from domain.funnel import funnel
from domain.places import scope_name
from domain.regions import match_kelurahan, read_regions
from domain.report_text import coverage_detail, coverage_text

CAPTION = r"^/cakupan(@\w+)?(\s|$)"
MAX_LISTED_PROBLEMS = 15


@flood_limited
async def grup(update: Update, context: BotContext) -> None:
    """/grup: registered groups per kecamatan and kelurahan; /grup <kelurahan>: its groups."""
    actor = await official(update, context)
    message = update.effective_message
    if actor is None or message is None:
        return
    scope = actor.scope
    async with context.services.sessions() as session:
        if context.args:
            body = await group_report.kelurahan_text(session, " ".join(context.args), scope)
        else:
            body = await group_report.group_counts_text(session, scope)
    await reply_long(message, context, body)


async def cakupan(update: Update, context: BotContext) -> None:
    """Which listed RW and RT have a registered group; `/cakupan <kelurahan>` for details."""
    actor = await official(update, context, private_only="ui.laporan.hanya_chat_pribadi")
    message = update.effective_message
    if actor is None or message is None:
        return
    services = context.services
    async with services.sessions() as session:
        report = await neighbourhood_coverage(session, actor.scope)
        scope = await scope_name(session, actor.scope)
    if context.args:
        name = " ".join(context.args)[:80]
        matches = match_kelurahan(name, read_regions())
        found = [k for k in report.kelurahan if k.code in {m.code for m in matches}]
        if len(found) == 1:
            await message.reply_text(coverage_detail(found[0]))
        elif found:
            names = ", ".join(k.name for k in found)
            await message.reply_text(text(context, "ui.cakupan.yang_mana", nama=names))
        elif matches and actor.scope is not None:
            await message.reply_text(text(context, "ui.cakupan.di_luar_kecamatan"))
        else:
            await message.reply_text(text(context, "ui.cakupan.tidak_dikenal", nama=name[:40]))
        return
    await reply_long(message, context, coverage_text(report, scope))
    if report.has_list:
        await context.bot.send_document(
            message.chat_id,
            document=coverage_csv(report),
            filename="cakupan-rw-rt.csv",
            caption=text(context, "ui.cakupan.keterangan_csv"),
        )
        # The funnel (listed → bot added → registered → acknowledged) as a chart; drawing
        # takes a few hundred milliseconds, so not on the event loop that answers presses.
        async with services.sessions() as session:
            shape = await funnel(session, actor.scope)
        chart_labels = labels(shape, services.profile, services.clock.now(), scope)
        png = await asyncio.to_thread(funnel_chart, shape, chart_labels)
        await context.bot.send_photo(
            message.chat_id,
            photo=png,
            filename="cakupan-rw-rt.png",
            caption=text(context, "ui.cakupan.keterangan_grafik"),
        )


async def cakupan_import(update: Update, context: BotContext) -> None:
    """A CSV sent with the caption /cakupan replaces the RW/RT list of its kelurahan."""
    actor = await official(update, context, private_only="ui.laporan.hanya_chat_pribadi")
    message = update.effective_message
    if actor is None or message is None or message.document is None:
        return
    document = message.document
    if document.file_size and document.file_size > MAX_BYTES:
        await message.reply_text(
            text(context, "ui.cakupan.terlalu_besar", batas=MAX_BYTES // 1_000_000)
        )
        return
    file = await context.bot.get_file(document.file_id)
    data = bytes(await file.download_as_bytearray())
    try:
        parsed = parse_list(decode(data), read_regions(), actor.scope)
    except ListRejected as exc:
        shown = [str(p) for p in exc.problems[:MAX_LISTED_PROBLEMS]]
        lines = [text(context, "ui.cakupan.tidak_diimpor")]
        lines += [text(context, "ui.butir", isi=line) for line in shown]
        more = len(exc.problems) - len(shown)
        if more > 0:
            lines.append(text(context, "ui.cakupan.masalah_lain", jumlah=more))
        await message.reply_text("\n".join(lines))
        return
    services = context.services
    async with services.sessions.begin() as session:
        summary = await import_list(session, parsed, actor.user_id, services.clock.now())
    await message.reply_text(
        text(
            context,
            "ui.cakupan.diimpor",
            kelurahan=summary.kelurahan,
            rw=summary.rw,
            rt=summary.rt,
            diganti=summary.replaced,
        )
    )


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [
        CommandHandler("grup", grup, filters=NEW_MESSAGES),
        CommandHandler("cakupan", cakupan, filters=NEW_MESSAGES),
        # Before the TPS registry's private document handler: the caption decides.
        MessageHandler(
            NEW_MESSAGES & PRIVATE & filters.Document.ALL & filters.CaptionRegex(CAPTION),
            cakupan_import,
        ),
    ]
