"""One circuit breaker over every send: an outage is one event, not a budget per delivery.

Closed: sends go out. After `threshold` transient failures in a row (network errors, time-outs,
5xx) with no answer in between, it opens: every worker waits, and one send at a time goes out
as a probe, with a growing pause between probes (`probe_min` doubling up to `probe_max`). Any
answer from Telegram (sent, 429, 403, a bad request: Telegram is there) closes it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable


class CircuitBreaker:
    def __init__(
        self,
        *,
        threshold: int = 8,
        probe_min: float = 0.5,
        probe_max: float = 3.0,
        monotonic: Callable[[], float] = time.monotonic,
        on_open: Callable[[], None] | None = None,
        on_close: Callable[[float], None] | None = None,
    ) -> None:
        self.threshold = max(1, threshold)
        self.probe_min = probe_min
        self.probe_max = max(probe_min, probe_max)
        self._now = monotonic
        self.on_open = on_open
        self.on_close = on_close
        self._failures = 0
        self._open_since: float | None = None
        self._probe_at = 0.0
        self._probe_delay = probe_min
        self._probing = False
        self._changed: asyncio.Event | None = None
        self.outages = 0  # how many times it opened (for benchmarks and health)

    @property
    def is_open(self) -> bool:
        return self._open_since is not None

    @property
    def open_for(self) -> float:
        return 0.0 if self._open_since is None else self._now() - self._open_since

    def admit(self) -> bool:
        """May a send go out now? While open, one probe at a time once its pause is over."""
        if self._open_since is None:
            return True
        if not self._probing and self._now() >= self._probe_at:
            self._probing = True
            return True
        return False

    def success(self) -> None:
        """Telegram answered (whatever it said)."""
        self._failures = 0
        if self._open_since is not None:
            outage = self._now() - self._open_since
            self._open_since = None
            self._probing = False
            self._probe_delay = self.probe_min
            self._notify()
            if self.on_close is not None:
                self.on_close(outage)

    def failure(self) -> None:
        """A send got no answer from Telegram (network, time-out, 5xx)."""
        now = self._now()
        if self._open_since is None:
            self._failures += 1
            if self._failures >= self.threshold:
                self._open_since = now
                self.outages += 1
                self._probe_delay = self.probe_min
                self._probe_at = now + self._probe_delay
                self._probing = False
                if self.on_open is not None:
                    self.on_open()
        elif self._probing:  # the probe failed: wait longer before the next one
            self._probing = False
            self._probe_delay = min(self.probe_max, self._probe_delay * 2)
            self._probe_at = now + self._probe_delay
            self._notify()

    def release_probe(self) -> None:
        """A probe was admitted but not sent (its worker gave up waiting): let another go."""
        if self._probing:
            self._probing = False
            self._notify()

    def wake(self) -> None:
        """Wake every waiter (a stop or an expiry they should look at)."""
        self._notify()

    async def wait(self, timeout: float) -> None:
        """Sleep until the state changes, the next probe is due, or `timeout` is over."""
        if self._changed is None:
            self._changed = asyncio.Event()
        until_probe = max(0.0, self._probe_at - self._now()) if not self._probing else timeout
        event = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout=max(0.001, min(timeout, until_probe)))

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = asyncio.Event()
