"""TPS lookup: a resident finds their polling station, kecamatan → kelurahan → RW → RT.

Buttons: callbacks.TPS_LOOKUP, `t:<step>[:<args>]` (private chats only, so no user id):
k, c <kec>, l <kel>, w <kel> <rw>, t <kel> <rw> <rt> (rt 0: not sure).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot.context import BotContext
from bot.ui import callbacks, place_picker
from bot.ui.callbacks import TPS_LOOKUP, refuse
from bot.ui.views import edit, keyboard, text
from domain import places, tps
from domain.answers import note_for
from domain.intents import Intent
from domain.places import Place

log = logging.getLogger(__name__)


def _data(*parts: object) -> str:
    return TPS_LOOKUP.build(*parts)


async def _kecamatan_screen(
    context: BotContext, session: AsyncSession
) -> tuple[str, InlineKeyboardMarkup]:
    rows = await place_picker.kecamatan_rows(context, session, lambda code: _data("c", code))
    return text(context, "warga.tps_cari"), keyboard(rows)


async def start_tps_lookup(message: Message, context: BotContext) -> None:
    """The first step of the lookup, under a note when voting day is here or past."""
    services = context.services
    async with services.sessions() as session:
        body, markup = await _kecamatan_screen(context, session)
    note = note_for(Intent.TPS, services.profile, services.clock.now())
    if note:
        body = f"{text(context, note)}\n\n{body}"
    await message.reply_text(body, reply_markup=markup)


async def tps_button(update: Update, context: BotContext) -> None:
    """Every t: button; the lookup message changes in place."""
    query = update.callback_query
    assert query is not None
    press = TPS_LOOKUP.parse(query.data)
    chat = update.effective_chat
    try:
        # The lookup lives in private chats: a press in a group never edits a group's message.
        if press is None or chat is None or chat.type != ChatType.PRIVATE:
            raise ValueError(query.data)
        body, markup = await _step(context, press["step"], press.args)
    except (ValueError, IndexError):
        await refuse(update, context, TPS_LOOKUP.unknown, alert=False)
        return
    if isinstance(query.message, Message):
        await edit(query.message, body, markup)
    await callbacks.answer(query)


async def _step(
    context: BotContext, step: str, args: tuple[str, ...]
) -> tuple[str, InlineKeyboardMarkup | None]:
    back = (text(context, "ui.tombol.kembali_kecamatan"), _data("k"))
    async with context.services.sessions() as session:
        if step == "k":
            return await _kecamatan_screen(context, session)
        if step == "c":
            name, rows = await place_picker.kelurahan_rows(
                session, args[0], lambda code: _data("l", code)
            )
            rows.append([back])
            return text(context, "ui.tps.pilih_kelurahan", kecamatan=name), keyboard(rows)
        where = await place_picker.kelurahan(session, args[0])
        place = {"kelurahan": where.name, "kecamatan": where.kecamatan}
        if step == "l":
            rws = await tps.rws_of(session, where.code)
            if not rws:
                return _no_registry_for(context, where), None
            rows = place_picker.listed_rows(
                context, "ui.tempat.rw", rws, lambda rw: _data("w", where.code, rw)
            )
            rows.append(
                [(text(context, "ui.tombol.kembali_kelurahan"), _data("c", where.kecamatan_code))]
            )
            return text(context, "ui.tps.pilih_rw", **place), keyboard(rows)
        rw = place_picker.number_arg(args[1])
        if step == "w":
            rts = await tps.rts_of(session, where.code, rw)
            if not rts:
                return await _result(context, session, where, rw, None)
            rows = place_picker.listed_rows(
                context, "ui.tempat.rt", rts, lambda rt: _data("t", where.code, rw, rt)
            )
            rows.append(
                [(text(context, "ui.tps.tombol_tidak_tahu_rt"), _data("t", where.code, rw, 0))]
            )
            rows.append([(text(context, "ui.tombol.kembali_rw"), _data("l", where.code))])
            return text(context, "ui.tps.pilih_rt", rw=f"{rw:02d}", **place), keyboard(rows)
        if step == "t":
            return await _result(
                context, session, where, rw, place_picker.number_arg(args[2]) or None
            )
    raise ValueError(step)


def _no_registry_for(context: BotContext, where: Place) -> str:
    return (
        text(context, "ui.tps.kelurahan", kelurahan=where.name)
        + "\n"
        + text(context, "warga.tps_kelurahan_kosong")
    )


async def _result(
    context: BotContext, session: AsyncSession, where: Place, rw: int, rt: int | None
) -> tuple[str, InlineKeyboardMarkup | None]:
    found = await tps.find_tps(session, where.code, rw, rt)
    if not found:
        return _no_registry_for(context, where), None
    area = places.area_label(rw, rt)
    key = "ui.tps.hasil_satu" if len(found) == 1 else "ui.tps.hasil_beberapa"
    lines = [text(context, key, wilayah=area, kelurahan=where.name)]
    for info in found:
        line = {"nomor": f"{info.number:03d}", "alamat": info.address, "melayani": info.serves}
        if info.map_url:
            lines.append(text(context, "ui.tps.baris_dengan_peta", peta_url=info.map_url, **line))
        else:
            lines.append(text(context, "ui.tps.baris", **line))
    lines.append("")
    lines.append(text(context, "warga.tps_konfirmasi"))
    return "\n".join(lines), keyboard([[(text(context, "ui.tps.tombol_cari_lagi"), _data("k"))]])


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [CallbackQueryHandler(tps_button, pattern=TPS_LOOKUP.pattern)]
