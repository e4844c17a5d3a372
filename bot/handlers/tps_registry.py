"""The TPS registry, sent by an official as a CSV file in a private chat."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, MessageHandler, filters

from bot.context import BotContext
from bot.handlers.residents import menu_markup
from bot.ui.guards import NEW_MESSAGES, PRIVATE, flood_limited
from bot.ui.views import text
from domain import places, tps_registry
from domain.officials import find_actor

log = logging.getLogger(__name__)

MAX_LISTED_PROBLEMS = 25
CSV_TYPES = ("text/csv", "text/comma-separated-values", "application/vnd.ms-excel")


@flood_limited
async def document(update: Update, context: BotContext) -> None:
    """A file in a private chat: an official's TPS registry, or a polite refusal."""
    message = update.effective_message
    user = update.effective_user
    if message is None or message.document is None or user is None:
        return
    async with context.services.sessions() as session:
        actor = await find_actor(session, user.id)
    name = message.document.file_name or ""
    is_csv = name.lower().endswith(".csv") or (message.document.mime_type or "") in CSV_TYPES
    if actor is None:
        if is_csv:
            await message.reply_text(text(context, "ui.tps.unggah_bukan_petugas"))
        else:
            await message.reply_text(
                text(context, "warga.bukan_teks"), reply_markup=menu_markup(context)
            )
        return
    if not is_csv:
        await message.reply_text(text(context, "ui.tps.unggah_bukan_csv"))
        return
    if (message.document.file_size or 0) > tps_registry.MAX_BYTES:
        await message.reply_text(text(context, "ui.tps.unggah_terlalu_besar"))
        return
    try:
        data = bytes(await (await message.document.get_file()).download_as_bytearray())
    except TelegramError as exc:
        log.warning("could not download a TPS registry: %s", exc)
        await message.reply_text(text(context, "ui.berkas.gagal_unduh"))
        return
    await message.reply_text(await import_tps_file(context, data, user.id, name))


async def import_tps_file(context: BotContext, data: bytes, actor_id: int, name: str) -> str:
    """Import in one transaction and say, in Indonesian, what happened."""
    services = context.services
    try:
        async with services.sessions.begin() as session:
            regions = await places.load_regions(session)
            report = await tps_registry.import_registry(
                session, data, regions, actor_id, services.clock.now(), source=name
            )
    except tps_registry.RegistryRejected as exc:
        return rejection_text(context, exc.problems)
    body = text(
        context,
        "ui.tps.dimuat",
        tps=report.tps,
        kelurahan=report.kelurahan,
        wilayah=report.areas,
    )
    if report.replaced:
        body += " " + text(context, "ui.tps.dimuat_diganti", jumlah=report.replaced)
    return body + "\n" + text(context, "ui.tps.dimuat_lainnya")


def rejection_text(context: BotContext, problems: list[tps_registry.RowProblem]) -> str:
    shown = problems[:MAX_LISTED_PROBLEMS]
    lines = [text(context, "ui.tps.tidak_dimuat", jumlah=len(problems))]
    lines += [text(context, "ui.butir", isi=str(p)) for p in shown]
    if len(problems) > len(shown):
        lines.append(text(context, "ui.tps.baris_lain", jumlah=len(problems) - len(shown)))
    return "\n".join(lines)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [MessageHandler(PRIVATE & NEW_MESSAGES & filters.Document.ALL, document)]
