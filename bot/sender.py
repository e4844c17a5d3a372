"""The engine's Sender over python-telegram-bot: Telegram's answers classified by type."""

from __future__ import annotations

import logging
from datetime import timedelta

import aiohttp
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
from telegram.request import BaseRequest, RequestData

from scheduler.sender import Outcome, OutgoingMessage, SendResult

log = logging.getLogger(__name__)


def ack_keyboard(label: str, data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])


def broadcast_bot(token: str, base_url: str, base_file_url: str, pool: int) -> ExtBot[None]:
    """A Bot of its own for broadcasts: the engine paces and retries itself, so PTB's limiter
    (on the interactive bot) must not add a second queue, and it needs a pool of connections."""
    request = AiohttpRequest(pool, read_timeout=15, connect_timeout=10)
    return ExtBot(token, base_url=base_url, base_file_url=base_file_url, request=request)


class AiohttpRequest(BaseRequest):
    """PTB's transport over aiohttp, for the broadcast bot.

    httpx (PTB's default) costs milliseconds of CPU per request once its pool holds dozens of
    connections: httpcore walks every connection for every request, and without sniffio it
    retries a failing import inside each lock. A paid broadcast sends a thousand a second from
    one core, so that was most of the engine's time (issue 5's benchmark).
    """

    def __init__(
        self,
        pool: int,
        *,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self._pool = pool
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        read = _given(read_timeout, self._read_timeout)
        connect = _given(connect_timeout, self._connect_timeout)
        waiting = _given(pool_timeout, self._pool_timeout)
        timeout = aiohttp.ClientTimeout(
            # aiohttp's `connect` covers waiting for a pooled connection and opening a new one.
            connect=None if connect is None or waiting is None else connect + waiting,
            sock_connect=connect,
            sock_read=read,
        )
        data: aiohttp.FormData | dict[str, str] | None = None
        if request_data is not None:
            data = request_data.json_parameters
            if request_data.contains_files:
                form = aiohttp.FormData(data)
                for name, (filename, content, mime) in request_data.multipart_data.items():
                    form.add_field(name, content, filename=filename, content_type=mime)
                data = form
        try:
            async with self._session.request(method, url, data=data, timeout=timeout) as resp:
                return resp.status, await resp.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc


def _given(value: object, default: float | None) -> float | None:
    """A timeout PTB passed, or ours when it passed its DEFAULT_NONE."""
    if value is None or isinstance(value, int | float):
        return value
    return default


class TelegramSender:
    def __init__(self, bot: ExtBot[None]) -> None:
        self.bot = bot
        self._keyboards: dict[tuple[str, str], InlineKeyboardMarkup] = {}

    async def send(self, message: OutgoingMessage) -> SendResult:
        key = (message.ack_label, message.ack_data)
        keyboard = self._keyboards.get(key)
        if keyboard is None:  # one per broadcast, not one per send
            keyboard = self._keyboards[key] = ack_keyboard(*key)
        try:
            sent = await self.bot.send_message(
                chat_id=message.chat_id,
                text=message.html,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard,
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
