"""/siaran: an official drafts a broadcast — message, audience, time, preview, confirm.

The draft lives in the flow store (kind siaran, the official's private chat), so it survives a
restart. Steps: `pick` (a library message or own text), `text` (the next typed message is the
text), `audience`, `when`, `time` (the next typed message is the time), `confirm`.

"Ulangi" (issue 16): from `pick`, `u` lists earlier broadcasts and `r <id>` takes one's content
(`/siaran ulangi ID` starts there); the audience screen then offers only the original audience
or narrower ones (domain.repeats), and the rest is the same preview and approval path.

Buttons: callbacks.BROADCAST_DRAFT, `s:<token>:<step>[:<value>]`: m <key>, custom, u, r <id>,
k <kec>, a <audience>, t now|ask, ok, no. The audience may hold ":" (`kecamatan:35.73.05`).
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
from bot.ui.views import Button, Rows, Safe, edit_or_reply, in_rows, keyboard, local_time, text
from db.models import BroadcastStatus
from domain import flows, places, repeats
from domain.broadcasts import Draft, DraftRefused, check_custom_text, preview, submit
from domain.flows import Flow, FlowKind, Found
from domain.inputs import InvalidNumber, parse_record_id
from domain.officials import Actor, PermissionDenied
from domain.reach import reach, reach_line
from messages.library import Audience as MessageAudience
from messages.library import default_library
from scheduler.audience import Audience, AudienceError
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
    chat, message = update.effective_chat, update.effective_message
    if actor is None or message is None or chat is None:
        return
    args = context.args or []
    repeat_of: int | None = None
    if args and args[0].lower() == "ulangi":
        try:
            repeat_of = parse_record_id(" ".join(args[1:]))
        except InvalidNumber as exc:
            await message.reply_text(
                text(context, "ui.alasan", alasan=str(exc))
                + "\n"
                + text(context, "siaran_ulangi.format")
            )
            return
    services = context.services
    async with services.sessions.begin() as session:
        flow = await flows.start(
            session, KIND, chat.id, actor.user_id, services.clock.now(), step="pick"
        )
    if repeat_of is not None:
        await _take_repeat(update, context, flow, actor, repeat_of)
        return
    rows: Rows = [[(title, _data(flow, "m", key))] for key, title in broadcastable()]
    rows.append([(text(context, "ui.siaran.tombol_tulis_sendiri"), _data(flow, "custom"))])
    rows.append([(text(context, "siaran_ulangi.tombol_ulangi"), _data(flow, "u"))])
    rows.append([_cancel(context, flow)])
    await message.reply_text(text(context, "ui.siaran.baru"), reply_markup=keyboard(rows))


# -- ulangi: an earlier broadcast's content again ------------------------------------------------


async def _ask_repeat(update: Update, context: BotContext, flow: Flow, actor: Actor) -> None:
    services = context.services
    async with services.sessions() as session:
        sources = await repeats.repeatable(session, actor, services.clock.now())
    if not sources:
        await _end(context, flow)
        await edit_or_reply(update, text(context, "siaran_ulangi.kosong"))
        return
    own = text(context, "siaran_ulangi.teks_sendiri")
    rows: Rows = []
    for source in sources:
        title = source.message_key or own
        if source.agenda:
            title = f"{source.agenda}: {title}"
        label = text(
            context,
            "siaran_ulangi.tombol_baris",
            nomor=source.id,
            waktu=f"{source.scheduled_at.astimezone(services.profile.tz):%d/%m %H.%M}",
            judul=title[:34],
        )
        rows.append([(label, _data(flow, "r", source.id))])
    rows.append([_cancel(context, flow)])
    await edit_or_reply(update, text(context, "siaran_ulangi.pilih"), keyboard(rows))


async def _take_repeat(
    update: Update, context: BotContext, flow: Flow, actor: Actor, broadcast_id: int
) -> None:
    """The chosen broadcast's content goes into the draft; then its audience or a narrower one."""
    try:
        async with context.services.sessions() as session:
            source = await repeats.repeat_source(session, actor, broadcast_id)
    except DraftRefused as exc:
        await _end(context, flow)
        await edit_or_reply(update, text(context, "ui.alasan", alasan=str(exc)))
        return
    flow = await _save(
        context,
        flow,
        "audience",
        repeat_of=source.id,
        repeat_audience=source.audience,
        message_key=None if source.text is not None else source.message_key,
        text=source.text,
    )
    await _ask_audience(update, context, flow, actor)


def _offered(flow: Flow, spec: str) -> str | None:
    """The audience a button offers: as it is for a new draft; for a repeat only the original
    or narrower ones (with the original's RW/RT level), else None (no button)."""
    original = flow.data.get("repeat_audience")
    if original is None:
        return spec
    try:
        wider = Audience.parse(str(original))
        if wider.level is not None and "/" not in spec and spec not in ("rw", "rt"):
            spec = f"{spec}/{wider.level.value}"
        return spec if Audience.parse(spec).narrows(wider) else None
    except AudienceError:  # forged data
        return None


