"""The command lists Telegram shows, per scope, in Indonesian."""

from __future__ import annotations

from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
)

PRIVATE = [
    ("start", "Menu utama"),
    ("kapan", "Kapan hari pemungutan suara"),
    ("tps", "Di mana TPS saya"),
    ("syarat", "Apa yang dibawa ke TPS"),
    ("bantuan", "Cara memakai bot ini"),
]
GROUPS = [
    ("kapan", "Kapan hari pemungutan suara"),
    ("tps", "Cara cek lokasi TPS"),
    ("syarat", "Apa yang dibawa ke TPS"),
    ("status", "Status pendaftaran grup ini"),
]
GROUP_ADMINS = [
    *GROUPS,
    ("daftar", "Daftarkan grup RW/RT ini"),
    ("berhenti", "Berhenti berlangganan siaran"),
]


async def set_commands(bot: Any) -> None:
    for commands, scope in (
        (PRIVATE, BotCommandScopeAllPrivateChats()),
        (GROUPS, BotCommandScopeAllGroupChats()),
        (GROUP_ADMINS, BotCommandScopeAllChatAdministrators()),
    ):
        await bot.set_my_commands([BotCommand(c, d) for c, d in commands], scope=scope)
