"""Officials in a private chat: /siaran, /setujui, /jadwal, /batal, /petugas.

The /siaran draft lives in user_data under a short flow id that every button carries, so a
button from an older /siaran (or another user's) changes nothing.
"""

from __future__ import annotations

import html
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.context import BotContext
from bot.handlers.commands import set_official_commands
from bot.jobs import schedule_broadcast, unschedule_broadcast
from bot.notify import STATUS_LABEL
from db.models import Broadcast, BroadcastStatus, Kecamatan, Kelurahan, Official, OfficialRole
from domain.broadcasts import (
    Draft,
    DraftRefused,
    approve,
    cancel,
    list_broadcasts,
    preview,
    submit,
)
from domain.officials import Actor, PermissionDenied, add_official, find_actor, list_officials
from messages.library import Audience as MessageAudience
from messages.library import default_library
from scheduler.when import HELP as WHEN_HELP
from scheduler.when import WhenError, parse_when

log = logging.getLogger(__name__)

NOT_OFFICIAL = (
    "Perintah ini hanya untuk petugas Pemkot yang terdaftar. "
    "Bila Anda petugas, minta admin menambahkan Anda dengan /petugas."
)
STALE = "Alur ini sudah tidak berlaku. Mulai lagi dengan /siaran."
PRIVATE_ONLY = "Perintah petugas hanya dipakai di chat pribadi dengan bot."


@dataclass
class SiaranFlow:
    flow: str = field(default_factory=lambda: secrets.token_hex(3))
    message_key: str | None = None
    text: str | None = None
    audience: str | None = None
    when: datetime | None = None
    awaiting: str | None = None  # "text" or "time": what the next typed message is


def _flow(context: BotContext) -> SiaranFlow | None:
    flow = (context.user_data or {}).get("siaran")
    return flow if isinstance(flow, SiaranFlow) else None


