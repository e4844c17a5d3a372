"""The posko: `/posko` makes a group the operations room; its buttons act on cases.

`/posko` (city-wide admin: the city's posko; kecamatan admin: their kecamatan's) or
`/posko <kecamatan>` (a city-wide admin making one kecamatan's). Buttons: callbacks.POSKO,
`ps:<action>:<case>`: t "Saya tangani", d "Selesai" (asks a short note, typed as a reply),
r "Bukan kewenangan Pemkot" (closed; the reporter gets the right channel), v a digest line's
full card. Only officials in the case's scope may press; the reporter hears of each change in
the chat they reported from.
"""

from __future__ import annotations

import logging
import unicodedata
from typing import Any

from telegram import Message, Update
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
from bot.field_posting import (
    card_buttons,
    card_text,
    post_soon,
    redraw_card,
    send_card,
    tell_reporters,
)
from bot.ui import callbacks
from bot.ui.callbacks import POSKO, refuse
from bot.ui.typed_input import TypedFlow
from bot.ui.views import text
from domain import flows, places
from domain.field import categories
from domain.field.cases import MAX_NOTE, Action, CaseRefusal, CaseRefused, case_view, change
from domain.field.posko import PoskoRefusal, PoskoRefused, mark_posted, set_posko
from domain.flows import Flow, FlowKind
from domain.officials import find_actor, scope_contains
from messages.render import Safe

log = logging.getLogger(__name__)

NOTE = FlowKind.POSKO_NOTE


def _fold(name: str) -> str:
    return (
        "".join(c for c in unicodedata.normalize("NFKD", name.casefold()) if c.isalnum())
        .removeprefix("kecamatan")
        .removeprefix("kec")
    )


async def posko_command(update: Update, context: BotContext) -> None:
    """Make this group a posko: the city's, or one kecamatan's."""
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    if message is None or chat is None or user is None:
        return
    if chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP):
        await message.reply_text(text(context, "ui.posko.hanya_grup"))
        return
    services = context.services
    now = services.clock.now()
    wanted = " ".join(context.args or [])
    async with services.sessions.begin() as session:
        actor = await find_actor(session, user.id)
        if actor is None or not actor.is_admin:
            await message.reply_text(text(context, "ui.posko.bukan_admin"))
            return
        code: str | None = None
        if wanted:
            matches = [
                c for c, name in await places.kecamatan_list(session)
                if _fold(name) == _fold(wanted)
            ]  # fmt: skip
            if not matches:
                await message.reply_text(
                    text(context, "ui.posko.kecamatan_tidak_dikenal", nama=wanted[:60])
                )
                return
            code = matches[0]
        try:
            made = await set_posko(session, actor, chat.id, chat.title or "", now, code)
        except PoskoRefused as exc:
            key = {
                PoskoRefusal.NOT_ADMIN: "ui.posko.bukan_admin",
                PoskoRefusal.OUT_OF_SCOPE: "ui.posko.di_luar_wilayah",
            }.get(exc.reason, "ui.posko.di_luar_wilayah")
            await message.reply_text(text(context, key))
            return
        name = await places.kecamatan_name(session, made.kecamatan_code or "")
    where = (
        text(context, "ui.posko.kecamatan", nama=name)
        if made.kecamatan_code and name
        else text(context, "ui.posko.kota")
    )
    body = text(context, "ui.posko.dijadikan", wilayah=where)
    if made.waiting:
        body += "\n" + text(context, "ui.posko.menunggu", jumlah=made.waiting)
    await message.reply_text(body)
    post_soon(context.application, chat.id)


_REFUSAL = {
    CaseRefusal.GONE: "ui.posko.tolak.tidak_ada",
    CaseRefusal.OUT_OF_SCOPE: "ui.posko.tolak.di_luar_wilayah",
    CaseRefusal.CLOSED: "ui.posko.tolak.sudah_ditutup",
    CaseRefusal.TAKEN: "ui.posko.tolak.sudah_diambil",
}


