"""Slowing down one user who floods the bot: a token bucket per user.

Each message takes a token; tokens come back at a steady rate up to the bucket's size. With no
token left the user gets one polite notice, then silence until a token is back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

# 4 messages at once, then one every 2 s (6 per 10 s sustained). Not more: Telegram lets a bot
# send about one message a second into one private chat, with a burst of 3, and PTB's
# AIORateLimiter(max_retries=2) tries a send three times a second apart, so 4 answers and the
# one notice (5 sends) are the most a burst can get through without one being dropped.
CAPACITY = 4.0
REFILL_PER_SECOND = 0.5


class Verdict(StrEnum):
    ALLOW = "allow"  # answer it
    WARN = "warn"  # the first one over the limit: say "tunggu sebentar", do nothing else
    DROP = "drop"  # over the limit and already told: stay silent


@dataclass
class TokenBucket:
    capacity: float = CAPACITY
    refill_per_second: float = REFILL_PER_SECOND
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    tokens: float = -1.0  # -1: full at the first use
    updated: float = 0.0
    warned: bool = False

    def take(self, cost: float = 1.0) -> Verdict:
        now = self.clock()
        if self.tokens < 0:
            self.tokens, self.updated = self.capacity, now
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.refill_per_second)
        self.updated = now
        if self.tokens >= cost:
            self.tokens -= cost
            self.warned = False
            return Verdict.ALLOW
        if self.warned:
            return Verdict.DROP
        self.warned = True
        return Verdict.WARN

    def seconds_to_next(self, cost: float = 1.0) -> float:
        """How long until `take(cost)` would be allowed again."""
        missing = cost - self.tokens
        return max(0.0, missing / self.refill_per_second)
