"""Registration: /daftar in a group, guided or in one line, and the flow's buttons.

The flow is the group's (one at a time, in the flow store under user 0): a new /daftar, a
greeting or /berhenti replaces it, so a button of an older flow changes nothing. Its data keeps
the owner, who started it; ANY_ADMIN ("any admin of the chat") for greetings and flows started
by an anonymous admin, whose presses come from their own account. Only admins change a
registration, checked with Telegram.

Buttons: callbacks.REGISTRATION, `d:<token>:<step>[:<args>]`. Steps: k (kecamatan),
c <kec> (kelurahan), l <kel> (RW or RT group), w <kel> <lvl> <page> (RW number; lvl w = RW
group, t = RT group), r <kel> <rw> <page> (RT number), y <kel> <rw> <rt> (confirm; rt 0 = RW
group), s <kel> <rw> <rt> (save), keep, stop, x (cancel).
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Chat, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.context import BotContext
from bot.ui import callbacks, place_picker
from bot.ui.callbacks import REGISTRATION, refuse
from bot.ui.guards import (
    ANY_ADMIN,
    GROUPS,
    NEW_MESSAGES,
    flood_limited,
    group_admin,
    is_admin,
    is_group,
)
from bot.ui.views import Rows, Safe, add_to_group_button, edit, keyboard, text
from domain import flows, places, subscriptions
from domain.flows import CHAT_FLOW, Flow, FlowKind, Found
from domain.subscriptions import MAX_NUMBER, Registration

log = logging.getLogger(__name__)

FINISHING = ("s", "keep", "stop")  # the steps that change the registration


async def open_flow(context: BotContext, chat_id: int, owner: int, step: str = "k") -> Flow:
    """A new registration flow for the group, replacing the one before."""
    services = context.services
    async with services.sessions.begin() as session:
        return await flows.start(
            session,
            FlowKind.REGISTRATION,
            chat_id,
            CHAT_FLOW,
            services.clock.now(),
            step=step,
            data={"owner": owner},
        )


async def close_flow(context: BotContext, chat_id: int) -> None:
    async with context.services.sessions.begin() as session:
        await flows.end(session, FlowKind.REGISTRATION, chat_id, CHAT_FLOW)


def data(flow: Flow, *parts: object) -> str:
    return REGISTRATION.build(flow.token, *parts)


def _cancel(context: BotContext, flow: Flow) -> tuple[str, str]:
    return (text(context, "ui.tombol.batal"), data(flow, "x"))


# -- screens -----------------------------------------------------------------------------------


async def kecamatan_screen(
    context: BotContext, flow: Flow, chat_id: int, intro: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    async with context.services.sessions() as session:
        rows = await place_picker.kecamatan_rows(context, session, lambda c: data(flow, "c", c))
        status = await subscriptions.group_status(session, chat_id)
    parts = [intro] if intro else []
    body = text(context, "ui.daftar.langkah_kecamatan")
    if status is not None and status.subscribed and status.registration is not None:
        now = subscriptions.describe(status.registration, status.where)
        body += "\n" + text(context, "ui.daftar.terdaftar_saat_ini", wilayah=now)
    rows.append([_cancel(context, flow)])
    return "\n\n".join([*parts, body]), keyboard(rows)


async def _screen(
    context: BotContext, flow: Flow, chat: Chat, step: str, args: tuple[str, ...]
) -> tuple[str, InlineKeyboardMarkup]:
    """The text and keyboard of a flow step. ValueError on data that names nothing real."""
    if step == "k":
        return await kecamatan_screen(context, flow, chat.id)
    cancel = _cancel(context, flow)
    async with context.services.sessions() as session:
        if step == "c":
            name, rows = await place_picker.kelurahan_rows(
                session, args[0], lambda code: data(flow, "l", code)
            )
            rows.append([(text(context, "ui.tombol.kembali_kecamatan"), data(flow, "k")), cancel])
            return text(context, "ui.daftar.langkah_kelurahan", kecamatan=name), keyboard(rows)
        where = await place_picker.kelurahan(session, args[0])
    place = {"kelurahan": where.name, "kecamatan": where.kecamatan}
    if step == "l":
        rows: Rows = [
            [(text(context, "ui.daftar.tombol_grup_rw"), data(flow, "w", where.code, "w", 0))],
            [(text(context, "ui.daftar.tombol_grup_rt"), data(flow, "w", where.code, "t", 0))],
            [
                (
                    text(context, "ui.tombol.kembali_kelurahan"),
                    data(flow, "c", where.kecamatan_code),
                ),
                cancel,
            ],
        ]
        return text(context, "ui.daftar.langkah_jenis", **place), keyboard(rows)
    if step == "w":
        level, page = args[1], int(args[2])
        if level not in ("w", "t"):
            raise ValueError(level)
        then = "y" if level == "w" else "r"
        rows = place_picker.number_page(
            context,
            page,
            lambda n: data(flow, then, where.code, n, 0),
            lambda p: data(flow, "w", where.code, level, p),
        )
        rows.append(
            [(text(context, "ui.tombol.kembali_rw_rt"), data(flow, "l", where.code)), cancel]
        )
        key = "ui.daftar.langkah_rw" if level == "w" else "ui.daftar.langkah_rw_lalu_rt"
        return text(context, key, **place), keyboard(rows)
    if step == "r":
        rw, page = int(args[1]), int(args[2])
        if not 1 <= rw <= MAX_NUMBER:
            raise ValueError(rw)
        rows = place_picker.number_page(
            context,
            page,
            lambda n: data(flow, "y", where.code, rw, n),
            lambda p: data(flow, "r", where.code, rw, p),
        )
        rows.append(
            [(text(context, "ui.tombol.kembali_rw"), data(flow, "w", where.code, "t", 0)), cancel]
        )
        return text(context, "ui.daftar.langkah_rt", rw=f"{rw:02d}", **place), keyboard(rows)
    if step == "y":
        registration = Registration(where.code, int(args[1]), int(args[2]) or None)
        return await confirm_screen(context, flow, chat, registration)
    raise ValueError(step)


async def confirm_screen(
    context: BotContext, flow: Flow, chat: Chat, registration: Registration
) -> tuple[str, InlineKeyboardMarkup]:
    """Exactly what will be stored, and what it replaces."""
    async with context.services.sessions() as session:
        where = await place_picker.kelurahan(session, registration.kelurahan_code)
        status = await subscriptions.group_status(session, chat.id)
    parts = [
        text(
            context,
            "ui.daftar.periksa",
            grup=chat.title or "",
            jenis=registration.level.value.upper(),
            wilayah=registration.area,
            kelurahan=where.name,
            kecamatan=where.kecamatan,
        )
    ]
    if status is not None and status.subscribed and status.registration is not None:
        if status.registration == registration:
            parts.append(text(context, "ui.daftar.sama_dengan_saat_ini"))
        else:
            before = subscriptions.describe(status.registration, status.where)
            parts.append(text(context, "ui.daftar.mengganti", sebelumnya=before))
    parts.append(text(context, "ui.daftar.sudah_benar"))
    code, rw, rt = registration.kelurahan_code, registration.rw, registration.rt or 0
    rows = [
        [(text(context, "ui.tombol.simpan"), data(flow, "s", code, rw, rt))],
        [(text(context, "ui.tombol.ubah"), data(flow, "k")), _cancel(context, flow)],
    ]
    return "\n\n".join(parts), keyboard(rows)


def registered(context: BotContext, described: str) -> str:
    return (
        text(context, "ui.daftar.terdaftar", wilayah=described)
        + "\n\n"
        + text(context, "sistem.grup.terdaftar")
    )


# -- /daftar, /start daftar ----------------------------------------------------------------------


@flood_limited
async def daftar(update: Update, context: BotContext) -> None:
    """/daftar in a group (admins): the guided flow, or the one-line form `/daftar rw 5 …`."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None:
        return
    if chat.type == ChatType.PRIVATE:
        await message.reply_text(
            text(context, "sistem.grup.daftar_di_grup"),
            reply_markup=keyboard([[add_to_group_button(context)]]),
        )
        return
    if is_group(chat):
        await start_daftar(message, chat, context, " ".join(context.args or []))


