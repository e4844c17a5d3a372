"""Private messages to one person (an official, a group's admin), as the domain needs them.

Telegram lets a bot write to someone only after they started it; `tell` then answers False
(bot/notices.py implements it over python-telegram-bot, within the shared send budget).
"""

from __future__ import annotations

from typing import Protocol

# (label, callback data) of one inline button under the message.
Button = tuple[str, str]


class PrivateNotifier(Protocol):
    async def tell(self, user_id: int, text: str, button: Button | None = None) -> bool:
        """Send `text` (HTML); False when the person cannot be reached (never started the bot)."""
        ...
