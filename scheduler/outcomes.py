"""What the engine does with Telegram's answer to one send: the outcome policy.

The Sender has already classified the answer (`scheduler.sender.Outcome`); here each class
becomes a ledger record and, for what may still succeed, a retry: at once, after a backoff,
after Telegram's own wait, or in the chat a group migrated to.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from db.engine import SessionFactory
from db.models import DeliveryStatus
from scheduler.breaker import CircuitBreaker
from scheduler.ledger import ResultWriter
from scheduler.ratelimit import ChatPacer, PriorityPacer
from scheduler.run_queue import Item, RunQueue
from scheduler.sender import GroupDirectory, Outcome, SendResult


@dataclass
class OutcomePolicy:
    sessions: SessionFactory
    groups: GroupDirectory
    pacer: PriorityPacer
    chat_pacer: ChatPacer
    breaker: CircuitBreaker
    max_attempts: int
    max_retry_after_waits: int
    backoff_base: float
    backoff_max: float

    async def apply(
        self,
        item: Item,
        result: SendResult,
        now: datetime,
        *,
        writer: ResultWriter,
        work: RunQueue,
        never_expires: bool,
    ) -> None:
        """Record one answer and tell `work` whether and when the delivery is sent again."""
        outcome = result.outcome
        if outcome is Outcome.SENT:
            work.done(item)
            writer.record(
                item.delivery_id,
                DeliveryStatus.SENT,
                attempts=item.attempts,
                chat_id=item.chat_id,
                message_id=result.message_id,
            )
            return
        # Every other answer is recorded against the chat it came from.
        writer.record(
            item.delivery_id, DeliveryStatus.SENDING, attempts=item.attempts, chat_id=item.chat_id
        )
        if outcome is Outcome.RETRY_AFTER:
            # Telegram's wait is not our failure: the attempt is given back. Like an outage it
            # ends only with the broadcast's expiry; a broadcast that never expires gives up
            # after max_retry_after_waits.
            item.attempts -= 1
            item.waits += 1
            self.pacer.pause(result.retry_after)
            self.chat_pacer.pause(item.chat_id, result.retry_after)
            if never_expires and item.waits > self.max_retry_after_waits:
                work.done(item)
                writer.record(
                    item.delivery_id,
                    DeliveryStatus.FAILED,
                    attempts=item.attempts,
                    error=f"retry_after berulang: {result.reason}",
                )
            else:
                work.again(item)
            return
        if outcome is Outcome.TRANSIENT:
            # Not the delivery's fault: retried until its broadcast expires (then it fails as
            # "kedaluwarsa saat Telegram tidak terjangkau"); only a broadcast that never
            # expires gives up after max_attempts. A failure while the breaker is open is the
            # outage, one event for every delivery: it counts against none of them (a probe
            # would otherwise spend the budget of whichever delivery it happened to carry).
            outage = self.breaker.is_open
            item.failures += 0 if outage else 1
            if never_expires and item.failures >= self.max_attempts:
                work.done(item)
                writer.record(
                    item.delivery_id,
                    DeliveryStatus.FAILED,
                    attempts=item.attempts,
                    error=f"gagal setelah {item.attempts} percobaan: {result.reason}",
                )
                return
            writer.record(
                item.delivery_id,
                DeliveryStatus.SENDING,
                attempts=item.attempts,
                error=result.reason,
            )
            if self.breaker.is_open:
                work.again(item)  # waits at the breaker; goes first when it closes
            else:
                delay = min(self.backoff_max, self.backoff_base * 2 ** (item.attempts - 1))
                work.later(item, delay * (0.5 + random.random()))
            return
        if outcome is Outcome.MIGRATED and result.new_chat_id is not None:
            async with self.sessions.begin() as session:
                group = await self.groups.migrate(session, item.chat_id, result.new_chat_id, now)
            item.attempts -= 1
            if group is not None and group.id == item.group_id:
                item.chat_id = result.new_chat_id
                work.again(item)
            else:
                writer.record(
                    item.delivery_id,
                    DeliveryStatus.SKIPPED,
                    attempts=item.attempts,
                    error=f"grup pindah ke {result.new_chat_id} yang sudah terdaftar terpisah",
                )
                work.done(item)
        elif outcome in (Outcome.FORBIDDEN, Outcome.CHAT_NOT_FOUND):
            work.done(item)
            async with self.sessions.begin() as session:
                await self.groups.deactivate(session, item.chat_id, result.reason, now)
            writer.record(
                item.delivery_id,
                DeliveryStatus.FAILED,
                attempts=item.attempts,
                error=result.reason,
            )
        else:
            work.done(item)
            writer.record(
                item.delivery_id,
                DeliveryStatus.FAILED,
                attempts=item.attempts,
                error=result.reason or outcome.value,
            )
