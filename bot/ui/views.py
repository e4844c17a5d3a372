"""What handlers show: library texts rendered now, inline keyboards, a time in the election's zone.

Every sentence a user reads comes from the message library through `text`; handlers hold no
Indonesian of their own (tests/test_handler_texts.py keeps it so).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError

from bot.context import BotContext
from messages.context import format_day
from messages.render import Safe, render

log = logging.getLogger(__name__)

Button = tuple[str, str] | InlineKeyboardButton  # (label, callback data) or a ready button
Rows = list[list[Button]]


def text(context: BotContext, key: str, **params: object) -> str:
    """A library message rendered for now; `params` fill its declared placeholders (escaped,
    unless wrapped in `Safe`)."""
    services = context.services
    return render(key, services.profile, services.clock.now(), params or None)


def reason(context: BotContext, why: object, *, then: str | None = None) -> str:
    """Why an input was refused (`ui.alasan`), and with `then` the library line saying what to
    send instead."""
    body = text(context, "ui.alasan", alasan=str(why))
    return f"{body}\n{text(context, then)}" if then else body


def keyboard(rows: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup:
    """The one keyboard builder: rows of (label, callback data) pairs or ready buttons."""
    return InlineKeyboardMarkup(
        [
            [
                b
                if isinstance(b, InlineKeyboardButton)
                else InlineKeyboardButton(b[0], callback_data=b[1])
                for b in row
            ]
            for row in rows
        ]
    )


def in_rows(buttons: Sequence[Button], per_row: int) -> Rows:
    return [list(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]


def local_time(context: BotContext, at: datetime) -> str:
    """'Selasa, 26 November 2024 19.00 WIB': a stored UTC time as officials read it."""
    profile = context.services.profile
    local = at.astimezone(profile.tz)
    return f"{format_day(local.date())} {local:%H.%M} {profile.timezone_label}"


async def edit(message: Message, body: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace a flow message in place; a double press ("message is not modified") is harmless."""
    try:
        await message.edit_text(body, reply_markup=markup)
    except TelegramError as exc:
        log.info("editing a flow message failed: %s", exc)


async def edit_or_reply(
    update: Update, body: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """After a press, the pressed message changes; after typed input, a new message answers."""
    query = update.callback_query
    if query is not None and isinstance(query.message, Message):
        await edit(query.message, body, markup)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(body, reply_markup=markup)


MESSAGE_LIMIT = 4096  # Telegram's limit on a message's text (after entities are parsed)
MAX_PARTS = 4  # a list longer than this many messages is cut, with a line saying so


async def reply_long(message: Message, context: BotContext, body: str) -> None:
    """Reply with ``body`` (Telegram HTML, one item a line) in as many messages as it needs,
    split between lines; past MAX_PARTS messages the rest is summarised in one line."""
    parts: list[str] = []
    current: list[str] = []
    size = 0
    lines = body.split("\n")
    for i, line in enumerate(lines):
        line = line[: MESSAGE_LIMIT - 100]
        if size + len(line) + 1 > MESSAGE_LIMIT - 100 and current:
            parts.append("\n".join(current))
            current, size = [], 0
            if len(parts) == MAX_PARTS:
                rest = sum(1 for x in lines[i:] if x.strip())
                parts[-1] += "\n" + text(context, "ui.daftar_panjang.lainnya", jumlah=rest)
                break
        current.append(line)
        size += len(line) + 1
    else:
        parts.append("\n".join(current))
    for part in parts:
        await message.reply_text(part)


def bot_link(context: BotContext, **params: str) -> str:
    """t.me/<bot>?startgroup=daftar and the like."""
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"https://t.me/{context.bot.username}" + (f"?{query}" if query else "")


def add_to_group_button(context: BotContext) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text(context, "ui.tombol.tambah_ke_grup"), url=bot_link(context, startgroup="daftar")
    )


__all__ = [
    "Button",
    "Rows",
    "Safe",
    "add_to_group_button",
    "bot_link",
    "edit",
    "edit_or_reply",
    "in_rows",
    "keyboard",
    "local_time",
    "reply_long",
    "text",
]
