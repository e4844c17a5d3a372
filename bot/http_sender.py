"""The engine's Sender over the Bot API: Telegram's answers classified by type.

Broadcasts go through a Bot of their own (``broadcast_bot``) whose transport is aiohttp. The
Sender posts sendMessage through that transport and reads Telegram's answer itself: PTB would
build a Message object (chat, sender, entities, keyboard) from every answer only for the engine
to keep its message id, and at a thousand sends a second that was a third of the CPU.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import aiohttp
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.ext import ExtBot
from telegram.request import BaseRequest, RequestData

from bot.ui.callbacks import CHECKIN
from scheduler.sender import Outcome, OutgoingMessage, SendResult

log = logging.getLogger(__name__)

_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def ack_keyboard(label: str, data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])


# Short answers fit one row on a phone; longer ones get a row each.
_ONE_ROW_CHARS = 32


def checkin_keyboard(
    broadcast_id: int, answers: tuple[tuple[str, str], ...]
) -> InlineKeyboardMarkup:
    """A check-in's answer buttons (key, label), in the order the step lists them."""
    buttons = [
        InlineKeyboardButton(label, callback_data=CHECKIN.build(broadcast_id, key))
        for key, label in answers
    ]
    if sum(len(label) for _, label in answers) <= _ONE_ROW_CHARS:
        return InlineKeyboardMarkup([buttons])
    return InlineKeyboardMarkup([[b] for b in buttons])


def message_keyboard(message: OutgoingMessage) -> InlineKeyboardMarkup:
    if message.answers:
        return checkin_keyboard(message.broadcast_id, message.answers)
    return ack_keyboard(message.ack_label, message.ack_data)


def broadcast_bot(token: str, base_url: str, base_file_url: str, pool: int) -> ExtBot[None]:
    """A Bot of its own for broadcasts: the engine paces and retries itself, so PTB's limiter
    (on the interactive bot) must not add a second queue, and it needs a pool of connections."""
    request = AiohttpRequest(pool, read_timeout=15, connect_timeout=10)
    return ExtBot(token, base_url=base_url, base_file_url=base_file_url, request=request)


