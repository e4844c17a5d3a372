"""/siaran: an official drafts a broadcast — message, audience, time, preview, confirm.

The draft lives in the flow store (kind siaran, the official's private chat), so it survives a
restart. Steps: `pick` (a library message or own text), `text` (the next typed message is the
text), `audience`, `when`, `time` (the next typed message is the time), `confirm`.

Buttons: callbacks.BROADCAST_DRAFT, `s:<token>:<step>[:<value>]`: m <key>, custom, k <kec>,
a <audience>, t now|ask, ok, no. The audience may itself hold ":" (`kecamatan:35.73.05`).
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any

from telegram import Message, Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.context import BotContext
from bot.handlers.approvals import ask_approvers
from bot.jobs import schedule_broadcast
from bot.ui import callbacks
from bot.ui.callbacks import BROADCAST_DRAFT, refuse
from bot.ui.guards import official
from bot.ui.views import Rows, Safe, edit_or_reply, in_rows, keyboard, local_time, text
from db.models import BroadcastStatus
from domain import flows, places
from domain.broadcasts import Draft, DraftRefused, check_custom_text, preview, submit
from domain.flows import Flow, FlowKind, Found
from domain.officials import Actor, PermissionDenied
from domain.reach import reach, reach_line
from messages.library import Audience as MessageAudience
from messages.library import default_library
from scheduler.audience import Audience
from scheduler.when import HELP as WHEN_HELP
from scheduler.when import WhenError, parse_when

log = logging.getLogger(__name__)

KIND = FlowKind.BROADCAST
TYPED_STEPS = ("text", "time")  # the steps that wait for a typed message
# Library messages that are not broadcasts themselves: the bot's own replies and buttons.
NOT_BROADCASTS = ("sistem.", "ui.")


def broadcastable() -> list[tuple[str, str]]:
    """(key, title) of every library message an official may send to groups."""
    return [
        (m.key, m.title)
        for m in default_library().messages.values()
        if m.audience in (MessageAudience.ALL_GROUPS, MessageAudience.RW_RT_GROUPS)
        and not m.key.startswith(NOT_BROADCASTS)
    ]


def _data(flow: Flow, *parts: object) -> str:
    return BROADCAST_DRAFT.build(flow.token, *parts)


def _cancel(context: BotContext, flow: Flow) -> tuple[str, str]:
    return (text(context, "ui.tombol.batal"), _data(flow, "no"))


async def _save(context: BotContext, flow: Flow, step: str, **data: Any) -> Flow:
    services = context.services
    async with services.sessions.begin() as session:
        return await flows.advance(session, flow, services.clock.now(), step=step, data=data)


async def _end(context: BotContext, flow: Flow) -> None:
    async with context.services.sessions.begin() as session:
        await flows.end(session, KIND, flow.chat_id, flow.user_id)


def _draft(flow: Flow) -> Draft:
    """The draft as the domain takes it; only once audience and time are chosen."""
    return Draft(
        audience=str(flow.data["audience"]),
        scheduled_at=datetime.fromisoformat(str(flow.data["when"])),
        message_key=flow.data.get("message_key"),
        text=flow.data.get("text"),
    )


# -- the steps ----------------------------------------------------------------------------------


async def siaran(update: Update, context: BotContext) -> None:
    """Start a broadcast: pick a library message or write one."""
    actor = await official(update, context)
    chat = update.effective_chat
    if actor is None or update.effective_message is None or chat is None:
        return
    services = context.services
    async with services.sessions.begin() as session:
        flow = await flows.start(
            session, KIND, chat.id, actor.user_id, services.clock.now(), step="pick"
        )
    rows: Rows = [[(title, _data(flow, "m", key))] for key, title in broadcastable()]
    rows.append([(text(context, "ui.siaran.tombol_tulis_sendiri"), _data(flow, "custom"))])
    rows.append([_cancel(context, flow)])
    await update.effective_message.reply_text(
        text(context, "ui.siaran.baru"), reply_markup=keyboard(rows)
    )


async def _ask_audience(update: Update, context: BotContext, flow: Flow, actor: Actor) -> None:
    async with context.services.sessions() as session:
        kecamatan = await places.kecamatan_list(session)
    if actor.citywide:
        rows: Rows = [
            [(text(context, "ui.siaran.tombol_semua_grup"), _data(flow, "a", "all"))],
            [
                (text(context, "ui.siaran.tombol_grup_rw"), _data(flow, "a", "rw")),
                (text(context, "ui.siaran.tombol_grup_rt"), _data(flow, "a", "rt")),
            ],
        ]
    else:
        rows = []
    rows += [
        [(text(context, "ui.tempat.kecamatan", nama=name), _data(flow, "k", code))]
        for code, name in kecamatan
        if actor.citywide or code == actor.kecamatan_code
    ]
    rows.append([_cancel(context, flow)])
    await edit_or_reply(update, text(context, "ui.siaran.kirim_ke"), keyboard(rows))


async def _ask_kelurahan(
    update: Update, context: BotContext, flow: Flow, code: str, actor: Actor
) -> None:
    async with context.services.sessions() as session:
        name = await places.kecamatan_name(session, code)
        kelurahan = await places.kelurahan_in(session, code)
    if name is None:  # a forged code: the audience screen again
        await _ask_audience(update, context, flow, actor)
        return
    rows: Rows = [
        [
            (
                text(context, "ui.siaran.tombol_seluruh_kecamatan", nama=name),
                _data(flow, "a", "kecamatan", code),
            )
        ]
    ]
    if actor.kelurahan_code is not None:  # a lurah's staff: their kelurahan only
        rows = []
        kelurahan = [k for k in kelurahan if k.code == actor.kelurahan_code]
    rows += in_rows([(k.name, _data(flow, "a", "kelurahan", k.code)) for k in kelurahan], 2)
    rows.append([_cancel(context, flow)])
    await edit_or_reply(
        update, text(context, "ui.siaran.satu_kelurahan", kecamatan=name), keyboard(rows)
    )


async def _ask_time(update: Update, context: BotContext, flow: Flow) -> None:
    rows: Rows = [
        [(text(context, "ui.siaran.tombol_sekarang"), _data(flow, "t", "now"))],
        [(text(context, "ui.siaran.tombol_tulis_waktu"), _data(flow, "t", "ask"))],
        [_cancel(context, flow)],
    ]
    await edit_or_reply(update, text(context, "ui.siaran.kapan"), keyboard(rows))


async def _show_preview(update: Update, context: BotContext, flow: Flow, actor: Actor) -> None:
    services = context.services
    draft = _draft(flow)
    try:
        async with services.sessions() as session:
            shown = await preview(session, actor, draft, services.profile, services.clock.now())
            # What the latest pre-flight says about those groups (issue 15: reach before send).
            reach_of = await reach(session, Audience.parse(draft.audience))
    except (DraftRefused, PermissionDenied) as exc:
        await edit_or_reply(update, text(context, "ui.alasan", alasan=str(exc)))
        return
    # The preview is the exact message groups will get (without the acknowledgement button).
    await context.bot.send_message(flow.chat_id, shown.html)
    parts = [
        text(
            context,
            "ui.siaran.pratinjau",
            sasaran=shown.audience_label,
            jumlah=shown.recipients,
            waktu=local_time(context, draft.scheduled_at),
        )
    ]
    parts.append(reach_line(reach_of, services.profile, services.clock.now()))
    if shown.needs_approval:
        parts.append(text(context, "ui.siaran.perlu_persetujuan", alasan=shown.approval_reason))
    parts.append(text(context, "ui.siaran.kirim_tanya"))
    label = "ui.siaran.tombol_ajukan" if shown.needs_approval else "ui.siaran.tombol_kirim"
    rows: Rows = [[(text(context, label), _data(flow, "ok")), _cancel(context, flow)]]
    await context.bot.send_message(flow.chat_id, "\n".join(parts), reply_markup=keyboard(rows))


async def siaran_button(update: Update, context: BotContext) -> None:
    """Every /siaran button."""
    query = update.callback_query
    assert query is not None
    press = BROADCAST_DRAFT.parse(query.data)
    chat = update.effective_chat
    if press is None or chat is None:
        await refuse(update, context, BROADCAST_DRAFT.unknown)
        return
    services = context.services
    async with services.sessions() as session:
        lookup = await flows.find(
            session, KIND, chat.id, query.from_user.id, press["token"], services.clock.now()
        )
    if lookup.found is Found.EXPIRED and lookup.flow is not None:
        await _end(context, lookup.flow)
        await refuse(update, context, "ui.siaran.kedaluwarsa")
        return
    if lookup.flow is None:
        await refuse(update, context, "ui.siaran.alur_lama")
        return
    actor = await official(update, context)
    if actor is None:
        return
    flow, step, value = lookup.flow, press["step"], ":".join(press.args)
    if not _fits(flow, step, value):  # a forged step, or one of an earlier screen
        await refuse(update, context, BROADCAST_DRAFT.unknown)
        return
    await callbacks.answer(query)
    if step == "no":
        await _end(context, flow)
        await edit_or_reply(update, text(context, "ui.siaran.dibatalkan"))
    elif step == "m":
        flow = await _save(context, flow, "audience", message_key=value, text=None)
        await _ask_audience(update, context, flow, actor)
    elif step == "custom":
        await _save(context, flow, "text")
        await edit_or_reply(update, text(context, "ui.siaran.tulis_teks"))
    elif step == "k" and (actor.citywide or value == actor.kecamatan_code):
        await _ask_kelurahan(update, context, flow, value, actor)
    elif step == "a":
        flow = await _save(context, flow, "when", audience=value)
        await _ask_time(update, context, flow)
    elif step == "t" and value == "now":
        flow = await _save(context, flow, "confirm", when=services.clock.now().isoformat())
        await _show_preview(update, context, flow, actor)
    elif step == "t":
        await _save(context, flow, "time")
        await edit_or_reply(update, text(context, "ui.siaran.tulis_waktu", bantuan=Safe(WHEN_HELP)))
    elif step == "ok" and flow.step == "confirm":
        await _confirm(update, context, flow, actor)


# The flow step each button belongs to: a press from another step is refused, never applied.
_STEP_OF = {"m": ("pick",), "custom": ("pick",), "k": ("audience",), "a": ("audience",)}
_STEP_OF |= {"t": ("when",), "ok": ("confirm",)}


def _fits(flow: Flow, step: str, value: str) -> bool:
    if step == "no":
        return True
    if flow.step not in _STEP_OF.get(step, ()):
        return False
    if step == "m":
        return value in {key for key, _ in broadcastable()}
    if step == "t":
        return value in ("now", "ask")
    if step == "k":  # a kecamatan code; whether it exists and is the actor's is asked later
        return re.fullmatch(r"[0-9]{2}\.[0-9]{2}\.[0-9]{2}", value) is not None
    return bool(value) or step in ("custom", "ok")


async def siaran_typed(update: Update, context: BotContext) -> None:
    """Typed input of a /siaran in progress: the custom text or the time."""
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    if message is None or chat is None or user is None:
        return
    services = context.services
    async with services.sessions() as session:
        lookup = await flows.current(session, KIND, chat.id, user.id, services.clock.now())
    flow = lookup.flow
    if flow is None or flow.step not in TYPED_STEPS:
        return  # not ours: the residents' handlers in the next group answer it
    # From here the text is the flow's, answered or refused: no other handler may answer it.
    try:
        if lookup.found is Found.EXPIRED:
            await _end(context, flow)
            await message.reply_text(text(context, "ui.siaran.kedaluwarsa"))
        else:
            await _typed_step(update, context, flow, message)
    except Exception:
        log.exception("typed /siaran input failed")
        await message.reply_text(text(context, "ui.siaran.gagal"))
    raise ApplicationHandlerStop


async def _typed_step(update: Update, context: BotContext, flow: Flow, message: Message) -> None:
    actor = await official(update, context)
    if actor is None:
        return
    services = context.services
    if flow.step == "text":
        body = message.text_html or ""
        try:
            check_custom_text(body, services.profile)
        except DraftRefused as exc:
            await message.reply_text(text(context, "ui.alasan", alasan=str(exc)))
            return  # still awaiting text: nothing is lost, they send a corrected one
        flow = await _save(context, flow, "audience", text=body, message_key=None)
        await _ask_audience(update, context, flow, actor)
        return
    try:
        when = parse_when(message.text or "", services.profile, services.clock.now())
    except WhenError as exc:
        await message.reply_text(text(context, "ui.alasan_html", alasan=Safe(str(exc))))
        return
    flow = await _save(context, flow, "confirm", when=when.isoformat())
    await _show_preview(update, context, flow, actor)


async def _confirm(update: Update, context: BotContext, flow: Flow, actor: Actor) -> None:
    services = context.services
    now = services.clock.now()
    try:
        async with services.sessions.begin() as session:
            broadcast = await submit(session, actor, _draft(flow), services.profile, now)
            await flows.end(session, KIND, flow.chat_id, flow.user_id)
    except (DraftRefused, PermissionDenied) as exc:
        await edit_or_reply(update, text(context, "ui.alasan", alasan=str(exc)))
        return
    if broadcast.status is BroadcastStatus.SCHEDULED:
        assert context.job_queue is not None
        schedule_broadcast(context.job_queue, broadcast)
        when = local_time(context, broadcast.scheduled_at)
        await edit_or_reply(
            update, text(context, "ui.siaran.dijadwalkan", nomor=broadcast.id, waktu=when)
        )
        return
    await edit_or_reply(
        update,
        text(
            context,
            "ui.siaran.menunggu_persetujuan",
            nomor=broadcast.id,
            alasan=broadcast.status_reason or "",
        ),
    )
    await ask_approvers(context, broadcast, actor)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [
        CommandHandler("siaran", siaran),
        CallbackQueryHandler(siaran_button, pattern=BROADCAST_DRAFT.pattern),
    ]


def typed_input_handlers() -> list[BaseHandler[Any, Any, Any]]:
    """For a group that runs before the others: it consumes text only when a flow awaits it."""
    return [
        MessageHandler(filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND, siaran_typed)
    ]
