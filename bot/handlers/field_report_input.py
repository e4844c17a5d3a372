"""/lapor's typed steps: the TPS number, the description, then photos and a location.

In a group the bot reads only commands and replies (privacy mode), so only replies are read
there; bot.ui.typed_input decides whether a message is a waiting report's.
"""

from __future__ import annotations

from typing import Any

from telegram import Message, Update
from telegram.ext import BaseHandler, MessageHandler, filters

from bot.context import BotContext
from bot.handlers.field_report_screens import (
    KIND,
    ask_description,
    ask_photos,
    photo_buttons,
    reporter_key,
)
from bot.ui.flow_steps import save_step as save
from bot.ui.typed_input import TypedFlow
from bot.ui.views import text
from domain.field import reports
from domain.field.reports import MAX_DESCRIPTION, MAX_PHOTOS, Refusal, ReportRefused
from domain.flows import Flow


async def _typed_tps(update: Update, context: BotContext, flow: Flow, message: Message) -> None:
    try:
        if message.text is None:  # a photo or file while the number is awaited
            raise ReportRefused(Refusal.BAD_TPS)
        number = reports.normalise_tps(message.text)
    except ReportRefused:
        await message.reply_text(text(context, "ui.lapor.tps_salah"))
        return
    flow = await save(context, flow, "isi", tps=number)
    await ask_description(update, context, flow)


async def _typed_description(
    update: Update, context: BotContext, flow: Flow, message: Message
) -> None:
    body = (message.text or "").strip()  # a photo or file while a text is awaited: empty
    if not body:
        await message.reply_text(text(context, "ui.lapor.isi_kosong"))
        return
    if len(body) > MAX_DESCRIPTION:
        await message.reply_text(
            text(context, "ui.lapor.isi_terlalu_panjang", panjang=len(body), batas=MAX_DESCRIPTION)
        )
        return  # still awaiting the description: nothing else is lost
    # Kept as written (16-digit numbers masked); never checked by the neutrality guard.
    flow = await save(context, flow, "foto", description=reports.mask_nik(body))
    await ask_photos(update, context, flow)


async def _attachment(update: Update, context: BotContext, flow: Flow, message: Message) -> None:
    photos = list(flow.data.get("photos") or [])
    if message.photo:
        if len(photos) >= MAX_PHOTOS:
            body = text(context, "ui.lapor.foto_penuh", batas=MAX_PHOTOS)
        else:
            photos.append(message.photo[-1].file_id)  # the largest size
            flow = await save(context, flow, "foto", photos=photos)
            body = text(context, "ui.lapor.foto_diterima", jumlah=len(photos))
    elif message.location is not None:
        flow = await save(
            context, flow, "foto",
            latitude=message.location.latitude, longitude=message.location.longitude,
        )  # fmt: skip
        body = text(context, "ui.lapor.lokasi_diterima")
    elif message.text is not None:
        body = text(context, "ui.lapor.teks_di_langkah_foto")
    else:  # a document, a video, a voice note, a sticker: not a photo
        body = text(context, "ui.lapor.bukan_foto")
    await message.reply_text(body, reply_markup=photo_buttons(context, flow))


# A message while a report waits for typed input: the TPS number, the description, a photo
# or a location. Not ours (no such flow, another step): left to the next handlers.
TYPED = TypedFlow(
    KIND,
    {"tps": _typed_tps, "isi": _typed_description, "foto": _attachment},
    expired="ui.lapor.kedaluwarsa",
    failed="ui.galat.maaf",
    what="/lapor",
    who=reporter_key,
)
lapor_typed = TYPED.take


def typed_input_handlers() -> list[BaseHandler[Any, Any, Any]]:
    """For a group that runs before the others: it consumes a message only when a report
    awaits it. In groups only replies reach the bot (privacy mode), and only replies are read."""
    where = filters.ChatType.PRIVATE | (filters.ChatType.GROUPS & filters.REPLY)
    return [MessageHandler(filters.UpdateType.MESSAGE & where & ~filters.COMMAND, lapor_typed)]
