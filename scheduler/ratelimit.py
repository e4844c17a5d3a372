"""Send pacing shared by every running broadcast: a global rate, a per-chat pace, 429 pauses."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class TelegramLimits:
    """Telegram's flood limits and the margin we keep under them: the one place they live.

    https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
    """

    per_second: float = 30.0  # messages a second across all chats
    paid_per_second: float = 1000.0  # with allow_paid_broadcast
    per_group_per_minute: int = 20
    per_private_per_second: float = 1.0
    # A hair under the limit keeps 429s away (our clock and Telegram's never agree exactly).
    margin: float = 0.985

    def broadcast_rate(self, configured: float | None = None, *, paid: bool = False) -> float:
        """Sends a second for the engine: the configured (or Telegram's) rate less the margin."""
        if configured is None:
            configured = self.paid_per_second if paid else self.per_second
        return configured * self.margin


TELEGRAM = TelegramLimits()

# Pacer priorities above every broadcast's (a broadcast's priority is small: 0 to a few):
# replies to people first, then edits of what is on screen (ack counts), broadcasts after.
INTERACTIVE = 1000
REDRAW = 500


class PriorityPacer:
    """Hands out send slots at `rate` per second; higher priority waiters are served first.

    One pacer serves every broadcast, so a voting-day reminder overtakes a neutrality note that
    is still going out. A 429 pauses everyone (`pause`): all workers then wait for the same
    moment instead of each retrying on its own (no stampede).
    """

    def __init__(
        self,
        rate: float,
        monotonic: Callable[[], float] = time.monotonic,
        *,
        catch_up: float = 0.05,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate
        # How late a slot may still be handed out. The event loop wakes up to a millisecond or
        # two late; at hundreds of sends a second, dropping those slots cost a third of the rate.
        self.catch_up = catch_up
        self._now = monotonic
        self._next_slot = 0.0
        self._paused_until = 0.0
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._dispatcher: asyncio.Task[None] | None = None

    def pause(self, seconds: float) -> None:
        # The dispatcher looks at the pause when its next slot comes: no need to wake it.
        self._paused_until = max(self._paused_until, self._now() + seconds)

    @property
    def paused_for(self) -> float:
        return max(0.0, self._paused_until - self._now())

    async def acquire(self, priority: int = 0) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._waiters, (-priority, next(self._seq), future))
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = loop.create_task(self._dispatch())
        try:
            await future
        except asyncio.CancelledError:
            if not future.done():
                future.cancel()
            raise

    async def _dispatch(self) -> None:
        while self._waiters:
            now = self._now()
            start = max(self._next_slot, self._paused_until)
            if start > now:
                await asyncio.sleep(start - now)
                continue
            # A slot missed by a late wake-up is still handed out; after a lull or a pause the
            # slots start again from now (no bursts: a burst is what makes Telegram answer 429).
            slot = start if start >= now - self.catch_up else now
            while self._waiters and slot <= now:
                _, _, future = heapq.heappop(self._waiters)
                if future.done():  # cancelled while waiting
                    continue
                future.set_result(None)
                slot += self.interval
            self._next_slot = slot
            await asyncio.sleep(0)


# Telegram counts a chat's messages when they arrive; a send is recorded here a moment before
# its request gets there (a busy loop, a queue in the HTTP pool). Counting a minute as a little
# more keeps the 21st message from arriving 59.9 s after the first.
CHAT_WINDOW = 61.0


class ChatPacer:
    """At most `per_minute` sends into one chat within any minute (CHAT_WINDOW seconds)."""

    def __init__(self, per_minute: int = 20, monotonic: Callable[[], float] = time.monotonic):
        self.per_minute = per_minute
        self._now = monotonic
        self._sent: dict[int, list[float]] = {}
        self._paused: dict[int, float] = {}

    def delay_for(self, chat_id: int) -> float:
        """Seconds to wait before the next send into chat_id (0 when it may go now)."""
        now = self._now()
        wait = max(0.0, self._paused.get(chat_id, 0.0) - now)
        window = [t for t in self._sent.get(chat_id, ()) if now - t < CHAT_WINDOW]
        if window:
            self._sent[chat_id] = window
        else:
            self._sent.pop(chat_id, None)
        if len(window) >= self.per_minute:
            wait = max(wait, CHAT_WINDOW - (now - window[0]))
        return wait

    def sent_recently(self, chat_id: int) -> int:
        """Sends into chat_id within the last minute (CHAT_WINDOW seconds)."""
        now = self._now()
        return sum(1 for t in self._sent.get(chat_id, ()) if now - t < CHAT_WINDOW)

    def record(self, chat_id: int) -> None:
        self._sent.setdefault(chat_id, []).append(self._now())

    def pause(self, chat_id: int, seconds: float) -> None:
        self._paused[chat_id] = max(self._paused.get(chat_id, 0.0), self._now() + seconds)
