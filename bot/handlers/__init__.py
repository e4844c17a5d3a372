"""Telegram handlers: thin, they read the update, call the domain and reply.

Registration order matters: PTB stops at the first matching handler in a group.
"""

from __future__ import annotations

import html
import logging
from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.context import BotContext

log = logging.getLogger(__name__)


async def on_startup(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Runs in post_init after storage is open: rebuild jobs, set command lists."""


async def start(update: Update, context: BotContext) -> None:
    """Greet a resident in a private chat."""
    if update.effective_message is None:
        return
    profile = context.services.profile
    await update.effective_message.reply_text(
        f"Halo! Saya kentongan, pengingat {html.escape(profile.name)} {profile.region_name}."
    )


async def on_error(update: object, context: BotContext) -> None:
    """Log every failure; a handler error must never stop the bot."""
    log.error("error while handling an update", exc_info=context.error)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(CommandHandler("start", start))
    application.add_error_handler(on_error)
