"""Registration: /daftar in a group, guided or in one line, and the flow's buttons.

The flow is the group's (one at a time, in the flow store under user 0): a new /daftar, a
greeting or /berhenti replaces it, so a button of an older flow changes nothing. Its data keeps
the owner, who started it; ANY_ADMIN ("any admin of the chat") for greetings and flows started
by an anonymous admin, whose presses come from their own account. Only admins change a
registration, checked with Telegram.

The steps and their buttons are in bot.handlers.registration_flow.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Chat, Message, Update
from telegram.constants import ChatType
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.context import BotContext
from bot.handlers.registration_flow import (
    cancel_button,
    close_flow,
    confirm_screen,
    data,
    kecamatan_screen,
    open_flow,
    registered,
    screen,
)
from bot.ui import callbacks
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
from bot.ui.place_picker import number_arg
from bot.ui.views import Rows, Safe, add_to_group_button, edit, keyboard, text
from domain import flows, onboarding, places, subscriptions
from domain.flows import CHAT_FLOW, Flow, FlowKind, Found
from domain.registration_form import parse_registration
from domain.subscriptions import Registration

log = logging.getLogger(__name__)

FINISHING = ("s", "keep", "stop")  # the steps that change the registration


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


async def start_daftar(
    message: Message, chat: Chat, context: BotContext, typed: str, kelurahan: str | None = None
) -> None:
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
        # A poster's link chose the kelurahan: start at "RW or RT group?", still confirmed.
        body, markup = (
            await screen(context, flow, chat, "l", (kelurahan,))
            if kelurahan
            else await kecamatan_screen(context, flow, chat.id)
        )
        await message.reply_text(body, reply_markup=markup)
        return
    async with services.sessions() as session:
        regions = await places.load_regions(session)
    parsed = parse_registration(typed, regions)
    if parsed.registration is not None:
        body, markup = await confirm_screen(context, flow, chat, parsed.registration)
        await message.reply_text(body, reply_markup=markup)
    elif parsed.candidates and parsed.rw is not None:
        rows: Rows = [
            [(m.name, data(flow, "y", m.code, parsed.rw, parsed.rt or 0))]
            for m in parsed.candidates
        ]
        rows.append([(text(context, "ui.daftar.tombol_bukan_salah_satunya"), data(flow, "k"))])
        rows.append([cancel_button(context, flow)])
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
    async with context.services.sessions() as session:
        hint = await onboarding.registration_hint(session, (context.args or [""])[0])
    if hint is not None:
        await start_daftar(message, chat, context, "", hint.kelurahan_code)
    else:
        await message.reply_text(text(context, "sistem.grup.bantuan"))


# -- buttons -----------------------------------------------------------------------------------


async def daftar_button(update: Update, context: BotContext) -> None:
    """Every d: button. Refusals change nothing and are said in the callback answer."""
    query = update.callback_query
    assert query is not None
    chat = update.effective_chat
    valid = chat is not None and is_group(chat) and isinstance(query.message, Message)
    press = await REGISTRATION.parse_or_refuse(update, context, valid=valid)
    if press is None or chat is None or not isinstance(query.message, Message):
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
        body, markup = await screen(context, flow, chat, step, press.args)
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
            registration = Registration(args[0], number_arg(args[1]), number_arg(args[2]) or None)
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