def _kb(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


def _wib(dt: datetime, context: BotContext) -> str:
    from messages.context import format_day

    profile = context.services.profile
    local = dt.astimezone(profile.tz)
    return f"{format_day(local.date())} {local:%H.%M} {profile.timezone_label}"


async def _actor(update: Update, context: BotContext) -> Actor | None:
    """The official behind this update, or None after telling the user why not."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None:
        return None
    if chat.type != ChatType.PRIVATE:
        if update.effective_message:
            await update.effective_message.reply_text(PRIVATE_ONLY)
        return None
    async with context.services.sessions() as session:
        actor = await find_actor(session, user.id)
    if actor is None:
        if update.callback_query:
            await update.callback_query.answer(NOT_OFFICIAL, show_alert=True)
        elif update.effective_message:
            await update.effective_message.reply_text(NOT_OFFICIAL)
    return actor


# -- /siaran ---------------------------------------------------------------------------------


async def siaran(update: Update, context: BotContext) -> None:
    """Start a broadcast: pick a library message or write one."""
    actor = await _actor(update, context)
    if actor is None or update.effective_message is None:
        return
    flow = SiaranFlow()
    assert context.user_data is not None
    context.user_data["siaran"] = flow
    library = default_library()
    rows = [
        [(m.title, f"s:{flow.flow}:m:{m.key}")]
        for m in library.messages.values()
        if m.audience in (MessageAudience.ALL_GROUPS, MessageAudience.RW_RT_GROUPS)
        and not m.key.startswith("sistem.")
    ]
    rows.append([("✍️ Tulis teks sendiri", f"s:{flow.flow}:custom")])
    rows.append([("❌ Batal", f"s:{flow.flow}:no")])
    await update.effective_message.reply_text(
        "<b>Siaran baru</b>\nPilih pesan dari pustaka, atau tulis teks sendiri.",
        reply_markup=_kb(rows),
    )


async def _ask_audience(
    update: Update, context: BotContext, flow: SiaranFlow, actor: Actor
) -> None:
    f = flow.flow
    async with context.services.sessions() as session:
        kecamatan = (await session.scalars(select(Kecamatan).order_by(Kecamatan.code))).all()
    if actor.citywide:
        rows = [
            [("Semua grup se-kota", f"s:{f}:a:all")],
            [("Grup RW se-kota", f"s:{f}:a:rw"), ("Grup RT se-kota", f"s:{f}:a:rt")],
        ]
        rows += [[(f"Kec. {k.name}", f"s:{f}:k:{k.code}")] for k in kecamatan]
    else:
        rows = [
            [(f"Kec. {k.name}", f"s:{f}:k:{k.code}")]
            for k in kecamatan
            if k.code == actor.kecamatan_code
        ]
    rows.append([("❌ Batal", f"s:{f}:no")])
    await _edit_or_send(update, "Kirim ke siapa?", _kb(rows))


async def _ask_kelurahan(update: Update, context: BotContext, flow: SiaranFlow, code: str) -> None:
    f = flow.flow
    async with context.services.sessions() as session:
        kecamatan = await session.get(Kecamatan, code)
        kelurahan = (
            await session.scalars(
                select(Kelurahan).where(Kelurahan.kecamatan_code == code).order_by(Kelurahan.name)
            )
        ).all()
    name = kecamatan.name if kecamatan else code
    rows = [[(f"Seluruh Kec. {name}", f"s:{f}:a:kecamatan:{code}")]]
    pairs = [(k.name, f"s:{f}:a:kelurahan:{k.code}") for k in kelurahan]
    rows += [pairs[i : i + 2] for i in range(0, len(pairs), 2)]
    rows.append([("❌ Batal", f"s:{f}:no")])
    await _edit_or_send(
        update, f"Kecamatan {html.escape(name)}: seluruhnya atau satu kelurahan?", _kb(rows)
    )


async def _ask_time(update: Update, flow: SiaranFlow) -> None:
    f = flow.flow
    rows = [
        [("Kirim sekarang", f"s:{f}:t:now")],
        [("🕒 Tulis waktu", f"s:{f}:t:ask")],
        [("❌ Batal", f"s:{f}:no")],
    ]
    await _edit_or_send(update, "Kapan dikirim?", _kb(rows))


async def _edit_or_send(update: Update, text: str, markup: InlineKeyboardMarkup | None) -> None:
    query = update.callback_query
    if query is not None and query.message is not None:
        await query.edit_message_text(text, reply_markup=markup)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text, reply_markup=markup)


def _draft(flow: SiaranFlow) -> Draft:
    assert flow.audience is not None and flow.when is not None
    return Draft(
        audience=flow.audience,
        scheduled_at=flow.when,
        message_key=flow.message_key,
        text=flow.text,
    )


async def _show_preview(
    update: Update, context: BotContext, flow: SiaranFlow, actor: Actor
) -> None:
    services = context.services
    try:
        async with services.sessions() as session:
            shown = await preview(
                session, actor, _draft(flow), services.profile, services.clock.now()
            )
    except (DraftRefused, PermissionDenied) as exc:
        await _edit_or_send(update, html.escape(str(exc)), None)
        return
    chat = update.effective_chat
    assert chat is not None
    # The preview is the exact message groups will get (without the acknowledgement button).
    await context.bot.send_message(chat.id, shown.html)
    approval = (
        f"\n⚠️ Perlu persetujuan petugas kedua ({html.escape(shown.approval_reason)})."
        if shown.needs_approval
        else ""
    )
    summary = (
        f"<b>Pratinjau di atas.</b>\nSasaran: {html.escape(shown.audience_label)} "
        f"(<b>{shown.recipients}</b> grup saat ini).\n"
        f"Waktu: {_wib(flow.when or services.clock.now(), context)}."
        f"{approval}\nKirim?"
    )
    f = flow.flow
    label = "📨 Ajukan persetujuan" if shown.needs_approval else "✅ Kirim"
    await context.bot.send_message(
        chat.id, summary, reply_markup=_kb([[(label, f"s:{f}:ok"), ("❌ Batal", f"s:{f}:no")]])
    )


async def siaran_button(update: Update, context: BotContext) -> None:
    """Every /siaran button: s:<flow>:<step>[:<value>]."""
    query = update.callback_query
    assert query is not None and query.data is not None
    parts = query.data.split(":", 3)  # s, flow, step[, value — may itself contain ":"]
    flow_id, step = parts[1], parts[2] if len(parts) > 2 else ""
    value = parts[3] if len(parts) > 3 else ""
    flow = _flow(context)
    if flow is None or flow.flow != flow_id:
        await query.answer(STALE, show_alert=True)
        return
    actor = await _actor(update, context)
    if actor is None:
        return
    await query.answer()
    if step == "no":
        context.user_data.pop("siaran", None)  # type: ignore[union-attr]
        await _edit_or_send(update, "Siaran dibatalkan. Tidak ada yang dikirim.", None)
    elif step == "m":
        flow.message_key, flow.text = value, None
        await _ask_audience(update, context, flow, actor)
    elif step == "custom":
        flow.awaiting = "text"
        await _edit_or_send(
            update,
            "Kirim teks siarannya sebagai pesan berikutnya. Teks diperiksa netralitasnya "
            "(tanpa nama calon, nomor urut dalam ajakan memilih, partai, atau jargon) dan "
            "perlu persetujuan petugas kedua.",
            None,
        )
    elif step == "k":
        await _ask_kelurahan(update, context, flow, value)
    elif step == "a":
        flow.audience = value
        await _ask_time(update, flow)
    elif step == "t" and value == "now":
        flow.when = context.services.clock.now()
        await _show_preview(update, context, flow, actor)
    elif step == "t":
        flow.awaiting = "time"
        await _edit_or_send(update, "Tulis waktu kirimnya. " + WHEN_HELP, None)
    elif step == "ok":
        await _confirm(update, context, flow, actor)


async def siaran_typed(update: Update, context: BotContext) -> None:
    """Typed input of a /siaran in progress: the custom text or the time."""
    flow = _flow(context)
    message = update.effective_message
    if flow is None or flow.awaiting is None or message is None:
        return  # not ours: the residents' handlers in the next group answer it
    # From here the text is the flow's, answered or refused: no other handler may answer it.
    try:
        await _typed_step(update, context, flow, message)
    except Exception:
        log.exception("typed /siaran input failed")
        await message.reply_text(
            "Maaf, terjadi kesalahan. Coba kirim lagi, atau mulai ulang /siaran."
        )
    raise ApplicationHandlerStop


async def _typed_step(update: Update, context: BotContext, flow: SiaranFlow, message: Any) -> None:
    actor = await _actor(update, context)
    if actor is None:
        return
    services = context.services
    if flow.awaiting == "text":
        text = message.text_html or ""
        from domain.broadcasts import check_custom_text

        try:
            check_custom_text(text)
        except DraftRefused as exc:
            await message.reply_text(html.escape(str(exc)))
            return  # still awaiting text: nothing is lost, they send a corrected one
        flow.text, flow.message_key, flow.awaiting = text, None, None
        await _ask_audience(update, context, flow, actor)
    elif flow.awaiting == "time":
        try:
            flow.when = parse_when(message.text or "", services.profile, services.clock.now())
        except WhenError as exc:
            await message.reply_text(str(exc))
            return
        flow.awaiting = None
        await _show_preview(update, context, flow, actor)


async def _confirm(update: Update, context: BotContext, flow: SiaranFlow, actor: Actor) -> None:
    services = context.services
    now = services.clock.now()
    try:
        async with services.sessions.begin() as session:
            broadcast = await submit(session, actor, _draft(flow), services.profile, now)
    except (DraftRefused, PermissionDenied) as exc:
        await _edit_or_send(update, html.escape(str(exc)), None)
        return
    context.user_data.pop("siaran", None)  # type: ignore[union-attr]
    if broadcast.status is BroadcastStatus.SCHEDULED:
        assert context.job_queue is not None
        schedule_broadcast(context.job_queue, broadcast)
        await _edit_or_send(
            update,
            f"✅ Siaran #{broadcast.id} dijadwalkan {_wib(broadcast.scheduled_at, context)}. "
            "Anda akan diberi tahu hasilnya. Lihat /jadwal.",
            None,
        )
        return
    await _edit_or_send(
        update,
        f"⏳ Siaran #{broadcast.id} menunggu persetujuan petugas kedua "
        f"({html.escape(broadcast.status_reason or '')}).",
        None,
    )
    await _ask_approvers(context, broadcast, actor)


async def _ask_approvers(context: BotContext, broadcast: Broadcast, creator: Actor) -> None:
    services = context.services
    async with services.sessions() as session:
        admins = (
            await session.scalars(
                select(Official).where(
                    Official.active.is_(True),
                    Official.role == OfficialRole.ADMIN,
                    Official.user_id != creator.user_id,
                )
            )
        ).all()
    text = (
        f"📝 Siaran #{broadcast.id} dari petugas {creator.user_id} menunggu persetujuan.\n"
        f"Sasaran: {html.escape(broadcast.audience)}; "
        f"waktu {_wib(broadcast.scheduled_at, context)}."
        "\nIsi pesan:"
    )
    body = broadcast.text or ""
    if not body and broadcast.message_key:
        from bot.notify import render_broadcast

        body = render_broadcast(broadcast, services.profile, services.clock)
    markup = _kb([[("✅ Setujui", f"p:ok:{broadcast.id}"), ("❌ Tolak", f"p:no:{broadcast.id}")]])
    for admin in admins:
        if not creator.citywide and admin.kecamatan_code not in (None, creator.kecamatan_code):
            continue
        try:
            await context.bot.send_message(admin.user_id, text)
            await context.bot.send_message(admin.user_id, body, reply_markup=markup)
        except Exception as exc:  # an admin who never started the bot cannot be reached
            log.info("could not ask %s to approve #%s: %s", admin.user_id, broadcast.id, exc)


# -- approval --------------------------------------------------------------------------------


async def _approve(update: Update, context: BotContext, broadcast_id: int) -> str:
    actor = await _actor(update, context)
    if actor is None:
        return ""
    services = context.services
    try:
        async with services.sessions.begin() as session:
            broadcast = await approve(session, actor, broadcast_id, services.clock.now())
    except (DraftRefused, PermissionDenied) as exc:
        return str(exc)
    assert context.job_queue is not None
    schedule_broadcast(context.job_queue, broadcast)
    if broadcast.created_by:
        try:
            await context.bot.send_message(
                broadcast.created_by,
                f"✅ Siaran #{broadcast.id} disetujui dan dijadwalkan "
                f"{_wib(broadcast.scheduled_at, context)}.",
            )
        except Exception as exc:
            log.info("could not tell %s: %s", broadcast.created_by, exc)
    return (
        f"✅ Siaran #{broadcast.id} disetujui, dijadwalkan {_wib(broadcast.scheduled_at, context)}."
    )


async def setujui(update: Update, context: BotContext) -> None:
    """/setujui ID"""
    message = update.effective_message
    assert message is not None
    args = context.args or []
    if len(args) != 1 or not args[0].lstrip("#").isdigit():
        await message.reply_text("Tulis nomor siarannya, misalnya <code>/setujui 12</code>.")
        return
    answer = await _approve(update, context, int(args[0].lstrip("#")))
    if answer:
        await message.reply_text(html.escape(answer))


async def approval_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    _, verb, raw_id = query.data.split(":", 2)
    if not raw_id.isdigit():
        await query.answer("Tombol tidak dikenali.")
        return
    if verb == "ok":
        answer = await _approve(update, context, int(raw_id))
    else:
        answer = await _cancel(update, context, int(raw_id), "ditolak")
    if answer:
        await query.answer(answer[:190], show_alert=True)
        if query.message is not None:
            await query.edit_message_reply_markup(None)


# -- /batal, /jadwal, /petugas --------------------------------------------------------------


async def _cancel(update: Update, context: BotContext, broadcast_id: int, verb: str) -> str:
    actor = await _actor(update, context)
    if actor is None:
        return ""
    services = context.services
    now = services.clock.now()
    try:
        running = services.broadcasts.is_running(broadcast_id)
        async with services.sessions.begin() as session:
            await cancel(session, actor, broadcast_id, now)
    except (DraftRefused, PermissionDenied) as exc:
        return str(exc)
    assert context.job_queue is not None
    unschedule_broadcast(context.job_queue, broadcast_id)
    if running:
        await services.broadcasts.stop(broadcast_id, f"dihentikan oleh {actor.user_id}")
        summary = await services.broadcasts.summary(broadcast_id)
        return (
            f"⏹ Siaran #{broadcast_id} dihentikan: {summary.sent} sudah terkirim, "
            f"{summary.skipped} dilewati."
        )
    return f"Siaran #{broadcast_id} {verb}."


async def batal(update: Update, context: BotContext) -> None:
    """/batal ID: cancel a pending broadcast or stop a running one."""
    message = update.effective_message
    assert message is not None
    args = context.args or []
    if len(args) != 1 or not args[0].lstrip("#").isdigit():
        await message.reply_text(
            "Tulis nomor siarannya, misalnya <code>/batal 12</code>. Nomornya ada di /jadwal."
        )
        return
    answer = await _cancel(update, context, int(args[0].lstrip("#")), "dibatalkan")
    if answer:
        await message.reply_text(html.escape(answer))


async def jadwal(update: Update, context: BotContext) -> None:
    """/jadwal: upcoming and recent broadcasts with their delivery counts."""
    actor = await _actor(update, context)
    message = update.effective_message
    if actor is None or message is None:
        return
    services = context.services
    async with services.sessions() as session:
        lines = await list_broadcasts(session, services.clock.now())
    if not lines:
        await message.reply_text("Belum ada siaran terjadwal. Buat dengan /siaran.")
        return
    out = ["<b>Jadwal siaran</b> (WIB)"]
    tz = services.profile.tz
    for line in lines:
        counts = line.counts
        tally = ""
        if counts:
            tally = (
                f" — terkirim {counts.get('sent', 0)}, gagal {counts.get('failed', 0)}"
                + (
                    f", menunggu {counts.get('pending', 0) + counts.get('sending', 0)}"
                    if counts.get("pending") or counts.get("sending")
                    else ""
                )
                + (f", dilewati {counts['skipped']}" if counts.get("skipped") else "")
            )
        local = line.scheduled_at.astimezone(tz)
        out.append(
            f"#{line.id} · {local:%d/%m %H.%M} · {html.escape(line.title)} · "
            f"{html.escape(line.audience)} · <i>{STATUS_LABEL[line.status]}</i>{tally}"
        )
    out.append("\nBatalkan dengan /batal NOMOR.")
    await message.reply_text("\n".join(out))


ROLE_WORDS = {"admin": OfficialRole.ADMIN, "operator": OfficialRole.OPERATOR}


async def petugas(update: Update, context: BotContext) -> None:
    """/petugas — list; /petugas tambah USER_ID admin|operator [KODE_KECAMATAN]."""
    actor = await _actor(update, context)
    message = update.effective_message
    if actor is None or message is None:
        return
    services = context.services
    args = context.args or []
    if not args:
        async with services.sessions() as session:
            officials = await list_officials(session)
        rows = [
            f"• {o.user_id} — {o.role.value}"
            + (f" (kec. {o.kecamatan_code})" if o.kecamatan_code else " (se-kota)")
            for o in officials
        ]
        await message.reply_text(
            "<b>Petugas</b>\n"
            + "\n".join(rows)
            + "\n\nTambah: <code>/petugas tambah ID_PENGGUNA admin|operator [35.73.0X]</code>"
        )
        return
    if (
        args[0] != "tambah"
        or len(args) not in (3, 4)
        or not args[1].isdigit()
        or (args[2] not in ROLE_WORDS)
    ):
        await message.reply_text(
            "Format: <code>/petugas tambah ID_PENGGUNA admin|operator [35.73.0X]</code>, "
            "misalnya <code>/petugas tambah 123456789 operator 35.73.02</code>."
        )
        return
    kecamatan = args[3] if len(args) == 4 else None
    try:
        async with services.sessions.begin() as session:
            official = await add_official(
                session,
                actor,
                int(args[1]),
                ROLE_WORDS[args[2]],
                kecamatan,
                services.clock.now(),
            )
    except PermissionDenied as exc:
        await message.reply_text(html.escape(str(exc)))
        return
    await set_official_commands(context.bot, [official.user_id])
    await message.reply_text(
        f"✅ {official.user_id} sekarang {official.role.value}"
        + (f" untuk kecamatan {kecamatan}." if kecamatan else " se-kota.")
    )


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [
        CommandHandler("siaran", siaran),
        CommandHandler("setujui", setujui),
        CommandHandler("batal", batal),
        CommandHandler("jadwal", jadwal),
        CommandHandler("petugas", petugas),
        CallbackQueryHandler(siaran_button, pattern=r"^s:"),
        CallbackQueryHandler(approval_button, pattern=r"^p:(ok|no):"),
    ]


def typed_input_handlers() -> list[BaseHandler[Any, Any, Any]]:
    """For a group that runs before the others: it consumes text only when a flow awaits it."""
    return [
        MessageHandler(filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND, siaran_typed)
    ]