async def start_daftar(message: Message, chat: Chat, context: BotContext, typed: str) -> None:
    owner = await group_admin(message, context)
    if owner is None:
        return
    services = context.services
    async with services.sessions.begin() as session:
        await subscriptions.known_group(
            session, chat.id, chat.title, chat.type, services.clock.now()
        )
    flow = await open_flow(context, chat.id, owner)
    if not typed.strip():
        body, markup = await kecamatan_screen(context, flow, chat.id)
        await message.reply_text(body, reply_markup=markup)
        return
    async with services.sessions() as session:
        regions = await places.load_regions(session)
    parsed = subscriptions.parse_registration(typed, regions)
    if parsed.registration is not None:
        body, markup = await confirm_screen(context, flow, chat, parsed.registration)
        await message.reply_text(body, reply_markup=markup)
    elif parsed.candidates and parsed.rw is not None:
        rows: Rows = [
            [(m.name, data(flow, "y", m.code, parsed.rw, parsed.rt or 0))]
            for m in parsed.candidates
        ]
        rows.append([(text(context, "ui.daftar.tombol_bukan_salah_satunya"), data(flow, "k"))])
        rows.append([_cancel(context, flow)])
        area = places.area_label(parsed.rw, parsed.rt)
        await message.reply_text(
            text(context, "ui.daftar.kelurahan_mana", wilayah=area), reply_markup=keyboard(rows)
        )
    else:
        problem = Safe(parsed.error) if parsed.error else text(context, "ui.daftar.format_salah")
        intro = text(context, "ui.daftar.peringatan", masalah=Safe(problem))
        body, markup = await kecamatan_screen(context, flow, chat.id, intro)
        await message.reply_text(body, reply_markup=markup)


