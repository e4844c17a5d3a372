"""The command lists Telegram shows, per scope; their descriptions come from the library
(`ui.perintah.*`)."""

from __future__ import annotations

import logging
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
)
from telegram.error import TelegramError

from election.profile import ElectionProfile
from messages.render import render

log = logging.getLogger(__name__)

# (command, library key of its description), in the order Telegram shows them.
PRIVATE = [
    (name, f"ui.perintah.pribadi.{name}")
    for name in (
        "start",
        "kapan",
        "tps",
        "syarat",
        "bantuan",
        "privasi",
        "hapusdata",
    )
]
GROUPS = [
    (name, f"ui.perintah.di_grup.{name}")
    for name in ("kapan", "tps", "syarat", "status", "bantuan")
]
GROUP_ADMINS = [
    *GROUPS,
    *((name, f"ui.perintah.di_grup.{name}") for name in ("daftar", "berhenti", "topik", "lapor")),
]
OFFICIALS = [
    *PRIVATE,
    *(
        (name, f"ui.perintah.petugas.{name}")
        for name in (
            "siaran",
            "jadwal",
            "setujui",
            "batal",
            "laporan",
            "belum",
            "grup",
            "cakupan",
            "petugas",
            "audit",
            "pertanyaan",
            "undang",
            "cekgrup",
            "eskalasi",
            "agenda",
            "lapangan",
        )
    ),
]


def _commands(entries: list[tuple[str, str]], profile: ElectionProfile) -> list[BotCommand]:
    return [BotCommand(name, render(key, profile)) for name, key in entries]


async def set_official_commands(bot: Any, profile: ElectionProfile, user_ids: list[int]) -> None:
    """Officials see their own commands in their private chat with the bot."""
    commands = _commands(OFFICIALS, profile)
    for user_id in user_ids:
        try:
            await bot.set_my_commands(commands, scope=BotCommandScopeChat(user_id))
        except TelegramError as exc:  # an official who never opened the bot has no chat yet
            log.info("no command list for official %s: %s", user_id, exc)


async def set_commands(bot: Any, profile: ElectionProfile) -> None:
    for entries, scope in (
        (PRIVATE, BotCommandScopeAllPrivateChats()),
        (GROUPS, BotCommandScopeAllGroupChats()),
        (GROUP_ADMINS, BotCommandScopeAllChatAdministrators()),
    ):
        await bot.set_my_commands(_commands(entries, profile), scope=scope)
