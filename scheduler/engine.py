"""The broadcast engine: every subscribed group gets each broadcast once, on time, at full speed.

A broadcast is prepared (audience resolved into delivery rows, text fixed), then its pending
deliveries are claimed in small batches and sent by a pool of workers paced by one shared
PriorityPacer. Telegram's answers arrive classified by the Sender (no text matching here).
Preparing and finishing a broadcast in the database is `scheduler.preparation`; what each
answer means for its delivery is `scheduler.outcomes`; this module is the run loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime

from db.engine import SessionFactory
from db.models import Broadcast, BroadcastStatus
from db.retry import retrying
from scheduler.breaker import CircuitBreaker
from scheduler.clock import Clock, SystemClock
from scheduler.engine_config import EngineConfig
from scheduler.ledger import (
    Claimed,
    ResultWriter,
    claim_next,
    keep_renewing,
    open_deliveries,
    release_claims,
)
from scheduler.outcomes import OutcomePolicy
from scheduler.preparation import (
    TERMINAL,
    BroadcastSummary,
    Prepared,
    Renderer,
    fail_remaining,
    finish_in,
    prepare,
    skip_remaining,
    summarize,
)
from scheduler.ratelimit import ChatPacer, PriorityPacer
from scheduler.run_queue import Item, RunQueue
from scheduler.sender import GroupDirectory, Outcome, OutgoingMessage, Sender

log = logging.getLogger(__name__)

ACK_PREFIX = "ack:"
# The reason a delivery fails when its broadcast expires while Telegram cannot be reached.
UNREACHABLE_EXPIRED = "kedaluwarsa saat Telegram tidak terjangkau"


def new_holder_id() -> str:
    """Who claims: host, process and a random part (a restarted process is someone else)."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def ack_callback_data(broadcast_id: int) -> str:
    """The acknowledgement button's data: the message and chat identify the delivery."""
    return f"{ACK_PREFIX}{broadcast_id}"


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
        self.outcomes = OutcomePolicy(
            sessions=sessions,
            groups=groups,
            pacer=self.pacer,
            chat_pacer=self.chat_pacer,
            breaker=self.breaker,
            max_attempts=self.config.max_attempts,
            max_retry_after_waits=self.config.max_retry_after_waits,
            backoff_base=self.config.backoff_base,
            backoff_max=self.config.backoff_max,
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
            await skip_remaining(session, broadcast_id, reason, now)
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
            return await summarize(session, broadcast)

    # -- the run ------------------------------------------------------------------------------

    async def _run(self, broadcast_id: int) -> BroadcastSummary:
        prepared = await retrying(lambda: self._prepare(broadcast_id), "preparing a broadcast")
        if isinstance(prepared, BroadcastSummary):
            return prepared
        text, priority, expires_at, answers = prepared
        writer = ResultWriter(
            self.sessions, self.clock, self.config.result_interval, holder=self.holder
        )
        writer.start()
        renewer = asyncio.get_running_loop().create_task(
            keep_renewing(
                self.sessions, broadcast_id, self.holder, self.wall_clock, self.config.claim_ttl
            )
        )
        # Sends whose request was cut off: they may have gone out, so they are not given back.
        unknown: set[int] = set()
        try:
            await self._send_all(broadcast_id, text, priority, expires_at, writer, unknown, answers)
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

    async def _prepare(self, broadcast_id: int) -> BroadcastSummary | Prepared:
        async with self.sessions.begin() as session:
            return await prepare(session, broadcast_id, self.clock.now(), self.render)

    async def _send_all(
        self,
        broadcast_id: int,
        text: str,
        priority: int,
        expires_at: datetime | None,
        writer: ResultWriter,
        unknown: set[int],
        answers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        ack_data = ack_callback_data(broadcast_id)
        message = OutgoingMessage(
            chat_id=0,
            html=text,
            ack_label=self.ack_label,
            ack_data=ack_data,
            paid=self.config.paid,
            answers=answers,
            broadcast_id=broadcast_id,
        )

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

        work = RunQueue(
            claim_batch,
            lambda: open_deliveries(self.sessions, broadcast_id),
            give_up=lambda: stopped() or expired(),
            on_cancelled=lambda: self._stopping.add(broadcast_id),
            poll=self.config.claim_poll,
        )

        async def worker() -> None:
            while (item := await work.next()) is not None:
                await self._send_one(
                    item, message, priority, writer, work, unknown, expires_at is None
                )

        workers = [asyncio.create_task(worker()) for _ in range(self.config.workers)]
        try:
            await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()
            work.close()
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
                    await skip_remaining(
                        session, broadcast_id, "kedaluwarsa sebelum terkirim", self.clock.now()
                    )

    async def _fail_remaining(self, broadcast_id: int, reason: str) -> None:
        async with self.sessions.begin() as session:
            await fail_remaining(session, broadcast_id, reason, self.clock.now())

    async def _send_one(
        self,
        item: Item,
        message: OutgoingMessage,
        priority: int,
        writer: ResultWriter,
        work: RunQueue,
        unknown: set[int],
        never_expires: bool,
    ) -> None:
        wait = self.chat_pacer.delay_for(item.chat_id)
        if wait > 0:
            work.later(item, wait)
            return
        # While Telegram is unreachable every worker waits here; one probe at a time goes on.
        while not self.breaker.admit():
            if work.give_up():
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
            result = await self.sender.send(replace(message, chat_id=item.chat_id))
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
        await self.outcomes.apply(
            item,
            result,
            now,
            writer=writer,
            work=work,
            never_expires=never_expires,
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
                await skip_remaining(
                    session, broadcast_id, broadcast.status_reason or "dibatalkan", now
                )
                self._stopping.discard(broadcast_id)
                summary = await summarize(session, broadcast)
                summary.finished_here = True
            elif broadcast_id in self._stopping or self.closing:
                summary = await summarize(session, broadcast)
            else:
                summary = await finish_in(session, broadcast, now)
        return summary, broadcast
