"""Telegram's flood limits for sending, as token buckets (O(1) per message, no timestamps kept).

Telegram's FAQ: about 30 messages per second across chats (1000/s with paid broadcasts), at most
20 messages per minute into one group, about one per second into one private chat, with short
bursts tolerated. Past a limit Telegram answers 429 with ``retry_after`` whole seconds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# Methods that post a message into a chat and so count against the limits.
SENDING_METHODS = frozenset(
    m.lower()
    for m in (
        "sendMessage", "sendPhoto", "sendDocument", "sendAudio", "sendVideo", "sendAnimation",
        "sendVoice", "sendVideoNote", "sendMediaGroup", "sendLocation", "sendVenue",
        "sendContact", "sendPoll", "sendDice", "sendSticker", "sendInvoice", "sendPaidMedia",
        "sendChecklist", "copyMessage", "copyMessages", "forwardMessage", "forwardMessages",
    )
)  # fmt: skip
# Methods that read chats; limited only when ``Limits.read_per_second`` is set.
READING_METHODS = frozenset(
    m.lower() for m in ("getChat", "getChatMember", "getChatAdministrators", "getChatMemberCount")
)


@dataclass(frozen=True)
class Limits:
    """Flood limits; ``Limits.off()`` disables them (benchmarks, most unit tests)."""

    enabled: bool = True
    global_per_second: float = 30.0
    global_burst: int = 30
    paid_broadcast_per_second: float = 1000.0
    # The bot pays for broadcasts: every send may go at the paid rate, as if each request
    # carried allow_paid_broadcast=True.
    allow_paid_broadcast: bool = False
    group_per_minute: float = 20.0
    group_burst: int = 20
    private_per_second: float = 1.0
    private_burst: int = 3
    # Telegram publishes no figure for reading chats (getChat, getChatMember); 0 leaves them
    # unlimited. A benchmark sets it (e.g. 30, the sending budget) to see that a sweep over
    # thousands of chats paces itself.
    read_per_second: float = 0.0
    read_burst: int = 30

    @classmethod
    def off(cls) -> Limits:
        return cls(enabled=False)


@dataclass
class TokenBucket:
    rate: float  # tokens per second
    capacity: float
    tokens: float = field(default=-1.0)
    stamp: float = 0.0

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.capacity

    def wait_time(self, now: float) -> float:
        """Seconds until one token is there (0 if one is there now)."""
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1

    def _refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now


class FloodControl:
    """Decides whether a send may go now; if not, how many seconds Telegram would ask to wait."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self._global = TokenBucket(limits.global_per_second, limits.global_burst)
        self._paid = TokenBucket(limits.paid_broadcast_per_second, limits.paid_broadcast_per_second)
        self._chats: dict[int, TokenBucket] = {}
        self._reads = TokenBucket(limits.read_per_second or 1.0, limits.read_burst)

    def check_read(self) -> int:
        """0 and the read is counted, or the ``retry_after`` seconds for a 429."""
        if not self.limits.enabled or self.limits.read_per_second <= 0:
            return 0
        now = self.clock()
        wait = self._reads.wait_time(now)
        if wait > 0:
            return max(1, math.ceil(wait))
        self._reads.take(now)
        return 0

    def check(self, chat_id: int, *, is_private: bool, paid: bool = False) -> int:
        """0 and the send is counted, or the ``retry_after`` seconds for a 429."""
        if not self.limits.enabled:
            return 0
        now = self.clock()
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._new_chat_bucket(is_private)
            self._chats[chat_id] = chat
        overall = self._paid if paid or self.limits.allow_paid_broadcast else self._global
        wait = max(chat.wait_time(now), overall.wait_time(now))
        if wait > 0:
            return max(1, math.ceil(wait))
        chat.take(now)
        overall.take(now)
        return 0

    def _new_chat_bucket(self, is_private: bool) -> TokenBucket:
        if is_private:
            return TokenBucket(self.limits.private_per_second, self.limits.private_burst)
        return TokenBucket(self.limits.group_per_minute / 60.0, self.limits.group_burst)
