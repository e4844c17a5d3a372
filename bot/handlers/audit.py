"""/audit for admins in a private chat: who did what, newest first, scoped to the admin's area.

/audit [petugas ID | siaran NOMOR] [sebelum NOMOR] [csv] — by official, by broadcast, the next
page (entries before an id), or the same selection as a CSV document.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from bot.context import BotContext
from bot.ui.guards import NEW_MESSAGES, official
from bot.ui.views import local_time, text
from domain.audit import audit_csv, audit_entries
from domain.inputs import InvalidNumber, parse_entry_id, parse_record_id, parse_user_id
from domain.officials import PermissionDenied

PER_PAGE = 20
CSV_LIMIT = 1000
_SHOWN_TARGET = 40


class UsageError(Exception):
    """The arguments are not the /audit grammar."""


def _options(args: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {"csv": False}
    words = [a.lower() for a in args]
    i = 0
    while i < len(words):
        word = words[i]
        if word == "csv":
            options["csv"] = True
            i += 1
            continue
        if i + 1 >= len(words):
            raise UsageError(word)
        value = args[i + 1]
        if word == "petugas" and "official_id" not in options:
            options["official_id"] = parse_user_id(value)
        elif word == "siaran" and "broadcast_id" not in options:
            options["broadcast_id"] = parse_record_id(value)
        elif word == "sebelum" and "before_id" not in options:
            options["before_id"] = parse_entry_id(value)
        else:
            raise UsageError(word)
        i += 2
    return options


async def audit_command(update: Update, context: BotContext) -> None:
    """/audit: recent actions in the admin's scope, as text or CSV."""
    actor = await official(update, context)
    message = update.effective_message
    if actor is None or message is None:
        return
    try:
        options = _options(context.args or [])
    except UsageError:
        await message.reply_text(text(context, "ui.audit.format"))
        return
    except InvalidNumber as exc:
        await message.reply_text(
            text(context, "ui.alasan", alasan=str(exc)) + "\n" + text(context, "ui.audit.format")
        )
        return
    as_csv = options.pop("csv")
    services = context.services
    try:
        async with services.sessions() as session:
            rows = await audit_entries(
                session, actor, limit=CSV_LIMIT if as_csv else PER_PAGE, **options
            )
    except PermissionDenied as exc:
        await message.reply_text(text(context, "ui.alasan", alasan=str(exc)))
        return
    if not rows:
        await message.reply_text(text(context, "ui.audit.kosong"))
        return
    if as_csv:
        await context.bot.send_document(
            message.chat_id,
            document=audit_csv(rows, services.profile.tz).encode("utf-8"),
            filename="audit.csv",
            caption=text(context, "ui.audit.keterangan_csv", jumlah=len(rows)),
        )
        return
    lines = [text(context, "ui.audit.judul", jumlah=len(rows))]
    for row in rows:
        lines.append(
            text(
                context,
                "ui.audit.baris",
                nomor=row.id,
                waktu=local_time(context, row.at),
                petugas=row.actor_id
                if row.actor_id is not None
                else text(context, "ui.audit.sistem"),
                tindakan=row.action,
                sasaran=row.target[:_SHOWN_TARGET],
            )
        )
    if len(rows) == PER_PAGE:
        lines.append(text(context, "ui.audit.lanjut", sebelum=rows[-1].id))
    lines.append(text(context, "ui.audit.cara"))
    await message.reply_text("\n".join(lines))


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [CommandHandler("audit", audit_command, filters=NEW_MESSAGES)]
