"""The broadcast engine: every subscribed group gets each broadcast once, on time, at full speed.

A broadcast is prepared (audience resolved into delivery rows, text fixed), then its pending
deliveries are claimed in small batches and sent by a pool of workers paced by one shared
PriorityPacer. Telegram's answers arrive classified by the Sender (no text matching here).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import SessionFactory
from db.models import Broadcast, BroadcastStatus, Delivery, DeliveryStatus, Group
from scheduler.audience import Audience
from scheduler.clock import Clock
from scheduler.ledger import ResultWriter, claim
from scheduler.ratelimit import ChatPacer, PriorityPacer
from scheduler.sender import GroupDirectory, Outcome, OutgoingMessage, Sender

log = logging.getLogger(__name__)

ACK_PREFIX = "ack:"
TERMINAL = (BroadcastStatus.DONE, BroadcastStatus.CANCELLED, BroadcastStatus.SKIPPED)
NOT_APPROVED = (BroadcastStatus.DRAFT, BroadcastStatus.AWAITING_APPROVAL)


def ack_callback_data(broadcast_id: int) -> str:
    """The acknowledgement button's data: the message and chat identify the delivery."""
    return f"{ACK_PREFIX}{broadcast_id}"


@dataclass(frozen=True)
class EngineConfig:
    # Telegram allows about 30 messages a second; a hair under keeps 429s away.
    rate: float = 29.5
    per_chat_per_minute: int = 20
    workers: int = 24
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

    @property
    def batch(self) -> int:
        if self.claim_batch is not None:
            return self.claim_batch
        return max(32, round(self.rate / 10))


@dataclass
class BroadcastSummary:
    broadcast_id: int
    status: BroadcastStatus
    reason: str | None = None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def sent(self) -> int:
        return self.counts.get(DeliveryStatus.SENT.value, 0)

    @property
    def failed(self) -> int:
        return self.counts.get(DeliveryStatus.FAILED.value, 0)

    @property
    def skipped(self) -> int:
        return self.counts.get(DeliveryStatus.SKIPPED.value, 0)


@dataclass(slots=True)  # one per delivery: 100,000 of them for a city-wide broadcast
class _Item:
    delivery_id: int
    group_id: int
    chat_id: int
    attempts: int = 0
    waits: int = 0


Renderer = Callable[[Broadcast], str]
FinishedHook = Callable[[BroadcastSummary, Broadcast], Awaitable[None]]


