"""domain.notices.PrivateNotifier over python-telegram-bot: one private message, or False."""

from __future__ import annotations

import logging

from telegram import Bot
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.ui.views import keyboard
from domain.notices import Button

log = logging.getLogger(__name__)


class BotNotifier:
    """Sends through the Application's bot, so the shared rate limiter paces it."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def tell(self, user_id: int, text: str, button: Button | None = None) -> bool:
        markup = keyboard([[button]]) if button is not None else None
        try:
            await self.bot.send_message(user_id, text, reply_markup=markup)
        except (Forbidden, BadRequest) as exc:  # never started the bot, blocked it, deleted
            log.info("private message to %s not delivered: %s", user_id, exc.message)
            return False
        except TelegramError:
            log.warning("private message to %s failed", user_id, exc_info=True)
            return False
        return True
