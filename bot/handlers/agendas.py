"""/agenda in an official's private chat: agendas with their next steps, scoped to the official;
city-wide admins pause, resume and preview.

Callback data: ``callbacks.AGENDA`` (``ag:<action>:<agenda name>``) with action p (pause),
r (resume), v (preview), a (approve an agenda's custom texts, by an admin other than the one
who loaded it). Every press re-reads the official from the database.
"""

from __future__ import annotations

import html
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.context import BotContext
from bot.notify import render_broadcast
from bot.ui import callbacks
from bot.ui.views import text as _text  # the one library renderer
from db.models import Agenda as AgendaRow
from domain.agendas import (
    AgendaLine,
    AgendaNotFound,
    add_agenda,
    approve_agenda,
    first_waiting,
    overview,
    pause,
    resume,
)
from domain.officials import Actor, PermissionDenied, find_actor
from domain.places import scope_name
from messages.context import format_day
from messages.render import Safe
from scheduler.agenda_file import AgendaRejected
from scheduler.timeline import load_timeline
from scheduler.topics import TOPICS


def _button(label: str, action: str, name: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=callbacks.AGENDA.build(action, name))


def _may_run(actor: Actor) -> bool:
    return actor.is_admin and actor.citywide


async def _listing(context: BotContext, actor: Actor) -> tuple[str, InlineKeyboardMarkup | None]:
    services = context.services
    now = services.clock.now()
    async with services.sessions() as session:
        lines: list[AgendaLine] = await overview(session, actor, now)
        scope = await scope_name(session, actor.scope)
    parts = [_text(context, "agenda_ui.judul", cakupan=scope)]
    rows: list[list[InlineKeyboardButton]] = []
    tz = services.profile.tz
    for line in lines:
        status = _text(
            context,
            "agenda_ui.menunggu"
            if line.awaiting_approval
            else "agenda_ui.dijeda"
            if line.paused
            else "agenda_ui.berjalan",
        )
        parts.append(
            "\n"
            + _text(
                context,
                "agenda_ui.agenda",
                judul=line.title,
                nama=line.name,
                topik=TOPICS.get(line.topic, line.topic),
                status=status,
            )
        )
        for step in line.next_steps:
            local = step.scheduled_at.astimezone(tz)
            when = (
                f"{format_day(local.date())[:3]} {local:%d/%m %H.%M} "
                f"{services.profile.timezone_label}"
            )
            parts.append(
                _text(
                    context,
                    "agenda_ui.langkah",
                    waktu=when,
                    pesan=step.title,
                    sasaran=step.audience,
                    grup=step.recipients,
                )
            )
        if not line.next_steps:
            parts.append(_text(context, "agenda_ui.tanpa_langkah"))
        if _may_run(actor) and line.awaiting_approval:
            if line.loaded_by != actor.user_id:
                rows.append(
                    [
                        _button(
                            _text(context, "agenda_ui.tombol_setujui", nama=line.name),
                            "a",
                            line.name,
                        ),
                        _button(
                            _text(context, "agenda_ui.tombol_pratinjau", nama=line.name),
                            "v",
                            line.name,
                        ),
                    ]
                )
        elif _may_run(actor):
            toggle = "r" if line.paused else "p"
            toggle_key = "agenda_ui.tombol_lanjut" if line.paused else "agenda_ui.tombol_jeda"
            rows.append(
                [
                    _button(_text(context, toggle_key, nama=line.name), toggle, line.name),
                    _button(
                        _text(context, "agenda_ui.tombol_pratinjau", nama=line.name),
                        "v",
                        line.name,
                    ),
                ]
            )
    return "\n".join(parts), InlineKeyboardMarkup(rows) if rows else None


