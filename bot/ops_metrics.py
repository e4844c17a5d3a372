"""What /metrics counts besides the process: the database's figures read at scrape time, the
engine's sends as Telegram answers them, every 429 whatever request met it, and how long each
update takes (bot/ops.py serves it).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot
from telegram.ext import BaseUpdateProcessor
from telegram.request import BaseRequest, RequestData

from db.models import Acknowledgement, Broadcast, BroadcastStatus, Delivery, DeliveryStatus
from scheduler.sender import Outcome, OutgoingMessage, Sender, SendResult

if TYPE_CHECKING:  # bot.ops builds these around its Ops
    from bot.ops import Ops


async def database_families(session: AsyncSession) -> list[Any]:
    """Gauges read from the database at scrape time: true across restarts and instances."""
    families: list[Any] = []
    sends = GaugeMetricFamily(
        "kentongan_deliveries", "Deliveries by outcome (all broadcasts)", labels=["outcome"]
    )
    rows = (
        await session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
    ).all()
    by_status = {DeliveryStatus(s).value: int(n) for s, n in rows}
    for status in DeliveryStatus:
        sends.add_metric([status.value], by_status.get(status.value, 0))
    families.append(sends)
    running = [BroadcastStatus.RUNNING]
    queue = await session.scalar(
        select(func.count())
        .select_from(Delivery)
        .join(Broadcast, Broadcast.id == Delivery.broadcast_id)
        .where(
            Broadcast.status.in_(running),
            Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING)),
        )
    )
    depth = GaugeMetricFamily(
        "kentongan_queue_depth", "Deliveries still to send in running broadcasts"
    )
    depth.add_metric([], int(queue or 0))
    families.append(depth)
    progress = GaugeMetricFamily(
        "kentongan_broadcast_progress",
        "Share of deliveries done per running broadcast (0..1)",
        labels=["broadcast"],
    )
    progress_rows = (
        await session.execute(
            select(Delivery.broadcast_id, Delivery.status, func.count())
            .join(Broadcast, Broadcast.id == Delivery.broadcast_id)
            .where(Broadcast.status.in_(running))
            .group_by(Delivery.broadcast_id, Delivery.status)
        )
    ).all()
    totals: dict[int, list[int]] = {}
    for broadcast_id, status, n in progress_rows:
        done_total = totals.setdefault(int(broadcast_id), [0, 0])
        done_total[1] += int(n)
        if DeliveryStatus(status) not in (DeliveryStatus.PENDING, DeliveryStatus.SENDING):
            done_total[0] += int(n)
    for broadcast_id, (done, total) in sorted(totals.items()):
        progress.add_metric([str(broadcast_id)], done / total if total else 1.0)
    families.append(progress)
    acks = GaugeMetricFamily("kentongan_acks", "Acknowledgements (“Sudah dibaca”) stored")
    acks.add_metric(
        [],
        int(await session.scalar(select(func.count()).select_from(Acknowledgement)) or 0),
    )
    families.append(acks)
    return families


class CountingSender:
    """The broadcast engine's Sender with each answer counted (429s and outcomes)."""

    def __init__(self, inner: Sender, ops: Ops) -> None:
        self.inner = inner
        self.ops = ops

    async def send(self, message: OutgoingMessage) -> SendResult:
        result = await self.inner.send(message)
        self.ops.send_answers.labels(outcome=result.outcome.value).inc()
        if result.outcome is Outcome.SENT:
            self.ops.telegram_ok()
        elif result.outcome is Outcome.RETRY_AFTER:
            self.ops.too_many_requests.labels(source="broadcast", method="sendMessage").inc()
        return result


class CountingRequest(BaseRequest):
    """A PTB transport with Telegram's 429 answers counted (by `source` and Bot API method)
    before PTB turns them into RetryAfter: replies, edits, button answers, getUpdates — every
    request of the bot it is installed on, whoever made it (issue 11)."""

    def __init__(self, inner: BaseRequest, ops: Ops, source: str) -> None:
        self.inner = inner
        self.ops = ops
        self.source = source

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> tuple[int, bytes]:
        status, payload = await self.inner.do_request(url, method, request_data, *args, **kwargs)
        if status == 429:
            endpoint = url.rsplit("/", 1)[-1][:40]
            self.ops.too_many_requests.labels(source=self.source, method=endpoint).inc()
        return status, payload


def count_429s(bot: Bot, ops: Ops, source: str) -> None:
    """Put CountingRequest around both of a Bot's transports (getUpdates and the rest), before
    the Bot is initialized. A Bot already counted is left as it is."""
    requests = bot._request  # PTB keeps (get_updates_request, request); no public setter
    if any(isinstance(r, CountingRequest) for r in requests):
        return
    updates, other = requests
    bot._request = (
        CountingRequest(updates, ops, "updates" if source == "bot" else source),
        CountingRequest(other, ops, source),
    )


def watch_engine(ops: Ops, engine: Any) -> None:
    """Count the engine's sends and read its pause, without changing the engine's code."""
    sender = getattr(engine, "sender", None)
    if sender is not None and not isinstance(sender, CountingSender):
        engine.sender = CountingSender(sender, ops)
    pacer = getattr(engine, "pacer", None)
    if pacer is not None and hasattr(pacer, "paused_for"):
        # A 429 pauses every worker of the engine until Telegram's retry_after has passed.
        ops.engine_paused = lambda: float(pacer.paused_for) > 0


class TimedUpdateProcessor(BaseUpdateProcessor):
    """PTB's update processor with the time each update takes observed (reply latency)."""

    def __init__(self, inner: BaseUpdateProcessor, ops: Ops) -> None:
        super().__init__(inner.max_concurrent_updates)
        self.inner = inner
        self.ops = ops

    # PTB declares process_update final (for typing only). The inner processor's own
    # process_update must decide the slots (bot.updates.InteractiveFirstProcessor lets presses
    # skip them); wrapping only do_process_update would put every update back behind the slots.
    async def process_update(  # type: ignore[misc]
        self, update: object, coroutine: Awaitable[Any]
    ) -> None:
        await self.inner.process_update(update, self._timed(coroutine))

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await self._timed(coroutine)

    async def _timed(self, coroutine: Awaitable[Any]) -> None:
        started = self.ops.monotonic()
        self.ops.telegram_ok()  # an update arrived: Telegram reached us
        try:
            await coroutine
        finally:
            self.ops.reply_latency.observe(self.ops.monotonic() - started)

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()
