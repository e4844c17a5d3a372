"""/audit for admins in a private chat: who did what, newest first, scoped to the admin's area.

/audit [petugas ID | siaran NOMOR] [sebelum NOMOR] [csv] — by official, by broadcast, the next
page (entries before an id), or the same selection as a CSV document.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import IO, Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from bot.context import BotContext
from bot.ui.guards import NEW_MESSAGES, official
from bot.ui.views import local_time, reason, text
from domain.audit import audit_batches, audit_csv, audit_entries
from domain.inputs import InvalidNumber, parse_entry_id, parse_record_id, parse_user_id
from domain.officials import Actor, PermissionDenied

PER_PAGE = 20
# Rows per CSV file: about 5–10 MB, well under Telegram's 50 MB for a bot's document. A longer
# log is sent as several files, each saying which part it is; nothing is cut.
PART_ROWS = 50_000
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
        await message.reply_text(reason(context, exc, then="ui.audit.format"))
        return
    services = context.services
    try:
        if options.pop("csv"):
            await _export(message.chat_id, context, actor, options)
            return
        async with services.sessions() as session:
            rows = await audit_entries(session, actor, limit=PER_PAGE, **options)
    except PermissionDenied as exc:
        await message.reply_text(text(context, "ui.alasan", alasan=str(exc)))
        return
    if not rows:
        await message.reply_text(text(context, "ui.audit.kosong"))
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


async def _export(chat_id: int, context: BotContext, actor: Actor, options: dict[str, Any]) -> None:
    """The whole selection as CSV, written batch by batch into files of PART_ROWS rows, then
    sent one document per file, its caption saying which part of how many rows it is."""
    zone = context.services.profile.tz
    with tempfile.TemporaryDirectory(prefix="kentongan-audit-") as folder:
        parts: list[tuple[Path, int]] = []  # each file and its rows
        out: IO[str] | None = None
        try:
            async with context.services.sessions() as session:
                async for batch in audit_batches(session, actor, **options):
                    while batch:
                        if out is None or parts[-1][1] >= PART_ROWS:
                            if out is not None:
                                out.close()
                            path = Path(folder) / f"audit-{len(parts) + 1}.csv"
                            out = path.open("w", encoding="utf-8", newline="")
                            out.write(audit_csv([], zone))  # the header
                            parts.append((path, 0))
                        room = PART_ROWS - parts[-1][1]
                        chunk, batch = batch[:room], batch[room:]
                        out.write(audit_csv(chunk, zone, header=False))
                        parts[-1] = (parts[-1][0], parts[-1][1] + len(chunk))
        finally:
            if out is not None:
                out.close()
        total = sum(count for _, count in parts)
        if not total:
            await context.bot.send_message(chat_id, text(context, "ui.audit.kosong"))
            return
        for number, (path, count) in enumerate(parts, start=1):
            if len(parts) == 1:
                caption = text(context, "ui.audit.keterangan_csv", jumlah=count)
                name = "audit.csv"
            else:
                caption = text(
                    context,
                    "ops_petugas.audit_bagian",
                    bagian=number,
                    bagian_total=len(parts),
                    jumlah=count,
                    total=total,
                )
                name = f"audit-{number}-dari-{len(parts)}.csv"
            with path.open("rb") as document:
                await context.bot.send_document(
                    chat_id, document=document, filename=name, caption=caption
                )


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [CommandHandler("audit", audit_command, filters=NEW_MESSAGES)]
