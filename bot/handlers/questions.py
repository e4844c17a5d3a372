"""The officials' inbox in Telegram: residents forward what the bot could not answer, officials
answer with /pertanyaan, and the answer reaches the resident as "Petugas Pemkot Malang".

Callback data (private chats only, `callbacks.QUESTION`): `q:f:<id>` forward a draft,
`q:c:<id>:<kecamatan>` pick the kecamatan, `q:l:<id>:<kelurahan or ->` pick the kelurahan (or
skip) and forward, `q:a:<id>` an official starts answering. The domain is `domain.questions`;
this module only talks Telegram.
"""

from __future__ import annotations

import html
import logging
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
from bot.handlers.residents import flood_limited, menu_markup, send_answer
from bot.question_notices import notify_officials
from bot.ui import callbacks
from bot.ui.typed_input import consume
from bot.ui.views import text as _render  # the one library renderer
from domain import places
from domain import questions as inbox_domain
from domain.answers import answer
from domain.intents import Intent
from domain.officials import Actor, find_actor
from messages.neutrality import check_text
from messages.render import Safe, render

log = logging.getLogger(__name__)

ANSWERING = "answering_question"  # user_data key: the question an official is answering


def _keyboard(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t, callback_data=d) for t, d in row] for row in rows]
    )


# -- residents ---------------------------------------------------------------------------------


async def offer(message: Message, context: BotContext) -> None:
    """The bot does not know: say so, offer the menu, and offer to pass it to an official."""
    services = context.services
    now = services.clock.now()
    user = message.from_user
    if message.chat.type != ChatType.PRIVATE or user is None or not message.text:
        await send_answer(message, context, Intent.UNKNOWN)
        return
    async with services.sessions.begin() as session:
        kept = await inbox_domain.keep_draft(session, user.id, message.chat.id, message.text, now)
    if kept is inbox_domain.Refusal.PARTISAN:
        await send_answer(message, context, Intent.NETRAL)
        return
    if not isinstance(kept, int):
        await send_answer(message, context, Intent.UNKNOWN)
        return
    reply = answer(Intent.UNKNOWN, services.profile, now)
    markup = menu_markup(context)
    rows = [
        *markup.inline_keyboard,
        [
            InlineKeyboardButton(
                _render(context, "pertanyaan.tombol_teruskan"),
                callback_data=callbacks.QUESTION.build("f", kept),
            )
        ],
    ]
    await message.reply_text(reply.html, reply_markup=InlineKeyboardMarkup(rows))


def _rows(buttons: list[tuple[str, str]], per_row: int) -> list[list[tuple[str, str]]]:
    return [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]


@flood_limited
async def resident_button(update: Update, context: BotContext) -> None:
    """q:f / q:c / q:l: forwarding a draft, with an optional kecamatan and kelurahan."""
    query = update.callback_query
    assert query is not None
    user = update.effective_user
    press = await callbacks.QUESTION.parse_or_refuse(
        update, context, valid=user is not None, alert=False
    )
    if press is None or user is None:
        return
    step, question_id, args = press["step"], press.number("question"), press.args
    services = context.services
    skip = (
        _render(context, "pertanyaan.tombol_lewati"),
        callbacks.QUESTION.build("l", question_id, "-"),
    )
    if step == "f" and not args:
        async with services.sessions() as session:
            kecamatan = await places.kecamatan_list(session)
        buttons = [
            (
                _render(context, "ui.tempat.kecamatan", nama=name),
                callbacks.QUESTION.build("c", question_id, code),
            )
            for code, name in kecamatan
        ]
        await query.answer()
        await _send(
            query.message,
            _render(context, "pertanyaan.pilih_wilayah"),
            _keyboard([*_rows(buttons, 2), [skip]]),
        )
        return
    if step == "c" and len(args) == 1:
        async with services.sessions() as session:
            kelurahan = await places.kelurahan_in(session, args[0])
        buttons = [(p.name, callbacks.QUESTION.build("l", question_id, p.code)) for p in kelurahan]
        await query.answer()
        await _edit(
            query.message,
            _render(context, "pertanyaan.pilih_wilayah"),
            _keyboard([*_rows(buttons, 2), [skip]]),
        )
        return
    if step == "l" and len(args) == 1:
        code = None if args[0] == "-" else args[0]
        async with services.sessions.begin() as session:
            result = await inbox_domain.forward(
                session, question_id, user.id, services.clock.now(), kelurahan_code=code
            )
        await query.answer()
        if result is inbox_domain.Refusal.PARTISAN and isinstance(query.message, Message):
            await send_answer(query.message, context, Intent.NETRAL)
            return
        if isinstance(result, inbox_domain.Forwarded):
            # Before the resident's confirmation: once they read it, the officials were told
            # (or will be at their interval's end). The question is in the inbox either way.
            try:
                await notify_officials(context, question_id)
            except Exception:
                log.exception("telling officials of question %s failed", question_id)
            text = _render(context, "pertanyaan.diteruskan")
        elif result is inbox_domain.Refusal.LIMIT:
            text = _render(context, "pertanyaan.batas", jumlah=inbox_domain.FORWARDS_PER_WINDOW)
        else:
            text = _render(context, "pertanyaan.kedaluwarsa")
        await _edit(query.message, text, None)
        return
    await query.answer(_render(context, "pertanyaan.tombol_tidak_dikenali"))


async def _send(message: object, text: str, markup: InlineKeyboardMarkup | None) -> None:
    if isinstance(message, Message):
        await message.reply_text(text, reply_markup=markup)


