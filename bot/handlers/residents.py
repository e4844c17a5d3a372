"""Residents: the /start menu, answers in their own words, and finding their TPS.

Callback data: `r:<intent>` for the menu, `t:<step>[:<args>]` for the TPS lookup (private chats
only, so it carries no user id). Officials load the TPS registry by sending a CSV here.
"""

from __future__ import annotations

import functools
import html
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.context import BotContext
from domain import places, tps
from domain.answers import MENU, answer, looks_like_nik, note_for
from domain.flood import TokenBucket, Verdict
from domain.intents import Intent, classify
from domain.officials import find_actor
from messages.render import render

log = logging.getLogger(__name__)

Callback = Callable[[Update, BotContext], Coroutine[Any, Any, None]]

NEW_MESSAGES = filters.UpdateType.MESSAGE  # not edits, not channel posts
PRIVATE = filters.ChatType.PRIVATE
GROUPS = filters.ChatType.GROUPS

NIK_DELETED = "🗑️ Pesan berisi NIK tadi sudah saya hapus dari chat ini."
NOT_OFFICIAL_UPLOAD = (
    "Hanya petugas Pemkot yang terdaftar yang dapat mengunggah daftar TPS. "
    "Untuk mencari TPS Anda, ketik /tps."
)
NOT_CSV = (
    "Daftar TPS dikirim sebagai berkas <b>.csv</b> dengan judul kolom "
    "<code>kelurahan,tps,alamat,rw,rt,peta</code>."
)
UNKNOWN_COMMAND = "Perintah itu tidak saya kenal. Pilih topik di bawah atau ketik pertanyaan Anda."
UNKNOWN_BUTTON = "Tombol ini tidak dikenali lagi. Ketik /start untuk menu."
ADD_TO_GROUP = "➕ Tambahkan ke grup RT/RW"
TPS_LOOKUP = "🔎 Cari TPS saya"
MAX_LISTED_PROBLEMS = 25


# -- shared by the group handlers too ------------------------------------------------------------


def flood_limited(callback: Callback) -> Callback:
    """Let a user's message through only while their token bucket has room.

    The first message over the limit gets one polite notice; later ones are ignored until the
    bucket refills. A button press over the limit is still answered (Telegram needs that).
    """

    @functools.wraps(callback)
    async def guarded(update: Update, context: BotContext) -> None:
        if update.effective_user is None or context.user_data is None:
            await callback(update, context)
            return
        bucket = context.user_data.get("flood")
        if not isinstance(bucket, TokenBucket):
            bucket = context.user_data["flood"] = TokenBucket()
        verdict = bucket.take()
        if verdict is Verdict.ALLOW:
            await callback(update, context)
            return
        notice = render("warga.tunggu", context.services.profile, context.services.clock.now())
        if update.callback_query is not None:
            await update.callback_query.answer("⏳ Tunggu sebentar ya.")
        elif verdict is Verdict.WARN and update.effective_message is not None:
            await update.effective_message.reply_text(notice)

    return guarded


