"""Officials' admin in a private chat: /jadwal (the schedule, paged), /batal ID, /petugas.

/petugas [HALAMAN] lists the officials the caller may see, a page at a time;
/petugas tambah ID admin|operator [KODE], /petugas hapus ID change them (domain.officials
decides who may, and stores a request for a second admin when approval power is involved);
/petugas permintaan, /petugas setujui N, /petugas tolak N handle those requests.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.context import BotContext
from bot.handlers.commands import set_official_commands
from bot.jobs import unschedule_broadcast
from bot.ui import callbacks
from bot.ui.callbacks import SCHEDULE_PAGE, refuse
from bot.ui.guards import official
from bot.ui.views import Safe, edit_or_reply, keyboard, local_time, reason, text
from db.models import OfficialRequest, OfficialRole
from domain.broadcasts import (
    STATUS_LABEL,
    DraftRefused,
    approver_min_age,
    broadcast_page,
    cancel,
)
from domain.inputs import (
    InvalidNumber,
    parse_callback_int,
    parse_count,
    parse_record_id,
    parse_request_id,
    parse_user_id,
)
from domain.official_changes import (
    ROLE_LABEL,
    ApprovalRequired,
    add_official,
    approve_request,
    expire_requests,
    pending_requests,
    reject_request,
    remove_official,
)
from domain.officials import Actor, PermissionDenied, list_officials_page, scope_of
from scheduler.audience import is_kelurahan_code

ROLE_WORDS = {"admin": OfficialRole.ADMIN, "operator": OfficialRole.OPERATOR}
PER_PAGE = 20
SCHEDULE_PER_PAGE = 15  # lines of ~120 characters: one page stays well inside one message
MAX_PAGE = 10_000


async def record_number(message: Message, context: BotContext, usage: str) -> int | None:
    """The one argument of `/batal 12` or `/setujui #12`; None after saying what to type."""
    args = context.args or []
    if not args:
        await message.reply_text(text(context, usage))
        return None
    try:
        return parse_record_id(" ".join(args))
    except InvalidNumber as exc:
        await message.reply_text(reason(context, exc, then=usage))
        return None


async def stop_or_cancel(
    update: Update, context: BotContext, broadcast_id: int, *, rejected: bool = False
) -> str:
    """Cancel a pending broadcast (or reject one awaiting approval), or stop a running one.
    The outcome in plain text; "" when the user was already told why not."""
    actor = await official(update, context)
    if actor is None:
        return ""
    services = context.services
    try:
        running = services.broadcasts.is_running(broadcast_id)
        async with services.sessions.begin() as session:
            await cancel(session, actor, broadcast_id, services.clock.now())
    except (DraftRefused, PermissionDenied) as exc:
        return str(exc)
    assert context.job_queue is not None
    unschedule_broadcast(context.job_queue, broadcast_id)
    if running:
        reason = text(context, "ui.siaran.dihentikan_oleh", petugas=actor.user_id)
        await services.broadcasts.stop(broadcast_id, reason)
        summary = await services.broadcasts.summary(broadcast_id)
        return text(
            context,
            "ui.siaran.dihentikan",
            nomor=broadcast_id,
            terkirim=summary.sent,
            dilewati=summary.skipped,
        )
    key = "ui.siaran.ditolak" if rejected else "ui.siaran.dibatalkan_nomor"
    return text(context, key, nomor=broadcast_id)


async def batal(update: Update, context: BotContext) -> None:
    """/batal ID: cancel a pending broadcast or stop a running one."""
    message = update.effective_message
    if message is None:
        return
    number = await record_number(message, context, "ui.jadwal.format_batal")
    if number is None:
        return
    outcome = await stop_or_cancel(update, context, number)
    if outcome:
        await message.reply_text(text(context, "ui.alasan", alasan=outcome))


async def jadwal(update: Update, context: BotContext) -> None:
    """/jadwal [HALAMAN]: upcoming and recent broadcasts with their delivery counts (in the
    caller's scope), a page at a time with buttons to the others."""
    actor = await official(update, context)
    message = update.effective_message
    if actor is None or message is None:
        return
    args = context.args or []
    try:
        page = parse_count(args[0], "Halaman", maximum=MAX_PAGE) if args else 1
    except InvalidNumber as exc:
        await message.reply_text(text(context, "ui.alasan", alasan=str(exc)))
        return
    body, markup = await _schedule(context, actor, page)
    await message.reply_text(body, reply_markup=markup)


async def jadwal_page(update: Update, context: BotContext) -> None:
    """A /jadwal page button: the same message shows that page."""
    query = update.callback_query
    assert query is not None
    press = SCHEDULE_PAGE.parse(query.data)
    page = parse_callback_int(press["page"]) if press else None
    if page is None or not 0 < page <= MAX_PAGE:
        await refuse(update, context, "ui.tombol.tidak_dikenali")
        return
    actor = await official(update, context)
    if actor is None:
        return
    await callbacks.answer(query)
    body, markup = await _schedule(context, actor, page)
    await edit_or_reply(update, body, markup)


async def _schedule(
    context: BotContext, actor: Actor, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    services = context.services
    async with services.sessions() as session:
        shown = await broadcast_page(
            session, services.clock.now(), page=page, per_page=SCHEDULE_PER_PAGE, scope=actor.scope
        )
    if not shown.lines:
        return text(context, "ui.jadwal.kosong"), None
    out = [text(context, "ui.jadwal.judul")]
    tz = services.profile.tz
    for line in shown.lines:
        counts = line.counts
        tally = ""
        if counts:
            tally = " " + text(
                context,
                "ui.jadwal.hitungan",
                terkirim=counts.get("sent", 0),
                gagal=counts.get("failed", 0),
            )
            waiting = counts.get("pending", 0) + counts.get("sending", 0)
            if waiting:
                tally += text(context, "ui.jadwal.menunggu", jumlah=waiting)
            if counts.get("skipped"):
                tally += text(context, "ui.jadwal.dilewati", jumlah=counts["skipped"])
        local = line.scheduled_at.astimezone(tz)
        out.append(
            text(
                context,
                "ui.jadwal.baris",
                nomor=line.id,
                waktu=f"{local:%d/%m %H.%M}",
                judul=line.title,
                sasaran=line.audience,
                status=STATUS_LABEL[line.status],
                hitungan=Safe(tally),
            )
        )
    out += ["", text(context, "ops_petugas.jadwal_halaman", halaman=shown.page,
                     halaman_total=shown.pages, jumlah=shown.total)]  # fmt: skip
    out.append(text(context, "ui.jadwal.penutup"))
    buttons = []
    if shown.page > 1:
        buttons.append(
            (text(context, "ops_petugas.tombol_sebelumnya"), SCHEDULE_PAGE.build(shown.page - 1))
        )
    if shown.page < shown.pages:
        buttons.append(
            (text(context, "ops_petugas.tombol_berikutnya"), SCHEDULE_PAGE.build(shown.page + 1))
        )
    return "\n".join(out), keyboard([buttons]) if buttons else None


# -- /petugas ------------------------------------------------------------------------------------


async def petugas(update: Update, context: BotContext) -> None:
    """/petugas [HALAMAN] | tambah | hapus | permintaan | setujui N | tolak N."""
    actor = await official(update, context)
    message = update.effective_message
    if actor is None or message is None:
        return
    args = context.args or []
    verb = args[0].lower() if args else ""
    try:
        if not args or (len(args) == 1 and verb.isascii() and verb.isdigit()):
            page = parse_count(args[0], "Halaman", maximum=MAX_PAGE) if args else 1
            await _list(message, context, actor, page)
        elif verb == "tambah" and len(args) in (3, 4) and args[2].lower() in ROLE_WORDS:
            await _add(message, context, actor, args[1], args[2].lower(), args[3:])
        elif verb == "hapus" and len(args) == 2:
            await _remove(message, context, actor, args[1])
        elif verb == "permintaan" and len(args) == 1:
            await _requests(message, context, actor)
        elif verb in ("setujui", "tolak") and len(args) == 2:
            await _decide(message, context, actor, verb, args[1])
        else:
            await message.reply_text(text(context, "ui.petugas.format"))
    except (InvalidNumber, PermissionDenied, DraftRefused) as exc:
        await message.reply_text(text(context, "ui.alasan", alasan=str(exc)))


def _row(context: BotContext, user_id: int, role: OfficialRole, scope: str | None) -> str:
    if is_kelurahan_code(scope):
        return text(
            context, "ui.petugas.baris_kelurahan", id=user_id, peran=role.value, kelurahan=scope
        )
    if scope:
        return text(
            context, "ui.petugas.baris_kecamatan", id=user_id, peran=role.value, kecamatan=scope
        )
    return text(context, "ui.petugas.baris_kota", id=user_id, peran=role.value)


async def _list(message: Message, context: BotContext, actor: Actor, page: int) -> None:
    services = context.services
    async with services.sessions() as session:
        shown = await list_officials_page(session, actor, page, per_page=PER_PAGE)
        waiting = await pending_requests(session, actor, services.clock.now())
    rows = []
    for o in shown.rows:
        row = _row(context, o.user_id, o.role, scope_of(o))
        if o.root:
            row += " " + text(context, "ui.petugas.tanda_utama")
        rows.append(row)
    lines = [text(context, "ui.petugas.judul"), *rows, ""]
    lines.append(
        text(
            context,
            "ui.petugas.halaman",
            halaman=shown.page,
            halaman_total=shown.pages,
            jumlah=shown.total,
        )
    )
    if shown.page < shown.pages:
        lines.append(text(context, "ui.petugas.halaman_berikut", berikut=shown.page + 1))
    if waiting:
        lines.append(text(context, "ui.petugas.permintaan_menunggu", jumlah=len(waiting)))
    lines.append(text(context, "ui.petugas.cara_tambah"))
    await message.reply_text("\n".join(lines))


async def _add(
    message: Message,
    context: BotContext,
    actor: Actor,
    raw_id: str,
    role_word: str,
    rest: list[str],
) -> None:
    services = context.services
    user_id = parse_user_id(raw_id)
    kecamatan = rest[0] if rest else None
    pending: ApprovalRequired | None = None
    async with services.sessions.begin() as session:
        try:
            added = await add_official(
                session, actor, user_id, ROLE_WORDS[role_word], kecamatan, services.clock.now()
            )
        except ApprovalRequired as exc:  # the request is stored: commit, then say so
            pending = exc
    if pending is not None:
        await message.reply_text(text(context, "ui.alasan", alasan=str(pending)))
        return
    await set_official_commands(context.bot, services.profile, [added.user_id])
    if is_kelurahan_code(kecamatan):
        reply = text(
            context,
            "ui.petugas.ditambah_kelurahan",
            id=added.user_id,
            peran=added.role.value,
            kelurahan=kecamatan,
        )
    else:
        key = "ui.petugas.ditambah_kecamatan" if kecamatan else "ui.petugas.ditambah_kota"
        reply = text(
            context, key, id=added.user_id, peran=added.role.value, kecamatan=kecamatan or ""
        )
    await message.reply_text(reply)


async def _remove(message: Message, context: BotContext, actor: Actor, raw_id: str) -> None:
    services = context.services
    user_id = parse_user_id(raw_id)
    pending: ApprovalRequired | None = None
    async with services.sessions.begin() as session:
        try:
            await remove_official(session, actor, user_id, services.clock.now())
        except ApprovalRequired as exc:  # the request is stored: commit, then say so
            pending = exc
    if pending is not None:
        await message.reply_text(text(context, "ui.alasan", alasan=str(pending)))
        return
    await message.reply_text(text(context, "ui.petugas.dihapus", id=user_id))


def _change(context: BotContext, request: OfficialRequest) -> str:
    if request.role is None:
        return text(context, "ui.petugas.perubahan_hapus")
    role = ROLE_LABEL[request.role]
    if request.kelurahan_code:
        return text(
            context, "ui.petugas.perubahan_kelurahan", peran=role, kelurahan=request.kelurahan_code
        )
    if request.kecamatan_code:
        return text(
            context, "ui.petugas.perubahan_kecamatan", peran=role, kecamatan=request.kecamatan_code
        )
    return text(context, "ui.petugas.perubahan_kota", peran=role)


async def _requests(message: Message, context: BotContext, actor: Actor) -> None:
    services = context.services
    async with services.sessions() as session:
        waiting = await pending_requests(session, actor, services.clock.now())
    if not waiting:
        await message.reply_text(text(context, "ui.petugas.permintaan_kosong"))
        return
    lines = [text(context, "ui.petugas.permintaan_judul")]
    for r in waiting[:PER_PAGE]:
        lines.append(
            text(
                context,
                "ui.petugas.permintaan_baris",
                nomor=r.id,
                id=r.user_id,
                perubahan=_change(context, r),
                oleh=r.requested_by,
                waktu=local_time(context, r.requested_at),
            )
        )
    if len(waiting) > PER_PAGE:
        lines.append(text(context, "ui.petugas.permintaan_lain", jumlah=len(waiting) - PER_PAGE))
    lines += ["", text(context, "ui.petugas.permintaan_cara")]
    await message.reply_text("\n".join(lines))


async def _decide(message: Message, context: BotContext, actor: Actor, verb: str, raw: str) -> None:
    services = context.services
    number = parse_request_id(raw)
    now = services.clock.now()
    async with services.sessions.begin() as session:  # its own transaction: the marks stay
        await expire_requests(session, now)
    if verb == "tolak":
        async with services.sessions.begin() as session:
            await reject_request(session, actor, number, now)
        await message.reply_text(text(context, "ui.petugas.permintaan_ditolak", nomor=number))
        return
    async with services.sessions.begin() as session:
        changed = await approve_request(
            session, actor, number, now, min_age=approver_min_age(services.profile)
        )
        active = changed.active
        shown = _row(context, changed.user_id, changed.role, scope_of(changed))
    if active:
        await set_official_commands(context.bot, services.profile, [changed.user_id])
    key = "ui.petugas.permintaan_disetujui" if active else "ui.petugas.permintaan_dihapus"
    await message.reply_text(
        text(context, key, nomor=number, id=changed.user_id, petugas=Safe(shown))
    )


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [
        CommandHandler("batal", batal),
        CommandHandler("jadwal", jadwal),
        CallbackQueryHandler(jadwal_page, pattern=SCHEDULE_PAGE.pattern),
        CommandHandler("petugas", petugas),
    ]
