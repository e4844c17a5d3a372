"""The broadcast engine: every subscribed group gets each broadcast once, on time, at full speed.

A broadcast is prepared (audience resolved into delivery rows, text fixed), then its pending
deliveries are claimed in small batches and sent by a pool of workers paced by one shared
PriorityPacer. Telegram's answers arrive classified by the Sender (no text matching here).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import SessionFactory
from db.models import Broadcast, BroadcastStatus, Delivery, DeliveryStatus, Group
from db.retry import retrying
from scheduler.audience import Audience
from scheduler.breaker import CircuitBreaker
from scheduler.clock import Clock, SystemClock
from scheduler.ledger import (
    Claimed,
    ResultWriter,
    claim_next,
    open_deliveries,
    release_claims,
    renew_claims,
)
from scheduler.ratelimit import TELEGRAM, ChatPacer, PriorityPacer
from scheduler.sender import GroupDirectory, Outcome, OutgoingMessage, Sender

log = logging.getLogger(__name__)

ACK_PREFIX = "ack:"
TERMINAL = (BroadcastStatus.DONE, BroadcastStatus.CANCELLED, BroadcastStatus.SKIPPED)
NOT_APPROVED = (BroadcastStatus.DRAFT, BroadcastStatus.AWAITING_APPROVAL)
# The reason a delivery fails when its broadcast expires while Telegram cannot be reached.
UNREACHABLE_EXPIRED = "kedaluwarsa saat Telegram tidak terjangkau"


def new_holder_id() -> str:
    """Who claims: host, process and a random part (a restarted process is someone else)."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def ack_callback_data(broadcast_id: int) -> str:
    """The acknowledgement button's data: the message and chat identify the delivery."""
    return f"{ACK_PREFIX}{broadcast_id}"


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


