"""/lapangan: the field board for officials — open cases per kecamatan and kelurahan, by
category and age, in their scope; text, CSV and a PNG chart (like /laporan and /cakupan)."""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from bot.context import BotContext
from bot.field_chart import field_chart
from bot.ui.guards import official
from bot.ui.views import reply_long, text
from domain.field.board import board_csv, board_text, field_board
from domain.places import scope_name


async def lapangan(update: Update, context: BotContext) -> None:
    """The board of open field cases in the official's scope."""
    actor = await official(update, context, private_only="ui.laporan.hanya_chat_pribadi")
    message = update.effective_message
    if actor is None or message is None:
        return
    services = context.services
    async with services.sessions() as session:
        board = await field_board(session, actor.scope, services.clock.now())
        scope = await scope_name(session, actor.scope)
    await reply_long(message, context, board_text(board, services.profile, scope))
    if not board.open_cases:
        return
    await context.bot.send_document(
        message.chat_id,
        document=board_csv(board, services.profile),
        filename="laporan-lapangan.csv",
        caption=text(context, "ui.lapangan.keterangan_csv"),
    )
    title = text(context, "ui.lapangan.judul_grafik", wilayah=scope, jumlah=len(board.open_cases))
    # Drawing takes a few hundred milliseconds: not on the loop that answers presses.
    png = await asyncio.to_thread(field_chart, board, services.profile, title)
    await context.bot.send_photo(
        message.chat_id,
        photo=png,
        filename="laporan-lapangan.png",
        caption=text(context, "ui.lapangan.keterangan_grafik"),
    )


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [CommandHandler("lapangan", lapangan)]
