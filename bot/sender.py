"""The engine's Sender over python-telegram-bot: Telegram's answers classified by type."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from scheduler.sender import Outcome, OutgoingMessage, SendResult

log = logging.getLogger(__name__)


def ack_keyboard(label: str, data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])


def broadcast_bot(token: str, base_url: str, base_file_url: str, pool: int) -> ExtBot[None]:
    """A Bot of its own for broadcasts: the engine paces and retries itself, so PTB's limiter
    (on the interactive bot) must not add a second queue, and it needs a pool of connections."""
    request = HTTPXRequest(connection_pool_size=pool, read_timeout=15, connect_timeout=10)
    return ExtBot(token, base_url=base_url, base_file_url=base_file_url, request=request)


class TelegramSender:
    def __init__(self, bot: ExtBot[None]) -> None:
        self.bot = bot

    async def send(self, message: OutgoingMessage) -> SendResult:
        try:
            sent = await self.bot.send_message(
                chat_id=message.chat_id,
                text=message.html,
                parse_mode=ParseMode.HTML,
                reply_markup=ack_keyboard(message.ack_label, message.ack_data),
                allow_paid_broadcast=message.paid or None,
            )
        except RetryAfter as exc:
            wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            return SendResult(Outcome.RETRY_AFTER, retry_after=seconds, reason=str(exc))
        except ChatMigrated as exc:
            return SendResult(Outcome.MIGRATED, new_chat_id=exc.new_chat_id, reason=str(exc))
        except Forbidden as exc:
            return SendResult(Outcome.FORBIDDEN, reason=exc.message)
        except BadRequest as exc:
            # "chat not found" has no exception class of its own in PTB; the text is all we get.
            if "chat not found" in exc.message.lower():
                return SendResult(Outcome.CHAT_NOT_FOUND, reason=exc.message)
            return SendResult(Outcome.BAD_REQUEST, reason=exc.message)
        except (TimedOut, NetworkError) as exc:
            return SendResult(Outcome.TRANSIENT, reason=f"{type(exc).__name__}: {exc.message}")
        except TelegramError as exc:
            return SendResult(Outcome.TRANSIENT, reason=f"{type(exc).__name__}: {exc.message}")
        return SendResult(Outcome.SENT, message_id=sent.message_id)