class AiohttpRequest(BaseRequest):
    """PTB's transport over aiohttp, for the broadcast bot.

    httpx (PTB's default) costs milliseconds of CPU per request once its pool holds dozens of
    connections: httpcore walks every connection for every request and, without sniffio
    installed, retries a failing import inside each lock.
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
        self._default_timeout = self._timeout(read_timeout, connect_timeout, pool_timeout)

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
        timeout = self._timeout(
            _given(read_timeout, self._read_timeout),
            _given(connect_timeout, self._connect_timeout),
            _given(pool_timeout, self._pool_timeout),
        )
        data: aiohttp.FormData | dict[str, str] | None = None
        if request_data is not None:
            data = request_data.json_parameters
            if request_data.contains_files:
                form = aiohttp.FormData(data)
                for name, (filename, content, mime) in request_data.multipart_data.items():
                    form.add_field(name, content, filename=filename, content_type=mime)
                data = form
        return await self._request(method, url, data, None, timeout)

    async def post_form(self, url: str, body: bytes) -> tuple[int, bytes]:
        """POST an urlencoded form of Bot API parameters; the HTTP status and body, whatever
        the status. Network failures raise PTB's TimedOut or NetworkError, as in PTB's calls."""
        return await self._request("POST", url, body, _FORM, self._default_timeout)

    async def _request(
        self,
        method: str,
        url: str,
        data: Any,
        headers: Mapping[str, str] | None,
        timeout: aiohttp.ClientTimeout,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        try:
            async with self._session.request(
                method, url, data=data, headers=headers, timeout=timeout
            ) as resp:
                return resp.status, await resp.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc

    @staticmethod
    def _timeout(
        read: float | None, connect: float | None, waiting: float | None
    ) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(
            # aiohttp's `connect` covers waiting for a pooled connection and opening a new one.
            connect=None if connect is None or waiting is None else connect + waiting,
            sock_connect=connect,
            sock_read=read,
        )


def _given(value: object, default: float | None) -> float | None:
    """A timeout PTB passed, or ours when it passed its DEFAULT_NONE."""
    if value is None or isinstance(value, int | float):
        return value
    return default


class TelegramSender:
    def __init__(self, bot: ExtBot[None]) -> None:
        transport = bot.request
        if not isinstance(transport, AiohttpRequest):
            raise TypeError("TelegramSender needs a bot made by broadcast_bot()")
        self.bot = bot
        self._transport = transport
        self._url = f"{bot.base_url}/sendMessage"
        # Everything but the chat id is the same for every send of a broadcast: encoded once.
        self._forms: dict[tuple[object, ...], bytes] = {}

    async def send(self, message: OutgoingMessage) -> SendResult:
        body = b"chat_id=%d&%s" % (message.chat_id, self._form(message))
        try:
            status, payload = await self._transport.post_form(self._url, body)
        except TelegramError as exc:  # TimedOut, NetworkError: worth another try
            return SendResult(Outcome.TRANSIENT, reason=f"{type(exc).__name__}: {exc.message}")
        return classify(status, payload)

    def _form(self, message: OutgoingMessage) -> bytes:
        key = (
            message.html,
            message.ack_label,
            message.ack_data,
            message.paid,
            message.answers,
            message.broadcast_id,
        )
        form = self._forms.get(key)
        if form is None:
            keyboard = message_keyboard(message).to_dict()
            fields = {
                "text": message.html,
                "parse_mode": ParseMode.HTML.value,
                "reply_markup": json.dumps(keyboard, ensure_ascii=False),
            }
            if message.paid:
                fields["allow_paid_broadcast"] = "true"
            if len(self._forms) >= 64:  # broadcasts come and go; keep the running ones
                self._forms.clear()
            form = self._forms[key] = urlencode(fields).encode()
        return form


def classify(status: int, payload: bytes) -> SendResult:
    """Telegram's answer to sendMessage, by type, as PTB's exceptions would have said it.

    The parameters come first (https://core.telegram.org/bots/api#responseparameters), then
    the HTTP status, as in PTB's BaseRequest.
    """
    try:
        answer = json.loads(payload)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        return SendResult(Outcome.TRANSIENT, reason=f"HTTP {status}: not JSON: {payload[:80]!r}")
    if 200 <= status <= 299 and answer.get("ok"):
        return SendResult(Outcome.SENT, message_id=int(answer["result"]["message_id"]))
    reason = _reason(answer.get("description") or f"HTTP {status}")
    parameters = answer.get("parameters") or {}
    if parameters.get("migrate_to_chat_id"):
        new_chat_id = int(parameters["migrate_to_chat_id"])
        return SendResult(Outcome.MIGRATED, new_chat_id=new_chat_id, reason=reason)
    if parameters.get("retry_after"):
        seconds = float(parameters["retry_after"])
        return SendResult(Outcome.RETRY_AFTER, retry_after=seconds, reason=reason)
    if status == 403:  # kicked, removed, blocked
        return SendResult(Outcome.FORBIDDEN, reason=reason)
    if status == 400:
        # "chat not found" has no error code of its own; the text is all we get.
        if "chat not found" in reason.lower():
            return SendResult(Outcome.CHAT_NOT_FOUND, reason=reason)
        return SendResult(Outcome.BAD_REQUEST, reason=reason)
    # 5xx, 401/404 (token), 409, anything else: not our message's fault.
    return SendResult(Outcome.TRANSIENT, reason=f"HTTP {status}: {reason}")


def _reason(description: str) -> str:
    # As PTB's TelegramError words it: "Bad Request: chat not found" -> "Chat not found".
    text = description.removeprefix("Error: ").removeprefix("[Error]: ")
    text = text.removeprefix("Bad Request: ")
    return text.capitalize() if text != description else text
