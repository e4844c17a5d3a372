"""/siaran: an official drafts a broadcast — message, audience, time, preview, confirm.

The draft lives in the flow store (kind siaran, the official's private chat), so it survives a
restart. Steps: `pick` (a library message or own text), `text` (the next typed message is the
text), `audience`, `when`, `time` (the next typed message is the time), `confirm`.

"Ulangi" (issue 16): from `pick`, `u` lists earlier broadcasts and `r <id>` takes one's content
(`/siaran ulangi ID` starts there); the audience screen then offers only the original audience
or narrower ones (domain.repeats), and the rest is the same preview and approval path. A
city-wide admin may instead repeat it every week or month until a date (`w`, the typed date
in step `until`, `so` in step `series`): loaded as an agenda of one recurring step.

Buttons: callbacks.BROADCAST_DRAFT, `s:<token>:<step>[:<value>]`: m <key>, custom, u, r <id>,
k <kec>, a <audience>, t now|ask, e on|off (acknowledgement with the escalation chain), ok,
w minggu|bulan, so, no. The audience may hold ":"
(`kecamatan:35.73.05`).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any

from telegram import Message, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.context import BotContext
from bot.handlers.approvals import ask_approvers
from bot.handlers.siaran_screens import (
    KIND,
    ack_line,
    ask_audience,
    ask_kelurahan,
    ask_repeat,
    ask_time,
    broadcastable,
    cancel_button,
    data,
    draft_of,
    offered,
    show_preview,
    take_repeat,
    toggle_ack,
)
from bot.jobs import schedule_broadcast
from bot.ui import callbacks
from bot.ui.callbacks import BROADCAST_DRAFT, refuse
from bot.ui.flow_steps import end_flow as end
from bot.ui.flow_steps import save_step as save
from bot.ui.guards import official
from bot.ui.typed_input import TypedFlow, TypedStep
from bot.ui.views import Rows, Safe, edit_or_reply, keyboard, local_time, reason, text
from db.models import BroadcastStatus
from domain import flows, repeats
from domain.broadcasts import DraftRefused, check_custom_text, submit
from domain.flows import Flow, Found
from domain.inputs import InvalidNumber, parse_record_id
from domain.officials import Actor, PermissionDenied
from scheduler.audience import Audience
from scheduler.timeline import load_timeline
from scheduler.when import HELP as WHEN_HELP
from scheduler.when import WhenError, parse_when

_OfficialStep = Callable[[Update, BotContext, Flow, Message, Actor], Awaitable[None]]

# -- the steps ----------------------------------------------------------------------------------


async def siaran(update: Update, context: BotContext) -> None:
    """Start a broadcast: pick a library message or write one."""
    actor = await official(update, context)
    chat, message = update.effective_chat, update.effective_message
    if actor is None or message is None or chat is None:
        return
    args = context.args or []
    repeat_of: int | None = None
    if args and args[0].lower() == "ulangi":
        try:
            repeat_of = parse_record_id(" ".join(args[1:]))
        except InvalidNumber as exc:
            await message.reply_text(reason(context, exc, then="siaran_ulangi.format"))
            return
    services = context.services
    async with services.sessions.begin() as session:
        flow = await flows.start(
            session, KIND, chat.id, actor.user_id, services.clock.now(), step="pick"
        )
    if repeat_of is not None:
        await take_repeat(update, context, flow, actor, repeat_of)
        return
    rows: Rows = [[(title, data(flow, "m", key))] for key, title in broadcastable()]
    rows.append([(text(context, "ui.siaran.tombol_tulis_sendiri"), data(flow, "custom"))])
    rows.append([(text(context, "siaran_ulangi.tombol_ulangi"), data(flow, "u"))])
    rows.append([cancel_button(context, flow)])
    await message.reply_text(text(context, "ui.siaran.baru"), reply_markup=keyboard(rows))


async def siaran_button(update: Update, context: BotContext) -> None:
    """Every /siaran button."""
    query = update.callback_query
    assert query is not None
    chat = update.effective_chat
    press = await BROADCAST_DRAFT.parse_or_refuse(update, context, valid=chat is not None)
    if press is None or chat is None:
        return
    services = context.services
    async with services.sessions() as session:
        lookup = await flows.find(
            session, KIND, chat.id, query.from_user.id, press["token"], services.clock.now()
        )
    if lookup.found is Found.EXPIRED and lookup.flow is not None:
        await end(context, lookup.flow)
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
        await end(context, flow)
        await edit_or_reply(update, text(context, "ui.siaran.dibatalkan"))
    elif step == "m":
        flow = await save(context, flow, "audience", message_key=value, text=None)
        await ask_audience(update, context, flow, actor)
    elif step == "u":
        await ask_repeat(update, context, flow, actor)
    elif step == "r":
        await take_repeat(update, context, flow, actor, int(value))
    elif step == "custom":
        await save(context, flow, "text")
        await edit_or_reply(update, text(context, "ui.siaran.tulis_teks"))
    elif step == "k" and (actor.citywide or value == actor.kecamatan_code):
        await ask_kelurahan(update, context, flow, value, actor)
    elif step == "a":
        flow = await save(context, flow, "when", audience=value)
        await ask_time(update, context, flow)
    elif step == "t" and value == "now":
        flow = await save(context, flow, "confirm", when=services.clock.now().isoformat())
        await show_preview(update, context, flow, actor)
    elif step == "t":
        await save(context, flow, "time")
        await edit_or_reply(update, text(context, "ui.siaran.tulis_waktu", bantuan=Safe(WHEN_HELP)))
    elif step == "w" and actor.is_admin and actor.citywide:
        await save(context, flow, "until", series=value)
        kala = text(context, f"siaran_ulangi.kala_{SERIES_KINDS[value]}")
        await edit_or_reply(update, text(context, "siaran_ulangi.tulis_sampai", kala=kala))
    elif step == "e":
        await toggle_ack(update, context, flow, actor, value == "on")
    elif step == "so":
        await _confirm_series(update, context, flow, actor)
    elif step == "ok" and flow.step == "confirm":
        await _confirm(update, context, flow, actor)


# The flow step each button belongs to: a press from another step is refused, never applied.
_STEP_OF = {"m": ("pick",), "custom": ("pick",), "k": ("audience",), "a": ("audience",)}
_STEP_OF |= {"t": ("when",), "ok": ("confirm",), "u": ("pick",), "r": ("pick",)}
_STEP_OF |= {"w": ("confirm",), "so": ("series",), "e": ("confirm",)}
SERIES_KINDS = {"minggu": "mingguan", "bulan": "bulanan"}


def _fits(flow: Flow, step: str, value: str) -> bool:
    if step == "no":
        return True
    if flow.step not in _STEP_OF.get(step, ()):
        return False
    if step == "m":
        return value in {key for key, _ in broadcastable()}
    if step == "t":
        return value in ("now", "ask")
    if step == "e":
        return value in ("on", "off")
    if step == "w":  # a series: only of a repeat
        return value in SERIES_KINDS and flow.data.get("repeat_of") is not None
    if step == "r":
        return re.fullmatch(r"[0-9]{1,9}", value) is not None
    if step == "a" and flow.data.get("repeat_audience") is not None:
        return offered(flow, value) == value  # never wider than the original
    if step == "k":  # a kecamatan code; whether it exists and is the actor's is asked later
        return re.fullmatch(r"[0-9]{2}\.[0-9]{2}\.[0-9]{2}", value) is not None
    return bool(value) or step in ("custom", "ok", "u", "so")


def _as_official(step: _OfficialStep) -> TypedStep:
    """A typed step only an official takes (who may have lost the role since the draft began)."""

    async def typed(update: Update, context: BotContext, flow: Flow, message: Message) -> None:
        actor = await official(update, context)
        if actor is not None:
            await step(update, context, flow, message, actor)

    return typed


async def _typed_text(
    update: Update, context: BotContext, flow: Flow, message: Message, actor: Actor
) -> None:
    body = message.text_html or ""
    try:
        check_custom_text(body, context.services.profile)
    except DraftRefused as exc:
        await message.reply_text(text(context, "ui.alasan", alasan=str(exc)))
        return  # still awaiting text: nothing is lost, they send a corrected one
    flow = await save(context, flow, "audience", text=body, message_key=None)
    await ask_audience(update, context, flow, actor)


async def _typed_time(
    update: Update, context: BotContext, flow: Flow, message: Message, actor: Actor
) -> None:
    services = context.services
    try:
        when = parse_when(message.text or "", services.profile, services.clock.now())
    except WhenError as exc:
        await message.reply_text(text(context, "ui.alasan_html", alasan=Safe(str(exc))))
        return
    flow = await save(context, flow, "confirm", when=when.isoformat())
    await show_preview(update, context, flow, actor)


async def _confirm(update: Update, context: BotContext, flow: Flow, actor: Actor) -> None:
    services = context.services
    now = services.clock.now()
    try:
        async with services.sessions.begin() as session:
            repeat_of = flow.data.get("repeat_of")
            if repeat_of is None:
                broadcast = await submit(session, actor, draft_of(flow), services.profile, now)
            else:
                draft = draft_of(flow)
                broadcast = await repeats.submit_repeat(
                    session,
                    actor,
                    int(repeat_of),
                    draft.audience,
                    draft.scheduled_at,
                    services.profile,
                    now,
                    ack=draft.ack,
                )
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


# -- tiap minggu / tiap bulan sampai tanggal -----------------------------------------------------

_DATE = re.compile(r"^\s*(?:(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})|(\d{4})-(\d{2})-(\d{2}))\s*$")


def _date(typed: str) -> date | None:
    found = _DATE.match(typed)
    if found is None:
        return None
    day, month, year = (
        (found[1], found[2], found[3]) if found[1] else (found[6], found[5], found[4])
    )
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _series(context: BotContext, flow: Flow, source: repeats.RepeatSource) -> repeats.Series:
    return repeats.series_for(
        source,
        str(flow.data["audience"]),
        datetime.fromisoformat(str(flow.data["when"])),
        date.fromisoformat(str(flow.data["until"])),
        flow.data.get("series") == "bulan",
        context.services.profile,
        ack=bool(flow.data.get("ack", False)),
    )


async def _typed_until(
    update: Update, context: BotContext, flow: Flow, message: Message, actor: Actor
) -> None:
    """The end date of a weekly or monthly repeat; then what will be loaded, to confirm."""
    until = _date(message.text or "")
    if until is None:
        await message.reply_text(text(context, "siaran_ulangi.tanggal_salah"))
        return
    flow = await save(context, flow, "series", until=until.isoformat())
    try:
        async with context.services.sessions() as session:
            source = await repeats.repeat_source(session, actor, int(flow.data["repeat_of"]))
            label = await Audience.parse(str(flow.data["audience"])).describe(session)
        series = _series(context, flow, source)
    except DraftRefused as exc:
        await save(context, flow, "until")  # still waiting for a date
        await message.reply_text(text(context, "ui.alasan", alasan=str(exc)))
        return
    summary = text(
        context,
        "siaran_ulangi.ringkasan_berkala",
        nama=series.name,
        kala=series.every,
        mulai=f"{series.first:%d/%m/%Y}",
        sampai=f"{series.until:%d/%m/%Y}",
        kali=series.times,
        sasaran=label,
    )
    if flow.data.get("ack"):
        summary += "\n" + ack_line(context)
    rows: Rows = [
        [
            (text(context, "siaran_ulangi.tombol_muat"), data(flow, "so")),
            cancel_button(context, flow),
        ]
    ]
    await message.reply_text(summary, reply_markup=keyboard(rows))


async def _confirm_series(update: Update, context: BotContext, flow: Flow, actor: Actor) -> None:
    services = context.services
    timeline = load_timeline(services.settings.timeline_file, services.profile)
    try:
        async with services.sessions.begin() as session:
            series, waiting = await repeats.submit_series(
                session,
                actor,
                int(flow.data["repeat_of"]),
                str(flow.data["audience"]),
                datetime.fromisoformat(str(flow.data["when"])),
                date.fromisoformat(str(flow.data["until"])),
                flow.data.get("series") == "bulan",
                services.profile,
                timeline,
                services.clock.now(),
                ack=bool(flow.data.get("ack", False)),
            )
            await flows.end(session, KIND, flow.chat_id, flow.user_id)
    except (DraftRefused, PermissionDenied) as exc:
        await edit_or_reply(update, text(context, "ui.alasan", alasan=str(exc)))
        return
    key = "siaran_ulangi.berkala_menunggu" if waiting else "siaran_ulangi.berkala_dimuat"
    await edit_or_reply(update, text(context, key, nama=series.name))


# Typed input of a /siaran in progress: the custom text, the time, a repeat's end date. Not
# ours (no draft, or a step that waits for a press): the residents' handlers answer it.
TYPED = TypedFlow(
    KIND,
    {
        "text": _as_official(_typed_text),
        "time": _as_official(_typed_time),
        "until": _as_official(_typed_until),
    },
    expired="ui.siaran.kedaluwarsa",
    failed="ui.siaran.gagal",
    what="/siaran",
)
siaran_typed = TYPED.take


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
