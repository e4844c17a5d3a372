"""Officials' admin in a private chat: /jadwal (the schedule), /batal ID, /petugas."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from bot.context import BotContext
from bot.handlers.commands import set_official_commands
from bot.jobs import unschedule_broadcast
from bot.ui.guards import official
from bot.ui.views import Safe, text
from db.models import OfficialRole
from domain.broadcasts import STATUS_LABEL, DraftRefused, cancel, list_broadcasts
from domain.official_changes import add_official
from domain.officials import PermissionDenied, list_officials

ROLE_WORDS = {"admin": OfficialRole.ADMIN, "operator": OfficialRole.OPERATOR}


def broadcast_number(context: BotContext) -> int | None:
    """The one argument of `/batal 12` or `/setujui #12`; None when it is not just a number."""
    args = context.args or []
    if len(args) != 1 or not args[0].lstrip("#").isdigit():
        return None
    return int(args[0].lstrip("#"))


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
    assert message is not None
    number = broadcast_number(context)
    if number is None:
        await message.reply_text(text(context, "ui.jadwal.format_batal"))
        return
    outcome = await stop_or_cancel(update, context, number)
    if outcome:
        await message.reply_text(text(context, "ui.alasan", alasan=outcome))


async def jadwal(update: Update, context: BotContext) -> None:
    """/jadwal: upcoming and recent broadcasts with their delivery counts."""
    actor = await official(update, context)
    message = update.effective_message
    if actor is None or message is None:
        return
    services = context.services
    async with services.sessions() as session:
        lines = await list_broadcasts(session, services.clock.now())
    if not lines:
        await message.reply_text(text(context, "ui.jadwal.kosong"))
        return
    out = [text(context, "ui.jadwal.judul")]
    tz = services.profile.tz
    for line in lines:
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
    out += ["", text(context, "ui.jadwal.penutup")]
    await message.reply_text("\n".join(out))


async def petugas(update: Update, context: BotContext) -> None:
    """/petugas — list; /petugas tambah USER_ID admin|operator [KODE_KECAMATAN]."""
    actor = await official(update, context)
    message = update.effective_message
    if actor is None or message is None:
        return
    services = context.services
    args = context.args or []
    if not args:
        async with services.sessions() as session:
            officials = await list_officials(session)
        rows = [
            text(
                context,
                "ui.petugas.baris_kecamatan" if o.kecamatan_code else "ui.petugas.baris_kota",
                id=o.user_id,
                peran=o.role.value,
                kecamatan=o.kecamatan_code or "",
            )
            for o in officials
        ]
        await message.reply_text(
            "\n".join(
                [
                    text(context, "ui.petugas.judul"),
                    *rows,
                    "",
                    text(context, "ui.petugas.cara_tambah"),
                ]
            )
        )
        return
    if (
        args[0] != "tambah"
        or len(args) not in (3, 4)
        or not args[1].isdigit()
        or (args[2] not in ROLE_WORDS)
    ):
        await message.reply_text(text(context, "ui.petugas.format"))
        return
    kecamatan = args[3] if len(args) == 4 else None
    try:
        async with services.sessions.begin() as session:
            added = await add_official(
                session, actor, int(args[1]), ROLE_WORDS[args[2]], kecamatan, services.clock.now()
            )
    except PermissionDenied as exc:
        await message.reply_text(text(context, "ui.alasan", alasan=str(exc)))
        return
    await set_official_commands(context.bot, context.services.profile, [added.user_id])
    key = "ui.petugas.ditambah_kecamatan" if kecamatan else "ui.petugas.ditambah_kota"
    await message.reply_text(
        text(context, key, id=added.user_id, peran=added.role.value, kecamatan=kecamatan or "")
    )


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [
        CommandHandler("batal", batal),
        CommandHandler("jadwal", jadwal),
        CommandHandler("petugas", petugas),
    ]
