"""The command lists Telegram shows, per scope, in Indonesian."""

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

log = logging.getLogger(__name__)

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
    ("bantuan", "Perintah bot di grup"),
]
GROUP_ADMINS = [
    *GROUPS,
    ("daftar", "Daftarkan grup RW/RT ini"),
    ("berhenti", "Berhenti berlangganan siaran"),
]


OFFICIALS = [
    *PRIVATE,
    ("siaran", "Buat siaran ke grup RW/RT"),
    ("jadwal", "Siaran terjadwal dan terkirim"),
    ("setujui", "Setujui siaran: /setujui NOMOR"),
    ("batal", "Batalkan siaran: /batal NOMOR"),
    ("laporan", "Laporan terkirim dan dibaca"),
    ("belum", "Grup yang belum membaca"),
    ("grup", "Grup terdaftar per wilayah"),
    ("cakupan", "Cakupan RW/RT per kelurahan"),
    ("petugas", "Daftar dan tambah petugas"),
]


async def set_official_commands(bot: Any, user_ids: list[int]) -> None:
    """Officials see their own commands in their private chat with the bot."""
    for user_id in user_ids:
        try:
            await bot.set_my_commands(
                [BotCommand(c, d) for c, d in OFFICIALS], scope=BotCommandScopeChat(user_id)
            )
        except TelegramError as exc:  # an official who never opened the bot has no chat yet
            log.info("no command list for official %s: %s", user_id, exc)


async def set_commands(bot: Any) -> None:
    for commands, scope in (
        (PRIVATE, BotCommandScopeAllPrivateChats()),
        (GROUPS, BotCommandScopeAllGroupChats()),
        (GROUP_ADMINS, BotCommandScopeAllChatAdministrators()),
    ):
        await bot.set_my_commands([BotCommand(c, d) for c, d in commands], scope=scope)
