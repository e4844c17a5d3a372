"""One budget for everything the bot sends: PTB's rate limiter over the engine's pacer.

Replies to people and broadcast sends used two limiters for one Telegram budget (about 30
messages a second per bot), so a full-speed broadcast plus replies met 429s. This limiter hands
PTB's requests to the broadcast engine's PriorityPacer and per-group pace instead, with a
priority above every broadcast: a reply to a person goes first, an edit (a redraw of a count)
next, broadcasts with what is left. Button answers carry no chat id and are not paced at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from scheduler.ratelimit import INTERACTIVE, REDRAW, TELEGRAM, ChatPacer, PriorityPacer

log = logging.getLogger(__name__)

JSON = bool | dict[str, Any] | list[dict[str, Any]]


class PrivateChatPacer:
    """A token bucket per private chat: `rate` a second, `burst` at once."""

    def __init__(self, rate: float, *, burst: int = 3) -> None:
        self.rate = rate
        self.burst = burst
        self._state: dict[int, tuple[float, float]] = {}  # chat -> (tokens, at)

    def take(self, chat_id: int) -> float:
        """Take a token now; how long to wait before sending (0: at once)."""
        now = time.monotonic()
        tokens, at = self._state.get(chat_id, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate) - 1.0
        self._state[chat_id] = (tokens, now)
        if len(self._state) > 50_000:  # forget chats idle long enough to be full again
            horizon = now - self.burst / self.rate
            self._state = {c: v for c, v in self._state.items() if v[1] > horizon}
        return 0.0 if tokens >= 0 else -tokens / self.rate

    def pause(self, chat_id: int, seconds: float) -> None:
        now = time.monotonic()
        self._state[chat_id] = (-seconds * self.rate, now)


class SharedRateLimiter(BaseRateLimiter[int]):
    """Replies through the engine's pacer; `attach` it in post_init once the engine exists."""

    def __init__(self, max_retries: int = 2) -> None:
        self.max_retries = max_retries
        self._pacers: list[PriorityPacer] = [PriorityPacer(TELEGRAM.broadcast_rate())]
        self._groups = ChatPacer(TELEGRAM.per_group_per_minute)
        self._private = PrivateChatPacer(TELEGRAM.per_private_per_second, burst=3)

    def attach(self, pacer: PriorityPacer, groups: ChatPacer) -> None:
        """Share the engine's budget. When the engine may go faster than Telegram allows
        replies (paid broadcasts), replies also keep to Telegram's ordinary rate."""
        own = PriorityPacer(TELEGRAM.broadcast_rate())
        self._pacers = [pacer] if pacer.interval >= own.interval else [pacer, own]
        self._groups = groups

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSON]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSON:
        chat_id: Any = data.get("chat_id")
        with contextlib.suppress(ValueError, TypeError):
            chat_id = int(chat_id)
        retries = rate_limit_args if rate_limit_args is not None else self.max_retries
        # A redraw in a group (a count on a button) may wait; in a private chat an edit is the
        # answer to what the person just did, and must not be overtaken by a later message.
        group = isinstance(chat_id, int) and chat_id < 0
        priority = REDRAW if group and endpoint.startswith("edit") else INTERACTIVE
        for attempt in range(retries + 1):
            if chat_id is not None:
                await self._wait_turn(chat_id, priority)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                seconds = exc._retry_after.total_seconds()
                for pacer in self._pacers:
                    pacer.pause(seconds)
                if attempt == retries:
                    raise
                log.info("Telegram asked to wait %.1f s (%s)", seconds, endpoint)
                await asyncio.sleep(seconds + 0.1)
        raise AssertionError("unreachable")

    async def _wait_turn(self, chat_id: Any, priority: int) -> None:
        if isinstance(chat_id, int) and chat_id > 0:
            # About one message a second into a private chat (a short burst is tolerated).
            delay = self._private.take(chat_id)
            if delay > 0:
                await asyncio.sleep(delay)
        if isinstance(chat_id, int) and chat_id < 0:
            delay = self._groups.delay_for(chat_id)
            while delay > 0:  # the group's 20 a minute, shared with broadcasts to it
                await asyncio.sleep(delay)
                delay = self._groups.delay_for(chat_id)
            self._groups.record(chat_id)
        for pacer in self._pacers:
            await pacer.acquire(priority)