async def posko_button(update: Update, context: BotContext) -> None:
    """Every button on a case: in the posko, in a digest, in an escalation."""
    query = update.callback_query
    assert query is not None
    chat = update.effective_chat
    press = await POSKO.parse_or_refuse(update, context, valid=chat is not None)
    if press is None or chat is None:
        return
    services = context.services
    now = services.clock.now()
    case_id, action = press.number("case"), press["action"]
    async with services.sessions() as session:
        actor = await find_actor(session, query.from_user.id)
        view = await case_view(session, case_id)
    if actor is None:
        await refuse(update, context, "ui.posko.tolak.bukan_petugas")
        return
    if view is None:
        await refuse(update, context, "ui.posko.tolak.tidak_ada")
        return
    if not scope_contains(actor.scope, view.kecamatan_code):
        await refuse(update, context, "ui.posko.tolak.di_luar_wilayah")
        return
    if action == "v":  # a digest line opened as its own card, in the chat it was pressed in
        await callbacks.answer(query)
        message = await send_card(context.application, chat.id, view)
        if view.posko_chat_id == chat.id and view.posko_digest:
            await _adopt_card(context, case_id, chat.id, message.message_id)
        return
    if not view.open:
        await refuse(update, context, "ui.posko.tolak.sudah_ditutup", nomor=case_id)
        return
    if action == "d":
        await _ask_note(update, context, case_id, actor.user_id)
        return
    verb = Action.TAKE if action == "t" else Action.REFER
    try:
        async with services.sessions.begin() as session:
            changed = await change(session, actor, case_id, verb, now)
    except CaseRefused as exc:
        await _refuse_change(update, context, exc, case_id)
        return
    answer = "ui.posko.jawab.ditangani" if verb is Action.TAKE else "ui.posko.jawab.dirujuk"
    await callbacks.answer(query, text(context, answer, nomor=case_id))
    await _after_change(context, case_id, chat.id, from_digest=view.posko_digest)
    if chat.type == ChatType.PRIVATE and isinstance(query.message, Message):
        await _redraw_pressed(context, query.message, case_id)  # an escalation's copy
    if verb is Action.TAKE:
        await tell_reporters(context.application, changed.tell, "ui.lapor.kabar.ditangani")
    else:
        kind = categories.category(changed.category)
        referral = text(context, kind.referral if kind else "ui.lapor.rujukan.lainnya")
        await tell_reporters(
            context.application, changed.tell, "ui.lapor.kabar.dirujuk", rujukan=Safe(referral)
        )


async def _refuse_change(
    update: Update, context: BotContext, exc: CaseRefused, case_id: int
) -> None:
    name = ""
    if exc.reason is CaseRefusal.TAKEN:
        async with context.services.sessions() as session:
            view = await case_view(session, case_id)
        name = view.assigned_name if view else ""
    key = _REFUSAL.get(exc.reason, POSKO.unknown)
    await refuse(update, context, key, nomor=case_id, petugas=name)


async def _adopt_card(context: BotContext, case_id: int, chat_id: int, message_id: int) -> None:
    services = context.services
    async with services.sessions.begin() as session:
        await mark_posted(session, [case_id], chat_id, message_id, services.clock.now())


async def _after_change(
    context: BotContext, case_id: int, chat_id: int, *, from_digest: bool
) -> None:
    """The case's card shows the change; a case handled from a digest gets its own card in
    the posko (so Selesai and Bukan kewenangan are one press away)."""
    async with context.services.sessions() as session:
        view = await case_view(session, case_id)
    if view is None:
        return
    if from_digest and view.posko_chat_id is not None and view.open:
        message = await send_card(context.application, view.posko_chat_id, view)
        await _adopt_card(context, case_id, view.posko_chat_id, message.message_id)
        return
    await redraw_card(context.application, view)


async def _redraw_pressed(context: BotContext, message: Message, case_id: int) -> None:
    async with context.services.sessions() as session:
        view = await case_view(session, case_id)
    if view is None:
        return
    services = context.services
    markup = card_buttons(services, view)
    try:
        if message.photo:
            await message.edit_caption(card_text(services, view, limit=1024), reply_markup=markup)
        else:
            await message.edit_text(card_text(services, view), reply_markup=markup)
    except TelegramError as exc:
        log.info("redrawing a pressed case message failed: %s", exc)