@flood_limited
async def start_in_group(update: Update, context: BotContext) -> None:
    """/start in a group: `/start daftar` comes from the t.me/<bot>?startgroup=daftar link."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None or not is_group(chat):
        return
    if (context.args or [""])[0].lower() == "daftar":
        await start_daftar(message, chat, context, "")
    else:
        await message.reply_text(text(context, "sistem.grup.bantuan"))


# -- buttons -----------------------------------------------------------------------------------


async def daftar_button(update: Update, context: BotContext) -> None:
    """Every d: button. Refusals change nothing and are said in the callback answer."""
    query = update.callback_query
    assert query is not None
    press = REGISTRATION.parse(query.data)
    chat = update.effective_chat
    if (
        press is None
        or chat is None
        or not is_group(chat)
        or not isinstance(query.message, Message)
    ):
        await refuse(update, context, REGISTRATION.unknown)
        return
    services = context.services
    async with services.sessions() as session:
        lookup = await flows.find(
            session,
            FlowKind.REGISTRATION,
            chat.id,
            CHAT_FLOW,
            press["token"],
            services.clock.now(),
        )
    if lookup.found is Found.STALE or lookup.flow is None:
        await refuse(update, context, "ui.daftar.alur_lama")
        return
    if lookup.found is Found.EXPIRED:
        await close_flow(context, chat.id)
        await refuse(update, context, "ui.daftar.kedaluwarsa")
        return
    flow, step, user = lookup.flow, press["step"], query.from_user
    owner = int(flow.data.get("owner", ANY_ADMIN))
    if owner != ANY_ADMIN and user.id != owner:
        await refuse(update, context, "ui.daftar.alur_admin_lain")
        return
    # Whoever started the flow was an admin then; asking Telegram again on every step would
    # spend the group's request budget, so it is asked when the change is made.
    finishing = step in FINISHING
    if (owner == ANY_ADMIN or finishing) and not await is_admin(context, chat.id, user.id):
        await refuse(update, context, "sistem.bukan_admin")
        return
    if finishing or step == "x":
        notice, alert = await _finish(context, flow, chat, query.message, step, press.args, user.id)
        await callbacks.answer(query, notice, alert=alert)
        return
    try:
        body, markup = await _screen(context, flow, chat, step, press.args)
    except (ValueError, IndexError):
        await refuse(update, context, REGISTRATION.unknown)
        return
    async with services.sessions.begin() as session:
        await flows.advance(session, flow, services.clock.now(), step=step)
    await edit(query.message, body, markup)
    await callbacks.answer(query)


async def _finish(
    context: BotContext,
    flow: Flow,
    chat: Chat,
    message: Message,
    step: str,
    args: tuple[str, ...],
    user_id: int,
) -> tuple[str | None, bool]:
    """Save, keep, stop or cancel: the flow ends and its buttons go away. The press's answer."""
    services = context.services
    now = services.clock.now()
    if step == "x":
        await close_flow(context, chat.id)
        await edit(message, text(context, "ui.daftar.dibatalkan"))
        return None, False
    if step == "s":
        try:
            registration = Registration(args[0], int(args[1]), int(args[2]) or None)
        except (ValueError, IndexError):
            return text(context, REGISTRATION.unknown), True
        async with services.sessions.begin() as session:
            where = await places.place(session, registration.kelurahan_code)
            if where is None:
                return text(context, REGISTRATION.unknown), True
            await subscriptions.subscribe(
                session, chat.id, registration, user_id, now, title=chat.title, chat_type=chat.type
            )
            await flows.end(session, FlowKind.REGISTRATION, chat.id, CHAT_FLOW)
        await edit(message, registered(context, subscriptions.describe(registration, where)))
        return text(context, "ui.daftar.tersimpan"), False
    if step == "keep":
        async with services.sessions.begin() as session:
            kept = await subscriptions.keep_registration(session, chat.id, user_id, now)
            described = await subscriptions.describe_in(session, kept) if kept else ""
            await flows.end(session, FlowKind.REGISTRATION, chat.id, CHAT_FLOW)
        if kept is None:
            owner = int(flow.data.get("owner", ANY_ADMIN))
            body, markup = await kecamatan_screen(
                context, await open_flow(context, chat.id, owner), chat.id
            )
            await edit(message, body, markup)
            return text(context, "ui.daftar.tidak_ada_pendaftaran_lama"), True
        await edit(message, registered(context, described))
        return text(context, "ui.daftar.tersimpan"), False
    # stop, from /berhenti's confirmation
    async with services.sessions.begin() as session:
        stopped = await subscriptions.unsubscribe(session, chat.id, user_id, now)
        await flows.end(session, FlowKind.REGISTRATION, chat.id, CHAT_FLOW)
    key = "sistem.grup.berhenti" if stopped else "ui.grup.belum_terdaftar_singkat"
    await edit(message, text(context, key))
    return None, False


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [
        CommandHandler("daftar", daftar, filters=NEW_MESSAGES),
        # Before the residents' private /start: this one only answers in groups.
        CommandHandler("start", start_in_group, filters=GROUPS & NEW_MESSAGES),
        CallbackQueryHandler(daftar_button, pattern=REGISTRATION.pattern),
    ]