async def _edit(message: object, text: str, markup: InlineKeyboardMarkup | None) -> None:
    if not isinstance(message, Message):
        return
    try:
        await message.edit_text(text, reply_markup=markup)
    except TelegramError:  # too old to edit, or unchanged: say it as a new message
        await message.reply_text(text, reply_markup=markup)


# -- officials -------------------------------------------------------------------------------


async def _official(context: BotContext, user_id: int) -> Actor | None:
    async with context.services.sessions() as session:
        return await find_actor(session, user_id)


async def pertanyaan(update: Update, context: BotContext) -> None:
    """/pertanyaan in a private chat: the open questions by kelurahan and age, each answerable."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or message.chat.type != ChatType.PRIVATE:
        return
    actor = await _official(context, user.id)
    if actor is None:
        await message.reply_text(_render(context, "pertanyaan.bukan_petugas"))
        return
    services = context.services
    now = services.clock.now()
    async with services.sessions() as session:
        groups = await inbox_domain.inbox(session, now, scope=actor.scope)
    if not groups:
        await message.reply_text(_render(context, "pertanyaan.kotak_kosong"))
        return
    lines: list[str] = []
    buttons: list[tuple[str, str]] = []
    count = 0
    for kelurahan, items in groups:
        lines.append(
            f"\n<b>{html.escape(kelurahan or _render(context, 'pertanyaan.tanpa_kelurahan'))}</b>"
        )
        for item in items:
            count += 1
            age = inbox_domain.age_label(item.age)
            lines.append(f"#{item.id} · {age}: <i>{html.escape(item.text[:200])}</i>")
            buttons.append(
                (
                    _render(context, "pertanyaan.tombol_jawab", nomor=item.id),
                    callbacks.QUESTION.build("a", item.id),
                )
            )
    text = render(
        "pertanyaan.kotak",
        services.profile,
        now,
        {"jumlah": count, "daftar": Safe("\n".join(lines))},
    )
    await message.reply_text(text, reply_markup=_keyboard(_rows(buttons, 3)))


async def question_button(update: Update, context: BotContext) -> None:
    """Every q: press: an official's "Jawab" (q:a) or a resident forwarding a draft."""
    query = update.callback_query
    assert query is not None
    press = await callbacks.QUESTION.parse_or_refuse(update, context)
    if press is None:
        return
    if press["step"] == "a" and not press.args:
        await official_button(update, context, press.number("question"))
    else:
        await resident_button(update, context)


async def official_button(update: Update, context: BotContext, question_id: int) -> None:
    """q:a:<id>: an official starts answering; the next text they send is the answer."""
    query = update.callback_query
    assert query is not None
    user = update.effective_user
    if user is None:
        await query.answer(_render(context, "pertanyaan.tombol_tidak_dikenali"))
        return
    actor = await _official(context, user.id)
    if actor is None:
        await query.answer(_render(context, "pertanyaan.hanya_petugas"))
        return
    async with context.services.sessions() as session:
        open_text = await inbox_domain.open_question_text(session, question_id, scope=actor.scope)
    await query.answer()
    if open_text is None:
        await _send(
            query.message, _render(context, "pertanyaan.sudah_dijawab", nomor=question_id), None
        )
        return
    assert context.user_data is not None
    context.user_data[ANSWERING] = question_id
    await _send(
        query.message,
        _render(context, "pertanyaan.tulis_jawaban", nomor=question_id, pertanyaan=open_text),
        None,
    )


async def answer_typed(update: Update, context: BotContext) -> None:
    """Typed text of an official who is answering a question (runs before every other handler)."""
    message = update.effective_message
    user = update.effective_user
    if context.user_data is None or message is None or user is None or not message.text:
        return
    question_id = context.user_data.get(ANSWERING)
    if not isinstance(question_id, int):
        return  # not ours
    step = _answer_step(context, message, user.id, question_id)
    await consume(message, context, step, failed="pertanyaan.gagal_simpan", what="question answer")


async def _answer_step(
    context: BotContext, message: Message, user_id: int, question_id: int
) -> None:
    assert context.user_data is not None
    text = message.text or ""
    if text.strip().lower() == "batal":
        context.user_data.pop(ANSWERING, None)
        await message.reply_text(_render(context, "pertanyaan.batal"))
        return
    findings = check_text(text)
    if findings:
        await message.reply_text(
            _render(context, "pertanyaan.jawaban_tidak_netral", alasan=findings[0].reason)
        )
        return  # still answering: they send a corrected one
    actor = await _official(context, user_id)
    if actor is None:
        context.user_data.pop(ANSWERING, None)
        return
    services = context.services
    async with services.sessions.begin() as session:
        result = await inbox_domain.answer(
            session, question_id, user_id, text, services.clock.now(), scope=actor.scope
        )
    context.user_data.pop(ANSWERING, None)
    if not isinstance(result, inbox_domain.Delivery):
        await message.reply_text(_render(context, "pertanyaan.sudah_dijawab", nomor=question_id))
        return
    await context.bot.send_message(
        result.chat_id,
        _render(context, "pertanyaan.jawaban", pertanyaan=result.question, jawaban=result.answer),
    )
    await message.reply_text(_render(context, "pertanyaan.terkirim", nomor=question_id))


def typed_input_handlers() -> list[BaseHandler[Any, Any, Any]]:
    """For a group of its own before the others: it consumes text only while answering."""
    return [
        MessageHandler(filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND, answer_typed)
    ]


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [
        CommandHandler("pertanyaan", pertanyaan, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(question_button, pattern=callbacks.QUESTION.pattern),
    ]