async def _ask_note(update: Update, context: BotContext, case_id: int, user_id: int) -> None:
    query = update.callback_query
    chat = update.effective_chat
    assert query is not None and chat is not None
    services = context.services
    async with services.sessions.begin() as session:
        await flows.start(
            session, NOTE, chat.id, user_id, services.clock.now(), step="catatan",
            data={"case_id": case_id},
        )  # fmt: skip
    await callbacks.answer(query, text(context, "ui.posko.jawab.tulis_catatan"))
    prompt = await context.bot.send_message(
        chat.id, text(context, "ui.posko.tanya_catatan", nomor=case_id, batas=MAX_NOTE)
    )
    # Only a reply to this prompt is the note: other messages of the official stay theirs.
    async with services.sessions.begin() as session:
        lookup = await flows.current(session, NOTE, chat.id, user_id, services.clock.now())
        if lookup.flow is not None:
            await flows.advance(
                session, lookup.flow, services.clock.now(), step="catatan",
                data={"prompt": prompt.message_id},
            )  # fmt: skip


def _answers_prompt(flow: Flow, message: Message, context: BotContext) -> bool:
    """Only a reply to the bot's note prompt is the note: the official's other messages stay
    theirs."""
    replied = message.reply_to_message
    if message.text is None or replied is None or replied.from_user is None:
        return False
    prompt = flow.data.get("prompt")  # None for the instant before the prompt's id is saved
    return replied.from_user.id == context.bot.id and prompt in (None, replied.message_id)


async def _note_step(update: Update, context: BotContext, flow: Flow, message: Message) -> None:
    services = context.services
    now = services.clock.now()
    note = " ".join((message.text or "").split())
    if not note:
        await message.reply_text(text(context, "ui.posko.catatan_kosong"))
        return
    if len(note) > MAX_NOTE:
        await message.reply_text(
            text(context, "ui.posko.catatan_terlalu_panjang", panjang=len(note), batas=MAX_NOTE)
        )
        return
    case_id = int(flow.data["case_id"])
    try:
        async with services.sessions.begin() as session:
            actor = await find_actor(session, flow.user_id)
            if actor is None:
                raise CaseRefused(CaseRefusal.OUT_OF_SCOPE)
            changed = await change(session, actor, case_id, Action.DONE, now, note=note)
            await flows.end(session, NOTE, flow.chat_id, flow.user_id)
    except CaseRefused as exc:
        async with services.sessions.begin() as session:
            await flows.end(session, NOTE, flow.chat_id, flow.user_id)
        key = _REFUSAL.get(exc.reason, "ui.posko.tolak.di_luar_wilayah")
        params: dict[str, object] = {"nomor": case_id, "petugas": ""}
        await message.reply_text(text(context, key, **params))
        return
    await message.reply_text(text(context, "ui.posko.selesai_tercatat", nomor=case_id))
    await _after_change(context, case_id, flow.chat_id, from_digest=False)
    await tell_reporters(
        context.application, changed.tell, "ui.lapor.kabar.tuntas", catatan=changed.note or ""
    )


# The short note that closes a case as done (a reply in the posko, or typed in private).
TYPED = TypedFlow(
    NOTE,
    {"catatan": _note_step},
    expired="ui.posko.tolak.catatan_lama",
    failed="ui.galat.maaf",
    what="posko note",
    claims=_answers_prompt,
)
note_typed = TYPED.take


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [
        CommandHandler("posko", posko_command),
        CallbackQueryHandler(posko_button, pattern=POSKO.pattern),
    ]


def typed_input_handlers() -> list[BaseHandler[Any, Any, Any]]:
    """Runs before the others; consumes a text only when it answers an official's note prompt."""
    return [
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.TEXT & filters.REPLY & ~filters.COMMAND,
            note_typed,
        )
    ]