@dataclass
class BroadcastSummary:
    broadcast_id: int
    status: BroadcastStatus
    reason: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    # Whether this run ended the broadcast (another engine may have ended it first).
    finished_here: bool = field(default=False, compare=False, repr=False)

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
# Sending paused (Telegram unreachable) / resumed after `seconds`: told once per outage.
PausedHook = Callable[[], Awaitable[None]]
ResumedHook = Callable[[float], Awaitable[None]]


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
        on_paused: PausedHook | None = None,
        on_resumed: ResumedHook | None = None,
        holder: str | None = None,
        wall_clock: Clock | None = None,
    ) -> None:
        self.sessions = sessions
        self.sender = sender
        self.clock = clock
        self.render = render
        self.groups = groups
        self.ack_label = ack_label
        self.config = config or EngineConfig()
        self.on_finished = on_finished
        self.on_paused = on_paused
        self.on_resumed = on_resumed
        # Claims are about which process is alive: wall-clock time, even when `clock` is a
        # rehearsal's or a test's.
        self.holder = holder or new_holder_id()
        self.wall_clock = wall_clock or SystemClock()
        self.pacer = PriorityPacer(self.config.rate)
        self.chat_pacer = ChatPacer(self.config.per_chat_per_minute)
        self.breaker = CircuitBreaker(
            threshold=self.config.breaker_threshold,
            probe_min=self.config.probe_min,
            probe_max=self.config.probe_max,
            on_open=self._paused,
            on_close=self._resumed,
        )
        # For a health endpoint: plain attributes, read at any time.
        self.closing = False
        self.last_contact: datetime | None = None  # wall clock of Telegram's last answer
        self._running: dict[int, asyncio.Task[BroadcastSummary]] = {}
        self._stopping: set[int] = set()
        self._hooks: set[asyncio.Task[None]] = set()

    @property
    def paused(self) -> bool:
        """Sending is paused because Telegram cannot be reached."""
        return self.breaker.is_open

    # -- public -------------------------------------------------------------------------------

    async def run(self, broadcast_id: int) -> BroadcastSummary:
        """Send a broadcast, or resume it; concurrent calls for one broadcast share one run."""
        if self.closing:
            return await self.summary(broadcast_id)
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

    async def shutdown(self, grace: float | None = None) -> None:
        """Graceful stop: claim nothing more, let sends in flight finish (at most `grace`
        seconds), write every result and give back what was claimed but not sent."""
        self.closing = True
        self.breaker.wake()
        tasks = [t for t in self._running.values() if not t.done()]
        if tasks:
            grace = self.config.stop_grace if grace is None else grace
            _done, late = await asyncio.wait(tasks, timeout=grace)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=5.0)
        for hook in list(self._hooks):
            hook.cancel()

    async def summary(self, broadcast_id: int) -> BroadcastSummary:
        async with self.sessions() as session:
            broadcast = await session.get(Broadcast, broadcast_id)
            if broadcast is None:
                raise LookupError(f"broadcast {broadcast_id} does not exist")
            return await self._summary(session, broadcast)

    # -- the run ------------------------------------------------------------------------------

    async def _run(self, broadcast_id: int) -> BroadcastSummary:
        prepared = await retrying(lambda: self._prepare(broadcast_id), "preparing a broadcast")
        if isinstance(prepared, BroadcastSummary):
            return prepared
        text, priority, expires_at = prepared
        writer = ResultWriter(
            self.sessions, self.clock, self.config.result_interval, holder=self.holder
        )
        writer.start()
        renewer = asyncio.get_running_loop().create_task(self._renew_claims(broadcast_id))
        # Sends whose request was cut off: they may have gone out, so they are not given back.
        unknown: set[int] = set()
        try:
            await self._send_all(broadcast_id, text, priority, expires_at, writer, unknown)
        finally:
            renewer.cancel()
            await writer.close()
            if self.closing or broadcast_id in self._stopping:
                released = await retrying(
                    lambda: release_claims(self.sessions, broadcast_id, self.holder, unknown),
                    "giving back claims",
                )
                if released:
                    log.info(
                        "broadcast %s: %d claimed deliveries given back", broadcast_id, released
                    )
        return await self._finish(broadcast_id)

    async def _renew_claims(self, broadcast_id: int) -> None:
        interval = self.config.claim_ttl / 3
        while True:
            await asyncio.sleep(interval)
            try:
                await retrying(
                    lambda: renew_claims(
                        self.sessions,
                        broadcast_id,
                        self.holder,
                        self.wall_clock.now(),
                        self.config.claim_ttl,
                    ),
                    "renewing claims",
                    give_up_after=self.config.claim_ttl,
                )
            except Exception:
                log.exception("renewing the claims of broadcast %s failed", broadcast_id)

    async def _prepare(
        self, broadcast_id: int
    ) -> BroadcastSummary | tuple[str, int, datetime | None]:
        now = self.clock.now()
        async with self.sessions.begin() as session:
            # Locked (PostgreSQL; SQLite has one writer anyway): two engines starting the same
            # broadcast at once take turns, and the second finds it RUNNING.
            broadcast = await session.get(
                Broadcast, broadcast_id, with_for_update=True, populate_existing=True
            )
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
            # RUNNING and not expired: resuming, here or in a second engine. Rows another engine
            # claimed are left alone; those whose claim ran out (a crash) are claimed again.
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

    async def _send_all(
        self,
        broadcast_id: int,
        text: str,
        priority: int,
        expires_at: datetime | None,
        writer: ResultWriter,
        unknown: set[int],
    ) -> None:
        queue: asyncio.Queue[_Item] = asyncio.Queue()
        ack_data = ack_callback_data(broadcast_id)
        claim_lock = asyncio.Lock()
        retrying_tasks: set[asyncio.Task[None]] = set()
        held: set[int] = set()  # delivery ids this run holds: queued, in flight, waiting

        def stopped() -> bool:
            return broadcast_id in self._stopping or self.closing

        def expired() -> bool:
            return expires_at is not None and self.clock.now() >= expires_at

        async def claim_batch() -> list[Claimed] | None:
            return await claim_next(
                self.sessions,
                broadcast_id,
                self.config.batch,
                holder=self.holder,
                now=self.clock.now(),
                lease_now=self.wall_clock.now(),
                ttl=self.config.claim_ttl,
            )

        async def next_item() -> _Item | None:
            # Claims run ahead of sends by at most one batch: that bounds crash duplicates.
            while True:
                if stopped() or expired():
                    return None
                if not queue.empty():
                    return queue.get_nowait()
                async with claim_lock:
                    if not queue.empty():
                        continue
                    claimed = await retrying(claim_batch, "claiming deliveries")
                    if claimed is None:  # cancelled in the database, maybe by another process
                        self._stopping.add(broadcast_id)
                        return None
                    fresh = [c for c in claimed if c.delivery_id not in held]
                    for c in fresh:
                        held.add(c.delivery_id)
                        queue.put_nowait(_Item(c.delivery_id, c.group_id, c.chat_id, c.attempts))
                    # A retry may have come back while the claim ran: look at the queue again.
                    if fresh or not queue.empty():
                        continue
                    if not retrying_tasks:
                        if held:  # the other workers' sends in flight: they finish the run
                            return None
                        # Nothing left here; is anyone else (another engine, or a dead one whose
                        # claims have not run out yet) still holding rows of this broadcast?
                        if not await open_deliveries(self.sessions, broadcast_id):
                            return None
                if retrying_tasks:
                    await asyncio.wait(
                        set(retrying_tasks),
                        timeout=self.config.claim_poll,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                else:
                    await asyncio.sleep(self.config.claim_poll)

        def later(item: _Item, delay: float) -> None:
            async def _requeue() -> None:
                await asyncio.sleep(delay)
                queue.put_nowait(item)

            task = asyncio.get_running_loop().create_task(_requeue())
            retrying_tasks.add(task)
            task.add_done_callback(retrying_tasks.discard)

        def done(item: _Item) -> None:
            held.discard(item.delivery_id)

        async def worker() -> None:
            while (item := await next_item()) is not None:
                await self._send_one(
                    item,
                    text,
                    priority,
                    ack_data,
                    writer,
                    later,
                    queue,
                    done,
                    unknown,
                    give_up=lambda: stopped() or expired(),
                    never_expires=expires_at is None,
                )

        workers = [asyncio.create_task(worker()) for _ in range(self.config.workers)]
        try:
            await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()
            for task in list(retrying_tasks):
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        if expired() and not stopped():
            await writer.flush()
            if self.breaker.is_open:
                await retrying(
                    lambda: self._fail_remaining(broadcast_id, UNREACHABLE_EXPIRED),
                    "failing expired deliveries",
                )
            else:
                async with self.sessions.begin() as session:
                    await self._skip_remaining(
                        session, broadcast_id, "kedaluwarsa sebelum terkirim", self.clock.now()
                    )

    async def _fail_remaining(self, broadcast_id: int, reason: str) -> None:
        async with self.sessions.begin() as session:
            await session.execute(
                update(Delivery)
                .where(
                    Delivery.broadcast_id == broadcast_id,
                    Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING)),
                )
                .values(
                    status=DeliveryStatus.FAILED,
                    last_error=reason[:255],
                    updated_at=self.clock.now(),
                )
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
        done: Callable[[_Item], None],
        unknown: set[int],
        *,
        give_up: Callable[[], bool],
        never_expires: bool,
    ) -> None:
        wait = self.chat_pacer.delay_for(item.chat_id)
        if wait > 0:
            later(item, wait)
            return
        # While Telegram is unreachable every worker waits here; one probe at a time goes on.
        while not self.breaker.admit():
            if give_up():
                return  # the row stays claimed: the stop, expiry or shutdown deals with it
            await self.breaker.wait(timeout=0.5)
        try:
            await self.pacer.acquire(priority)
        except BaseException:
            self.breaker.release_probe()
            raise
        self.chat_pacer.record(item.chat_id)
        item.attempts += 1
        unknown.add(item.delivery_id)
        try:
            result = await self.sender.send(
                OutgoingMessage(
                    chat_id=item.chat_id,
                    html=text,
                    ack_label=self.ack_label,
                    ack_data=ack_data,
                    paid=self.config.paid,
                )
            )
        except BaseException:
            self.breaker.release_probe()
            raise  # cut off mid-request: it may have gone out, so it stays in `unknown`
        unknown.discard(item.delivery_id)
        now = self.clock.now()
        outcome = result.outcome
        if outcome is Outcome.TRANSIENT:
            self.breaker.failure()
        else:
            self.breaker.success()
            self.last_contact = self.wall_clock.now()
        if outcome is Outcome.SENT:
            done(item)
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
                done(item)
                writer.record(
                    item.delivery_id,
                    DeliveryStatus.FAILED,
                    attempts=item.attempts,
                    error=f"retry_after berulang: {result.reason}",
                )
            else:
                queue.put_nowait(item)
            return
        if outcome is Outcome.TRANSIENT:
            # Not the delivery's fault: retried until its broadcast expires (then it fails as
            # "kedaluwarsa saat Telegram tidak terjangkau"); only a broadcast that never
            # expires gives up after max_attempts.
            if never_expires and item.attempts >= self.config.max_attempts:
                done(item)
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
                queue.put_nowait(item)  # waits at the breaker; goes first when it closes
            else:
                delay = min(
                    self.config.backoff_max, self.config.backoff_base * 2 ** (item.attempts - 1)
                )
                later(item, delay * (0.5 + random.random()))
            return
        if outcome is Outcome.MIGRATED and result.new_chat_id is not None:
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
                done(item)
        elif outcome in (Outcome.FORBIDDEN, Outcome.CHAT_NOT_FOUND):
            done(item)
            async with self.sessions.begin() as session:
                await self.groups.deactivate(session, item.chat_id, result.reason, now)
            writer.record(
                item.delivery_id,
                DeliveryStatus.FAILED,
                attempts=item.attempts,
                error=result.reason,
            )
        else:
            done(item)
            writer.record(
                item.delivery_id,
                DeliveryStatus.FAILED,
                attempts=item.attempts,
                error=result.reason or outcome.value,
            )

    # -- outages ----------------------------------------------------------------------------

    def _paused(self) -> None:
        log.warning(
            "Telegram unreachable: sending paused for every broadcast; probing until it answers"
        )
        if self.on_paused is not None:
            self._hook(self.on_paused())

    def _resumed(self, seconds: float) -> None:
        log.warning("Telegram answers again after %.1f s: sending resumed", seconds)
        if self.on_resumed is not None:
            self._hook(self.on_resumed(seconds))

    def _hook(self, call: Awaitable[None]) -> None:
        async def guarded() -> None:
            try:
                await call
            except Exception:
                log.exception("telling officials about the outage failed")

        task = asyncio.get_running_loop().create_task(guarded())
        self._hooks.add(task)
        task.add_done_callback(self._hooks.discard)

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
        summary, broadcast = await retrying(
            lambda: self._finish_once(broadcast_id), "finishing a broadcast"
        )
        # Told once, by the engine that finished it (another may still hold some of its rows).
        if self.on_finished is not None and summary.finished_here:
            try:
                await self.on_finished(summary, broadcast)
            except Exception:
                log.exception("telling the creator about broadcast %s failed", broadcast_id)
        return summary

    async def _finish_once(self, broadcast_id: int) -> tuple[BroadcastSummary, Broadcast]:
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
                summary.finished_here = True
            elif broadcast_id in self._stopping or self.closing:
                summary = await self._summary(session, broadcast)
            else:
                summary = await self._finish_in(session, broadcast, now)
        return summary, broadcast

    async def _finish_in(
        self, session: AsyncSession, broadcast: Broadcast, now: datetime
    ) -> BroadcastSummary:
        summary = await self._summary(session, broadcast)
        summary.finished_here = False
        open_ = summary.counts.get("pending", 0) + summary.counts.get("sending", 0)
        if open_ == 0 and broadcast.status is BroadcastStatus.RUNNING:
            reason = broadcast.status_reason
            if summary.skipped and not reason:
                reason = f"{summary.skipped} grup dilewati (kedaluwarsa)"
            # Compare-and-set: when two engines finish together, one of them says so.
            done = await session.execute(
                update(Broadcast)
                .where(Broadcast.id == broadcast.id, Broadcast.status == BroadcastStatus.RUNNING)
                .values(status=BroadcastStatus.DONE, finished_at=now, status_reason=reason)
                .execution_options(synchronize_session=False)
            )
            await session.refresh(broadcast)
            summary.finished_here = bool(done.rowcount)  # type: ignore[attr-defined]
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
