"""A Bot of its own for answering presses in a burst: no PTB rate limiter, no Defaults.

The interactive bot's shared limiter paces every request that names a chat (about 30 a second
over all chats). A press's answer (`answerCallbackQuery`) and the admin look-up behind it
(`getChatAdministrators`) must not wait in that queue: Telegram drops an answer 15 s after the
press, and 5,000 groups pressing within minutes would push most answers past it. Telegram does
not limit these calls per chat the way it limits messages, so they go out on their own pool.
"""

from __future__ import annotations

import asyncio

from telegram import Bot

from bot.context import BotContext
from bot.http_sender import broadcast_bot
from bot.ops import ops_of
from bot.ops_metrics import count_429s


class SideBot:
    """Made on first use, shut down with the application; its 429s counted as `source`."""

    def __init__(self, connections: int, source: str) -> None:
        self.connections = connections
        self.source = source
        self._bot: Bot | None = None
        self._lock = asyncio.Lock()

    async def get(self, context: BotContext) -> Bot:
        if self._bot is not None:
            return self._bot
        async with self._lock:
            if self._bot is None:
                settings = context.services.settings
                bot = broadcast_bot(
                    settings.token,
                    settings.telegram_base_url,
                    settings.base_file_url,
                    self.connections,
                )
                ops = ops_of(context.application)
                if ops is not None:  # its 429s count like every other request's
                    count_429s(bot, ops, self.source)
                await bot.initialize()
                context.services.closers.append(bot.shutdown)
                self._bot = bot
            return self._bot