async def _ask_audience(update: Update, context: BotContext, flow: Flow, actor: Actor) -> None:
    async with context.services.sessions() as session:
        kecamatan = await places.kecamatan_list(session)
        original = flow.data.get("repeat_audience")
        label = await Audience.parse(str(original)).describe(session) if original else ""
    rows: Rows = []
    offered: set[str] = set()

    def offer(label_key: str, spec: str) -> tuple[str, str] | None:
        shown = _offered(flow, spec)
        if shown is None or shown in offered:
            return None
        offered.add(shown)
        return (text(context, label_key), _data(flow, "a", *shown.split(":")))

    if original is not None:
        same = _data(flow, "a", *str(original).split(":"))
        rows.append([(text(context, "siaran_ulangi.tombol_sama"), same)])
        offered.add(str(original))
    if actor.citywide:
        for line in (
            [("ui.siaran.tombol_semua_grup", "all")],
            [("ui.siaran.tombol_grup_rw", "rw"), ("ui.siaran.tombol_grup_rt", "rt")],
        ):
            buttons: list[Button] = [b for key, spec in line if (b := offer(key, spec)) is not None]
            if buttons:
                rows.append(buttons)
    rows += [
        [(text(context, "ui.tempat.kecamatan", nama=name), _data(flow, "k", code))]
        for code, name in kecamatan
        if (actor.citywide or code == actor.kecamatan_code)
        and (_offered(flow, f"kecamatan:{code}") or _kelurahan_offered(flow, code))
    ]
    rows.append([_cancel(context, flow)])
    if original is not None:
        question = text(
            context, "siaran_ulangi.sasaran", nomor=flow.data["repeat_of"], sasaran=label
        )
    else:
        question = text(context, "ui.siaran.kirim_ke")
    await edit_or_reply(update, question, keyboard(rows))


def _kelurahan_offered(flow: Flow, kecamatan_code: str) -> bool:
    """For a repeat to one kelurahan: its kecamatan's button leads there."""
    original = flow.data.get("repeat_audience")
    if original is None:
        return True
    code = Audience.parse(str(original)).kelurahan_code
    return code is not None and code.startswith(kecamatan_code + ".")


async def _ask_kelurahan(
    update: Update, context: BotContext, flow: Flow, code: str, actor: Actor
) -> None:
    async with context.services.sessions() as session:
        name = await places.kecamatan_name(session, code)
        kelurahan = await places.kelurahan_in(session, code)
    if name is None:  # a forged code: the audience screen again
        await _ask_audience(update, context, flow, actor)
        return
    rows: Rows = []
    whole = _offered(flow, f"kecamatan:{code}")
    if whole is not None:
        label = text(context, "ui.siaran.tombol_seluruh_kecamatan", nama=name)
        rows.append([(label, _data(flow, "a", *whole.split(":")))])
    parts = [(k.name, _offered(flow, f"kelurahan:{k.code}")) for k in kelurahan]
    rows += in_rows([(name, _data(flow, "a", *spec.split(":"))) for name, spec in parts if spec], 2)
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
    if flow.data.get("repeat_of") is not None:
        parts.append(text(context, "siaran_ulangi.asal", nomor=flow.data["repeat_of"]))
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
    elif step == "u":
        await _ask_repeat(update, context, flow, actor)
    elif step == "r":
        await _take_repeat(update, context, flow, actor, int(value))
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
_STEP_OF |= {"t": ("when",), "ok": ("confirm",), "u": ("pick",), "r": ("pick",)}


def _fits(flow: Flow, step: str, value: str) -> bool:
    if step == "no":
        return True
    if flow.step not in _STEP_OF.get(step, ()):
        return False
    if step == "m":
        return value in {key for key, _ in broadcastable()}
    if step == "t":
        return value in ("now", "ask")
    if step == "r":
        return re.fullmatch(r"[0-9]{1,9}", value) is not None
    if step == "a" and flow.data.get("repeat_audience") is not None:
        return _offered(flow, value) == value  # never wider than the original
    if step == "k":  # a kecamatan code; whether it exists and is the actor's is asked later
        return re.fullmatch(r"[0-9]{2}\.[0-9]{2}\.[0-9]{2}", value) is not None
    return bool(value) or step in ("custom", "ok", "u")


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
            repeat_of = flow.data.get("repeat_of")
            if repeat_of is None:
                broadcast = await submit(session, actor, _draft(flow), services.profile, now)
            else:
                draft = _draft(flow)
                broadcast = await repeats.submit_repeat(
                    session,
                    actor,
                    int(repeat_of),
                    draft.audience,
                    draft.scheduled_at,
                    services.profile,
                    now,
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