class BroadcastEngine:
    def __init__(
        self,
        sessions: SessionFactory,
        sender: Sender,
        clock: Clock,
        render: Renderer,
        *,
        groups: GroupDirectory,
        ack_label: str = "✅ Sudah dibaca",
        config: EngineConfig | None = None,
        on_finished: FinishedHook | None = None,
    ) -> None:
        self.sessions = sessions
        self.sender = sender
        self.clock = clock
        self.render = render
        self.groups = groups
        self.ack_label = ack_label
        self.config = config or EngineConfig()
        self.on_finished = on_finished
        self.pacer = PriorityPacer(self.config.rate)
        self.chat_pacer = ChatPacer(self.config.per_chat_per_minute)
        self._running: dict[int, asyncio.Task[BroadcastSummary]] = {}
        self._stopping: set[int] = set()

    # -- public -------------------------------------------------------------------------------

    async def run(self, broadcast_id: int) -> BroadcastSummary:
        """Send a broadcast, or resume it; concurrent calls for one broadcast share one run."""
        task = self._running.get(broadcast_id)
        if task is None or task.done():
            task = asyncio.get_running_loop().create_task(self._run(broadcast_id))
            self._running[broadcast_id] = task
        return await asyncio.shield(task)

    def is_running(self, broadcast_id: int) -> bool:
        task = self._running.get(broadcast_id)
        return task is not None and not task.done()

    async def stop(self, broadcast_id: int, reason: str) -> None:
        """Stop a running broadcast: sends in flight finish, the rest are skipped."""
        self._stopping.add(broadcast_id)
        task = self._running.get(broadcast_id)
        if task is not None and not task.done():
            await asyncio.wait({task})
        now = self.clock.now()
        async with self.sessions.begin() as session:
            await self._skip_remaining(session, broadcast_id, reason, now)
            broadcast = await session.get(Broadcast, broadcast_id)
            if broadcast is not None and broadcast.status not in TERMINAL:
                broadcast.status = BroadcastStatus.CANCELLED
                broadcast.status_reason = reason
                broadcast.finished_at = now
        self._stopping.discard(broadcast_id)

    async def summary(self, broadcast_id: int) -> BroadcastSummary:
        async with self.sessions() as session:
            broadcast = await session.get(Broadcast, broadcast_id)
            if broadcast is None:
                raise LookupError(f"broadcast {broadcast_id} does not exist")
            return await self._summary(session, broadcast)

    # -- the run ------------------------------------------------------------------------------

    async def _run(self, broadcast_id: int) -> BroadcastSummary:
        prepared = await self._prepare(broadcast_id)
        if isinstance(prepared, BroadcastSummary):
            return prepared
        text, priority, expires_at = prepared
        items = await self._pending_items(broadcast_id)
        writer = ResultWriter(self.sessions, self.clock, self.config.result_interval)
        writer.start()
        try:
            await self._send_all(broadcast_id, items, text, priority, expires_at, writer)
        finally:
            await writer.close()
        return await self._finish(broadcast_id)

    async def _prepare(
        self, broadcast_id: int
    ) -> BroadcastSummary | tuple[str, int, datetime | None]:
        now = self.clock.now()
        async with self.sessions.begin() as session:
            broadcast = await session.get(Broadcast, broadcast_id)
            if broadcast is None:
                raise LookupError(f"broadcast {broadcast_id} does not exist")
            if broadcast.status in TERMINAL or broadcast.status in NOT_APPROVED:
                return await self._summary(session, broadcast)
            expired = broadcast.expires_at is not None and now >= broadcast.expires_at
            if broadcast.status is BroadcastStatus.SCHEDULED:
                if expired:
                    broadcast.status = BroadcastStatus.SKIPPED
                    broadcast.status_reason = _expired_reason(broadcast, "before it could start")
                    broadcast.finished_at = now
                    return await self._summary(session, broadcast)
                if broadcast.text is None:
                    broadcast.text = self.render(broadcast)
                await self._create_deliveries(session, broadcast, now)
                broadcast.status = BroadcastStatus.RUNNING
                broadcast.started_at = now
            elif expired:  # RUNNING, resumed after its expiry: the rest is no longer useful
                await self._skip_remaining(
                    session, broadcast_id, _expired_reason(broadcast, "while resuming"), now
                )
                return await self._finish_in(session, broadcast, now)
            else:
                # Resuming after a crash: claimed sends may or may not have gone out; sending
                # them again risks a duplicate, not sending risks a loss. Telegram cannot tell
                # us which, and a duplicate reminder harms less than a missing one.
                await session.execute(
                    update(Delivery)
                    .where(
                        Delivery.broadcast_id == broadcast_id,
                        Delivery.status == DeliveryStatus.SENDING,
                    )
                    .values(status=DeliveryStatus.PENDING, updated_at=now)
                )
            return broadcast.text or "", broadcast.priority, broadcast.expires_at

    async def _create_deliveries(
        self, session: AsyncSession, broadcast: Broadcast, now: datetime
    ) -> None:
        # One INSERT … SELECT: the audience never travels through Python (100,000 groups
        # in a fraction of a second instead of seconds of per-row parameter binding).
        table = Delivery.__table__
        audience = Audience.parse(broadcast.audience)
        groups = audience.groups_query(broadcast.topic).with_only_columns(
            literal(broadcast.id, table.c.broadcast_id.type),
            Group.id,
            literal(DeliveryStatus.PENDING, table.c.status.type),
            literal(0, table.c.attempts.type),
            literal(now, table.c.created_at.type),
            literal(now, table.c.updated_at.type),
        )
        already = select(Delivery.id).where(
            Delivery.broadcast_id == broadcast.id, Delivery.group_id == Group.id
        )
        await session.execute(
            insert(Delivery).from_select(
                ["broadcast_id", "group_id", "status", "attempts", "created_at", "updated_at"],
                groups.where(~already.exists()).order_by(Group.id),
            )
        )

    async def _pending_items(self, broadcast_id: int) -> list[_Item]:
        async with self.sessions() as session:
            rows = (
                await session.execute(
                    select(Delivery.id, Delivery.group_id, Group.chat_id, Delivery.attempts)
                    .join(Group, Group.id == Delivery.group_id)
                    .where(
                        Delivery.broadcast_id == broadcast_id,
                        Delivery.status == DeliveryStatus.PENDING,
                    )
                    .order_by(Delivery.id)
                )
            ).all()
        return [_Item(d, g, c, a) for d, g, c, a in rows]

    async def _send_all(
        self,
        broadcast_id: int,
        items: list[_Item],
        text: str,
        priority: int,
        expires_at: datetime | None,
        writer: ResultWriter,
    ) -> None:
        queue: asyncio.Queue[_Item] = asyncio.Queue()
        ack_data = ack_callback_data(broadcast_id)
        unclaimed = list(reversed(items))
        claim_lock = asyncio.Lock()
        retrying: set[asyncio.Task[None]] = set()

        def stopped() -> bool:
            return broadcast_id in self._stopping

        def expired() -> bool:
            return expires_at is not None and self.clock.now() >= expires_at

        async def next_item() -> _Item | None:
            # Claims run ahead of sends by at most one batch: that bounds crash duplicates.
            while True:
                if stopped() or expired():
                    return None
                if not queue.empty():
                    return queue.get_nowait()
                async with claim_lock:
                    if queue.empty() and unclaimed:
                        batch = [
                            unclaimed.pop() for _ in range(min(len(unclaimed), self.config.batch))
                        ]
                        claimed = await claim(
                            self.sessions,
                            broadcast_id,
                            [i.delivery_id for i in batch],
                            self.clock.now(),
                        )
                        if not claimed:  # cancelled in the database, maybe by another process
                            self._stopping.add(broadcast_id)
                            return None
                        for item in batch:
                            queue.put_nowait(item)
                        continue
                if queue.empty():
                    if not retrying:
                        return None
                    await asyncio.wait(set(retrying), return_when=asyncio.FIRST_COMPLETED)

        def later(item: _Item, delay: float) -> None:
            async def _requeue() -> None:
                await asyncio.sleep(delay)
                queue.put_nowait(item)

            task = asyncio.get_running_loop().create_task(_requeue())
            retrying.add(task)
            task.add_done_callback(retrying.discard)

        async def worker() -> None:
            while (item := await next_item()) is not None:
                await self._send_one(item, text, priority, ack_data, writer, later, queue)

        workers = [asyncio.create_task(worker()) for _ in range(self.config.workers)]
        try:
            await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()
            for task in list(retrying):
                task.cancel()
        if expired() and not stopped():
            async with self.sessions.begin() as session:
                await writer.flush()
                await self._skip_remaining(
                    session, broadcast_id, "kedaluwarsa sebelum terkirim", self.clock.now()
                )

    async def _send_one(
        self,
        item: _Item,
        text: str,
        priority: int,
        ack_data: str,
        writer: ResultWriter,
        later: Callable[[_Item, float], None],
        queue: asyncio.Queue[_Item],
    ) -> None:
        wait = self.chat_pacer.delay_for(item.chat_id)
        if wait > 0:
            later(item, wait)
            return
        await self.pacer.acquire(priority)
        self.chat_pacer.record(item.chat_id)
        item.attempts += 1
        result = await self.sender.send(
            OutgoingMessage(
                chat_id=item.chat_id,
                html=text,
                ack_label=self.ack_label,
                ack_data=ack_data,
                paid=self.config.paid,
            )
        )
        now = self.clock.now()
        outcome = result.outcome
        if outcome is Outcome.SENT:
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
            # Telegram's wait is not our failure: the attempt is given back, bounded separately.
            item.attempts -= 1
            item.waits += 1
            self.pacer.pause(result.retry_after)
            self.chat_pacer.pause(item.chat_id, result.retry_after)
            if item.waits > self.config.max_retry_after_waits:
                writer.record(
                    item.delivery_id,
                    DeliveryStatus.FAILED,
                    attempts=item.attempts,
                    error=f"retry_after berulang: {result.reason}",
                )
            else:
                queue.put_nowait(item)
        elif outcome is Outcome.TRANSIENT:
            if item.attempts >= self.config.max_attempts:
                writer.record(
                    item.delivery_id,
                    DeliveryStatus.FAILED,
                    attempts=item.attempts,
                    error=f"gagal setelah {item.attempts} percobaan: {result.reason}",
                )
            else:
                delay = min(
                    self.config.backoff_max, self.config.backoff_base * 2 ** (item.attempts - 1)
                )
                writer.record(
                    item.delivery_id,
                    DeliveryStatus.SENDING,
                    attempts=item.attempts,
                    error=result.reason,
                )
                later(item, delay * (0.5 + random.random()))
        elif outcome is Outcome.MIGRATED and result.new_chat_id is not None:
            async with self.sessions.begin() as session:
                group = await self.groups.migrate(session, item.chat_id, result.new_chat_id, now)
            item.attempts -= 1
            if group is not None and group.id == item.group_id:
                item.chat_id = result.new_chat_id
                queue.put_nowait(item)
            else:
                writer.record(
                    item.delivery_id,
                    DeliveryStatus.SKIPPED,
                    attempts=item.attempts,
                    error=f"grup pindah ke {result.new_chat_id} yang sudah terdaftar terpisah",
                )
        elif outcome in (Outcome.FORBIDDEN, Outcome.CHAT_NOT_FOUND):
            async with self.sessions.begin() as session:
                await self.groups.deactivate(session, item.chat_id, result.reason, now)
            writer.record(
                item.delivery_id,
                DeliveryStatus.FAILED,
                attempts=item.attempts,
                error=result.reason,
            )
        else:
            writer.record(
                item.delivery_id,
                DeliveryStatus.FAILED,
                attempts=item.attempts,
                error=result.reason or outcome.value,
            )

    async def _skip_remaining(
        self, session: AsyncSession, broadcast_id: int, reason: str, now: datetime
    ) -> None:
        await session.execute(
            update(Delivery)
            .where(
                Delivery.broadcast_id == broadcast_id,
                Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING)),
            )
            .values(status=DeliveryStatus.SKIPPED, last_error=reason[:255], updated_at=now)
        )

    async def _finish(self, broadcast_id: int) -> BroadcastSummary:
        now = self.clock.now()
        async with self.sessions.begin() as session:
            broadcast = await session.get(Broadcast, broadcast_id)
            assert broadcast is not None
            if broadcast.status is BroadcastStatus.CANCELLED:
                await self._skip_remaining(
                    session, broadcast_id, broadcast.status_reason or "dibatalkan", now
                )
                self._stopping.discard(broadcast_id)
                summary = await self._summary(session, broadcast)
            elif broadcast_id in self._stopping:
                return await self._summary(session, broadcast)
            else:
                summary = await self._finish_in(session, broadcast, now)
        if self.on_finished is not None:
            try:
                await self.on_finished(summary, broadcast)
            except Exception:
                log.exception("telling the creator about broadcast %s failed", broadcast_id)
        return summary

    async def _finish_in(
        self, session: AsyncSession, broadcast: Broadcast, now: datetime
    ) -> BroadcastSummary:
        summary = await self._summary(session, broadcast)
        open_ = summary.counts.get("pending", 0) + summary.counts.get("sending", 0)
        if open_ == 0 and broadcast.status is BroadcastStatus.RUNNING:
            broadcast.status = BroadcastStatus.DONE
            broadcast.finished_at = now
            if summary.skipped and not broadcast.status_reason:
                broadcast.status_reason = f"{summary.skipped} grup dilewati (kedaluwarsa)"
            summary.status = broadcast.status
            summary.reason = broadcast.status_reason
        return summary

    async def _summary(self, session: AsyncSession, broadcast: Broadcast) -> BroadcastSummary:
        rows = (
            await session.execute(
                select(Delivery.status, func.count())
                .where(Delivery.broadcast_id == broadcast.id)
                .group_by(Delivery.status)
            )
        ).all()
        return BroadcastSummary(
            broadcast_id=broadcast.id,
            status=broadcast.status,
            reason=broadcast.status_reason,
            counts={DeliveryStatus(s).value: n for s, n in rows},
        )


def _expired_reason(broadcast: Broadcast, when: str) -> str:
    return f"kedaluwarsa {when}: berlaku sampai {broadcast.expires_at:%Y-%m-%d %H:%M} UTC"
