"""The pre-flight's ChatProber over python-telegram-bot: getChatMember and getChat, classified."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

# As in bot/app.py: RetryAfter.retry_after as a timedelta (PTB 22 warns about the int form).
os.environ.setdefault("PTB_TIMEDELTA", "true")

from telegram import Bot, ChatMemberRestricted
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter

from domain.preflight import Answer, Probe


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def _probe(call: Callable[[], Awaitable[Any]], read: Callable[[Any], Probe]) -> Probe:
    try:
        return read(await call())
    except ChatMigrated as exc:
        return Probe(Answer.MIGRATED, new_chat_id=int(exc.new_chat_id), reason=exc.message)
    except RetryAfter as exc:
        return Probe(Answer.RETRY_AFTER, retry_after=_seconds(exc.retry_after), reason=exc.message)
    except Forbidden as exc:  # "bot was kicked from the group chat", "bot is not a member"
        return Probe(Answer.FORBIDDEN, reason=exc.message)
    except BadRequest as exc:  # chat not found, group chat was deactivated, ...
        return Probe(Answer.NOT_FOUND, reason=exc.message)
    except NetworkError as exc:  # timeouts, 5xx (BadRequest is a NetworkError: caught above)
        return Probe(Answer.TRANSIENT, reason=exc.message)


class BotProber:
    """domain.preflight.ChatProber for one Bot (initialized; its pool sized for the workers)."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def bot_member(self, chat_id: int) -> Probe:
        def read(member: Any) -> Probe:
            can_send = (
                bool(member.can_send_messages) if isinstance(member, ChatMemberRestricted) else None
            )
            return Probe(Answer.OK, status=str(member.status), can_send=can_send)

        return await _probe(lambda: self.bot.get_chat_member(chat_id, self.bot.id), read)

    async def chat(self, chat_id: int) -> Probe:
        def read(chat: Any) -> Probe:
            permissions = chat.permissions
            can_send = None if permissions is None else permissions.can_send_messages
            return Probe(Answer.OK, can_send=None if can_send is None else bool(can_send))

        return await _probe(lambda: self.bot.get_chat(chat_id), read)