def keyboard(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    """Callback buttons from (label, data) rows."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


def bot_link(context: BotContext, **params: str) -> str:
    """t.me/<bot>?startgroup=daftar and the like."""
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"https://t.me/{context.bot.username}" + (f"?{query}" if query else "")


def add_to_group_button(context: BotContext) -> InlineKeyboardButton:
    return InlineKeyboardButton(ADD_TO_GROUP, url=bot_link(context, startgroup="daftar"))


def _render(context: BotContext, key: str) -> str:
    services = context.services
    return render(key, services.profile, services.clock.now())


def _no_registry_for(context: BotContext, kelurahan: str) -> str:
    return f"📍 <b>Kelurahan {html.escape(kelurahan)}</b>\n" + _render(
        context, "warga.tps_kelurahan_kosong"
    )


# -- menu and answers --------------------------------------------------------------------------


def menu_markup(context: BotContext, *, with_group_link: bool = False) -> InlineKeyboardMarkup:
    buttons = [(label, f"r:{intent.value}") for label, intent in MENU]
    rows = [
        [InlineKeyboardButton(t, callback_data=d) for t, d in buttons[i : i + 2]]
        for i in range(0, len(buttons), 2)
    ]
    if with_group_link:
        rows.append([add_to_group_button(context)])
    return InlineKeyboardMarkup(rows)


async def _has_registry(context: BotContext) -> bool:
    async with context.services.sessions() as session:
        return await tps.has_registry(session)


async def send_answer(message: Message, context: BotContext, intent: Intent) -> None:
    """Reply with the library answer for `intent`, said relative to now."""
    services = context.services
    private = message.chat.type == ChatType.PRIVATE
    registry = await _has_registry(context) if intent is Intent.TPS else False
    if intent is Intent.TPS and registry and private:
        await start_tps_lookup(message, context)
        return
    reply = answer(intent, services.profile, services.clock.now(), has_tps_registry=registry)
    markup: InlineKeyboardMarkup | None = None
    if reply.show_menu and private:
        markup = menu_markup(context, with_group_link=intent is Intent.BANTUAN)
    elif intent is Intent.TPS and registry:
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(TPS_LOOKUP, url=bot_link(context, start="tps"))]]
        )
    await message.reply_text(reply.html, reply_markup=markup)


@flood_limited
async def start(update: Update, context: BotContext) -> None:
    """/start in a private chat: the menu (or a deep link's payload: tps, daftar)."""
    message = update.effective_message
    if message is None:
        return
    payload = (context.args or [""])[0].lower()
    if payload == "tps":
        await send_answer(message, context, Intent.TPS)
        return
    if payload == "daftar":
        await message.reply_text(
            _render(context, "sistem.grup.daftar_di_grup"),
            reply_markup=InlineKeyboardMarkup([[add_to_group_button(context)]]),
        )
        return
    await message.reply_text(
        _render(context, "warga.sambutan"), reply_markup=menu_markup(context, with_group_link=True)
    )


def _command(intent: Intent) -> Callback:
    @flood_limited
    async def command(update: Update, context: BotContext) -> None:
        if update.effective_message is not None:
            await send_answer(update.effective_message, context, intent)

    command.__name__ = f"command_{intent.value}"
    return command


@flood_limited
async def bantuan(update: Update, context: BotContext) -> None:
    """/bantuan: what the bot does, in a private chat with the menu, in a group its commands."""
    message = update.effective_message
    if message is None:
        return
    if message.chat.type == ChatType.PRIVATE:
        await send_answer(message, context, Intent.BANTUAN)
    else:
        await message.reply_text(_render(context, "sistem.grup.bantuan"))


@flood_limited
async def menu_button(update: Update, context: BotContext) -> None:
    """r:<intent>: a menu button; the answer comes as a new message so the menu stays."""
    query = update.callback_query
    assert query is not None
    value = (query.data or "").removeprefix("r:")
    intent = Intent._value2member_map_.get(value)
    if not isinstance(intent, Intent) or not isinstance(query.message, Message):
        await query.answer(UNKNOWN_BUTTON)
        return
    await query.answer()
    await send_answer(query.message, context, intent)


@flood_limited
async def free_text(update: Update, context: BotContext) -> None:
    """A question in a private chat, in the resident's own words."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    if looks_like_nik(message.text):
        await _refuse_nik(message, context)
        return
    intent = classify(message.text).intent
    if intent is Intent.UNKNOWN:  # the bot does not know: offer the menu and an official
        from bot.handlers.questions import offer  # here: that module imports this one

        await offer(message, context)
        return
    await send_answer(message, context, intent)


async def _refuse_nik(message: Message, context: BotContext) -> None:
    """Never keep a NIK: the message is deleted when Telegram allows it, and never logged."""
    text = _render(context, "warga.nik")
    try:
        await message.delete()
        text += "\n" + NIK_DELETED
    except TelegramError:
        log.info("could not delete a message that looked like a NIK")
    await message.chat.send_message(text)


# What a group member may ask by replying to the bot; greetings, thanks and anything unclear
# get no answer there, so a "terima kasih" under a broadcast does not start a conversation.
GROUP_REPLY_INTENTS = frozenset(Intent) - {Intent.BANTUAN, Intent.TERIMA_KASIH, Intent.UNKNOWN}


@flood_limited
async def group_reply(update: Update, context: BotContext) -> None:
    """Text replying to the bot in a group (privacy mode shows the bot only those)."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    reply_to = message.reply_to_message
    if reply_to is None or reply_to.from_user is None or reply_to.from_user.id != context.bot.id:
        return
    if looks_like_nik(message.text):
        await _refuse_nik(message, context)
        return
    intent = classify(message.text).intent
    if intent in GROUP_REPLY_INTENTS:
        await send_answer(message, context, intent)


@flood_limited
async def unknown_command(update: Update, context: BotContext) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text(
            UNKNOWN_COMMAND, reply_markup=menu_markup(context)
        )


@flood_limited
async def not_text(update: Update, context: BotContext) -> None:
    """Stickers, photos, voice notes, locations... in a private chat: say what works."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(
            _render(context, "warga.bukan_teks"), reply_markup=menu_markup(context)
        )


# -- TPS lookup: kecamatan -> kelurahan -> RW -> RT ----------------------------------------------


def _rows(buttons: list[tuple[str, str]], per_row: int) -> list[list[tuple[str, str]]]:
    return [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]


async def start_tps_lookup(message: Message, context: BotContext) -> None:
    """The first step of the lookup, under a note when voting day is here or past."""
    services = context.services
    async with services.sessions() as session:
        kecamatan = await places.kecamatan_list(session)
    rows = _rows([(f"Kec. {name}", f"t:c:{code}") for code, name in kecamatan], 2)
    text = _render(context, "warga.tps_cari")
    note = note_for(Intent.TPS, services.profile, services.clock.now())
    if note:
        text = f"{_render(context, note)}\n\n{text}"
    await message.reply_text(text, reply_markup=keyboard(rows))


async def tps_button(update: Update, context: BotContext) -> None:
    """t:c:<kec> / t:l:<kel> / t:w:<kel>:<rw> / t:t:<kel>:<rw>:<rt> (rt 0: not sure) / t:k."""
    query = update.callback_query
    assert query is not None
    parts = (query.data or "").split(":")
    notice: str | None = None
    try:
        text, markup = await _tps_step(context, parts[1:])
        if isinstance(query.message, Message):
            await query.edit_message_text(text, reply_markup=markup)
    except (ValueError, IndexError):
        notice = UNKNOWN_BUTTON
    except TelegramError as exc:  # "message is not modified" after a double press
        log.info("tps lookup edit: %s", exc)
    finally:
        await query.answer(notice)


async def _tps_step(
    context: BotContext, parts: list[str]
) -> tuple[str, InlineKeyboardMarkup | None]:
    step, args = parts[0], parts[1:]
    back = ("‹ Kecamatan", "t:k")
    async with context.services.sessions() as session:
        if step == "k":
            kecamatan = await places.kecamatan_list(session)
            rows = _rows([(f"Kec. {n}", f"t:c:{c}") for c, n in kecamatan], 2)
            return _render(context, "warga.tps_cari"), keyboard(rows)
        if step == "c":
            name = await places.kecamatan_name(session, args[0])
            if name is None:
                raise ValueError(args[0])
            kelurahan = await places.kelurahan_in(session, args[0])
            rows = _rows([(p.name, f"t:l:{p.code}") for p in kelurahan], 2)
            rows.append([back])
            return (
                f"📍 Kecamatan <b>{html.escape(name)}</b>: pilih kelurahan Anda.",
                keyboard(rows),
            )
        where = await places.place(session, args[0])
        if where is None:
            raise ValueError(args[0])
        label = f"Kelurahan {html.escape(where.name)}, Kecamatan {html.escape(where.kecamatan)}"
        if step == "l":
            rws = await tps.rws_of(session, where.code)
            if not rws:
                return _no_registry_for(context, where.name), None
            rows = _rows([(f"RW {rw:02d}", f"t:w:{where.code}:{rw}") for rw in rws], 5)
            rows.append([("‹ Kelurahan", f"t:c:{where.kecamatan_code}")])
            return f"📍 {label}.\nPilih <b>RW</b> Anda.", keyboard(rows)
        rw = int(args[1])
        if step == "w":
            rts = await tps.rts_of(session, where.code, rw)
            if not rts:
                return await _tps_result(context, session, where, rw, None)
            rows = _rows([(f"RT {rt:02d}", f"t:t:{where.code}:{rw}:{rt}") for rt in rts], 5)
            rows.append([("Tidak tahu RT", f"t:t:{where.code}:{rw}:0")])
            rows.append([("‹ RW", f"t:l:{where.code}")])
            return f"📍 RW {rw:02d}, {label}.\nPilih <b>RT</b> Anda.", keyboard(rows)
        if step == "t":
            rt = int(args[2]) or None
            return await _tps_result(context, session, where, rw, rt)
    raise ValueError(step)


async def _tps_result(
    context: BotContext, session: Any, where: places.Place, rw: int, rt: int | None
) -> tuple[str, InlineKeyboardMarkup | None]:
    found = await tps.find_tps(session, where.code, rw, rt)
    area = places.area_label(rw, rt)
    if not found:
        return _no_registry_for(context, where.name), None
    heading = (
        f"📍 <b>TPS untuk {area}</b>, Kelurahan {html.escape(where.name)}"
        if len(found) == 1
        else f"📍 <b>{area}</b>, Kelurahan {html.escape(where.name)}, dilayani salah satu TPS ini:"
    )
    lines = [heading]
    for info in found:
        link = (
            f' · <a href="{html.escape(info.map_url, quote=True)}">peta</a>' if info.map_url else ""
        )
        lines.append(
            f"• <b>TPS {info.number:03d}</b> — {html.escape(info.address)}{link}\n"
            f"  <i>melayani {html.escape(info.serves)}</i>"
        )
    lines.append("")
    lines.append(_render(context, "warga.tps_konfirmasi"))
    return "\n".join(lines), keyboard([[("🔎 Cari lagi", "t:k")]])


# -- the TPS registry, sent by an official as a CSV --------------------------------------------


@flood_limited
async def document(update: Update, context: BotContext) -> None:
    """A file in a private chat: an official's TPS registry, or a polite refusal."""
    message = update.effective_message
    user = update.effective_user
    if message is None or message.document is None or user is None:
        return
    services = context.services
    async with services.sessions() as session:
        actor = await find_actor(session, user.id)
    name = message.document.file_name or ""
    is_csv = name.lower().endswith(".csv") or (message.document.mime_type or "") in (
        "text/csv",
        "text/comma-separated-values",
        "application/vnd.ms-excel",
    )
    if actor is None:
        if is_csv:
            await message.reply_text(NOT_OFFICIAL_UPLOAD)
        else:
            await message.reply_text(
                _render(context, "warga.bukan_teks"), reply_markup=menu_markup(context)
            )
        return
    if not is_csv:
        await message.reply_text(NOT_CSV)
        return
    if (message.document.file_size or 0) > tps.MAX_BYTES:
        await message.reply_text("Berkas terlalu besar (batas 2 MB). Bagi per kecamatan.")
        return
    try:
        data = bytes(await (await message.document.get_file()).download_as_bytearray())
    except TelegramError as exc:
        log.warning("could not download a TPS registry: %s", exc)
        await message.reply_text("Berkas tidak dapat diunduh dari Telegram. Coba kirim lagi.")
        return
    await message.reply_text(await import_tps_file(context, data, user.id, name))


async def import_tps_file(context: BotContext, data: bytes, actor_id: int, name: str) -> str:
    """Import in one transaction and say, in Indonesian, what happened."""
    services = context.services
    try:
        async with services.sessions.begin() as session:
            regions = await places.load_regions(session)
            report = await tps.import_registry(
                session, data, regions, actor_id, services.clock.now(), source=name
            )
    except tps.RegistryRejected as exc:
        return rejection_text(exc.problems)
    return (
        f"✅ <b>Daftar TPS dimuat</b>: {report.tps} TPS di {report.kelurahan} kelurahan "
        f"({report.areas} wilayah RW/RT)."
        + (f" {report.replaced} TPS lama di kelurahan itu diganti." if report.replaced else "")
        + "\nKelurahan lain tidak berubah. Warga kini bisa mencari TPS dengan /tps."
    )


def rejection_text(problems: list[tps.RowProblem]) -> str:
    shown = problems[:MAX_LISTED_PROBLEMS]
    lines = [
        f"❌ <b>Daftar TPS tidak dimuat</b> — {len(problems)} baris bermasalah, "
        "tidak ada yang diubah. Perbaiki lalu kirim ulang seluruh berkas:"
    ]
    lines += [f"• {html.escape(str(p))}" for p in shown]
    if len(problems) > len(shown):
        lines.append(f"… dan {len(problems) - len(shown)} baris lain.")
    return "\n".join(lines)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    private_new = PRIVATE & NEW_MESSAGES
    return [
        CommandHandler("start", start, filters=private_new),
        CommandHandler("kapan", _command(Intent.KAPAN), filters=NEW_MESSAGES),
        CommandHandler("tps", _command(Intent.TPS), filters=NEW_MESSAGES),
        CommandHandler("syarat", _command(Intent.SYARAT), filters=NEW_MESSAGES),
        CommandHandler("bantuan", bantuan, filters=NEW_MESSAGES),
        CallbackQueryHandler(menu_button, pattern=r"^r:"),
        CallbackQueryHandler(tps_button, pattern=r"^t:"),
        MessageHandler(private_new & filters.Document.ALL, document),
        # Last: every other private message, so nothing a resident sends goes unanswered.
        MessageHandler(private_new & filters.TEXT & ~filters.COMMAND, free_text),
        MessageHandler(
            GROUPS & NEW_MESSAGES & filters.REPLY & filters.TEXT & ~filters.COMMAND, group_reply
        ),
        MessageHandler(private_new & filters.COMMAND, unknown_command),
        MessageHandler(private_new & ~filters.TEXT & ~filters.StatusUpdate.ALL, not_text),
    ]