async def _official(update: Update, context: BotContext) -> Actor | None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return None
    if chat.type != ChatType.PRIVATE:
        if update.effective_message is not None:
            await update.effective_message.reply_text(_text(context, "agenda_ui.hanya_pribadi"))
        return None
    async with context.services.sessions() as session:
        actor = await find_actor(session, user.id)
    if actor is None:
        refusal = _text(context, "agenda_ui.bukan_petugas")
        if update.callback_query is not None:
            await update.callback_query.answer(html.unescape(refusal), show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(refusal)
    return actor


async def agenda(update: Update, context: BotContext) -> None:
    """List agendas with their next steps as far as this official's scope reaches."""
    actor = await _official(update, context)
    if actor is None or update.effective_message is None:
        return
    text, markup = await _listing(context, actor)
    await update.effective_message.reply_text(text, reply_markup=markup)


async def agenda_button(update: Update, context: BotContext) -> None:
    """Pause, resume or preview; every press gets an answer."""
    query = update.callback_query
    if query is None:
        return
    press = callbacks.AGENDA.parse(query.data)
    if press is None or not isinstance(query.message, Message):
        await query.answer(_text(context, "agenda_ui.tombol_lama"), show_alert=True)
        return
    actor = await _official(update, context)
    if actor is None:
        return
    action, name = press["action"], press["name"]
    services = context.services
    now = services.clock.now()
    try:
        if action == "v":
            async with services.sessions() as session:
                broadcast = await first_waiting(session, name)
            if broadcast is None:
                await query.answer(_text(context, "agenda_ui.tanpa_pratinjau", nama=name))
                return
            local = broadcast.scheduled_at.astimezone(services.profile.tz)
            header = _text(
                context,
                "agenda_ui.pratinjau",
                nama=name,
                waktu=f"{local:%d/%m/%Y %H.%M} {services.profile.timezone_label}",
                id=broadcast.id,
            )
            body = render_broadcast(broadcast, services.profile, services.clock)
            await query.answer()
            await query.message.reply_text(header + "\n\n" + Safe(body))
            return
        if not _may_run(actor):
            raise PermissionDenied(_text(context, "agenda_ui.bukan_admin_kota"))
        timeline = load_timeline(services.settings.timeline_file, services.profile)
        async with services.sessions.begin() as session:
            if action == "a":
                count = await approve_agenda(session, actor, name, services.profile, timeline, now)
                answer = _text(context, "agenda_ui.sudah_dilanjutkan", nama=name, jumlah=count)
            elif action == "p":
                count = await pause(session, actor, name, now)
                answer = _text(context, "agenda_ui.sudah_dijeda", nama=name, jumlah=count)
            else:
                count = await resume(session, actor, name, services.profile, timeline, now)
                answer = _text(context, "agenda_ui.sudah_dilanjutkan", nama=name, jumlah=count)
    except (AgendaNotFound, PermissionDenied) as exc:
        await query.answer(str(exc), show_alert=True)
        return
    await query.answer(answer, show_alert=True)
    text, markup = await _listing(context, actor)
    await query.message.edit_text(text, reply_markup=markup)


MAX_FILE_BYTES = 64_000


async def agenda_file(update: Update, context: BotContext) -> None:
    """A .toml sent by a city-wide admin: validated whole, loaded or refused with its lines."""
    message = update.effective_message
    actor = await _official(update, context)
    if actor is None or message is None or message.document is None:
        return
    if not _may_run(actor):
        await message.reply_text(html.escape(_text(context, "agenda_ui.bukan_admin_kota")))
        return
    document = message.document
    try:
        if (document.file_size or 0) > MAX_FILE_BYTES:
            raise UnicodeError("too large")
        data = bytes(await (await document.get_file()).download_as_bytearray())
        if len(data) > MAX_FILE_BYTES:
            raise UnicodeError("too large")
        text = data.decode("utf-8-sig")
    except UnicodeError:
        await message.reply_text(html.escape(_text(context, "agenda_ui.berkas_rusak")))
        return
    services = context.services
    timeline = load_timeline(services.settings.timeline_file, services.profile)
    try:
        async with services.sessions.begin() as session:
            loaded, created = await add_agenda(
                session, actor, text, services.profile, timeline, services.clock.now()
            )
    except AgendaRejected as exc:
        shown = [f"• {html.escape(str(p))}" for p in exc.problems[:15]]
        if len(exc.problems) > len(shown):
            shown.append(f"… (+{len(exc.problems) - len(shown)})")
        await message.reply_text(
            _text(context, "agenda_ui.ditolak", masalah=Safe("\n".join(shown)))
        )
        return
    except PermissionDenied as exc:
        await message.reply_text(html.escape(str(exc)))
        return
    await message.reply_text(
        _text(
            context,
            "agenda_ui.dimuat",
            nama=loaded.name,
            langkah=len(loaded.steps),
            topik=TOPICS.get(loaded.topic, loaded.topic),
            baru="dimuat" if created else "diperbarui",
        )
    )
    async with services.sessions() as session:
        row = await session.get(AgendaRow, loaded.name)
    if row is not None and row.awaiting_approval:
        await message.reply_text(_text(context, "agenda_ui.perlu_persetujuan", nama=loaded.name))


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [
        CommandHandler("agenda", agenda, filters=filters.UpdateType.MESSAGE),
        CallbackQueryHandler(agenda_button, pattern=callbacks.AGENDA.pattern),
        # Before residents' catch-all private document handler (the TPS upload).
        MessageHandler(
            filters.UpdateType.MESSAGE
            & filters.ChatType.PRIVATE
            & filters.Document.FileExtension("toml"),
            agenda_file,
        ),
    ]
