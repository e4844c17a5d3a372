"""The broadcast engine's settings: pace, workers, retries, claims, the circuit breaker.

The rate and the per-group limit come from Telegram's limits with their one safety margin
(``scheduler.ratelimit.TELEGRAM``); the app overrides them from the settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from scheduler.ratelimit import TELEGRAM


@dataclass(frozen=True)
class EngineConfig:
    # Sends per second; Telegram's limit with its safety margin (scheduler.ratelimit.TELEGRAM).
    rate: float = TELEGRAM.broadcast_rate()
    per_chat_per_minute: int = TELEGRAM.per_group_per_minute
    workers: int = 24
    # Transient failures never fail a delivery of a broadcast that expires: it is retried until
    # the expiry. Only a broadcast without an expiry gives up after this many attempts.
    max_attempts: int = 5
    max_retry_after_waits: int = 10
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    # Deliveries claimed per database round trip; it bounds what a crash may send twice and
    # how far a cancel from another process lags. None: a tenth of a second of sends, at least
    # 32 (32 at Telegram's 30/s, 100 for a paid broadcast at 1000/s).
    claim_batch: int | None = None
    paid: bool = False
    # How often results reach the ledger. A crash re-sends what went out since the last
    # write (0.2 s: 6 messages at 30/s); each write is a transaction, and at 30/s writing
    # every 50 ms cost more CPU than the sends themselves.
    result_interval: float = 0.2
    # A claim lives this long (wall clock) unless its engine renews it (every third of it):
    # after a crash, another engine may take the rows once it is over.
    claim_ttl: float = 10.0
    # How often an engine with nothing to claim looks again while others still hold rows.
    claim_poll: float = 0.5
    # The circuit breaker: consecutive transient failures that mean "Telegram is unreachable",
    # and the pause between probes while it is.
    breaker_threshold: int = 8
    probe_min: float = 0.5
    probe_max: float = 3.0
    # A graceful stop waits this long for sends in flight before cutting them off.
    stop_grace: float = 5.0

    @property
    def batch(self) -> int:
        if self.claim_batch is not None:
            return self.claim_batch
        return max(32, round(self.rate / 10))
