"""What an operator watches: /healthz, /metrics (Prometheus) and errors told to the root admins.

One small aiohttp server: the webhook server in webhook mode (bot/webhook.py adds its route),
its own OPS_LISTEN:OPS_PORT in polling mode. Everything is installed on an Application by
`install(application, settings)`, which also wraps post_init/post_shutdown to start and stop
the server, so bot/app.py stays as it is.

/healthz answers 200 only when all three hold, and the body says each:
- the database answers (SELECT 1);
- the instance holds the single-instance lease or is a healthy standby (`Ops.lease`, a
  callable the lease module sets; without one the instance is alone and counts as holding it);
- the last successful contact with Telegram (a getMe every 30 s, and every update received)
  is at most TELEGRAM_STALE seconds old.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select, text
from telegram.error import TelegramError
from telegram.ext import Application, BaseUpdateProcessor

from bot.settings import Settings
from db.engine import SessionFactory
from db.models import Acknowledgement, Broadcast, BroadcastStatus, Delivery, DeliveryStatus
from messages.render import render
from scheduler.sender import Outcome, OutgoingMessage, Sender, SendResult

log = logging.getLogger(__name__)

TELEGRAM_STALE = 180.0  # seconds without a successful Telegram call before /healthz fails
PROBE_EVERY = 30.0
ERROR_WINDOW = 600.0  # one report per error kind per 10 minutes
PROBE_JOB_ID = "ops-telegram-probe"


@dataclass(frozen=True)
class LeaseStatus:
    """What the single-instance lease says about this instance."""

    held: bool  # this instance is the active one
    standby_ok: bool = False  # not active, but a healthy standby ready to take over
    detail: str = ""


def _alone() -> LeaseStatus:
    return LeaseStatus(held=True, detail="no lease configured: a single instance")


class _DatabaseCollector(Collector):
    """Gauges read from the database at scrape time: true across restarts and instances."""

    def __init__(self, ops: Ops) -> None:
        self.ops = ops

    def collect(self) -> Any:
        yield from self.ops.database_families


@dataclass
class Ops:
    settings: Settings
    monotonic: Callable[[], float] = time.monotonic
    lease: Callable[[], LeaseStatus] = _alone
    engine_paused: Callable[[], bool] = lambda: False
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    sessions: SessionFactory | None = None
    last_telegram_ok: float | None = None
    database_families: list[Any] = field(default_factory=list)
    _reported: dict[str, tuple[float, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        r = self.registry
        self.updates = Counter(
            "kentongan_updates_total", "Updates received from Telegram", ["transport"], registry=r
        )
        self.duplicates = Counter(
            "kentongan_webhook_duplicates_total",
            "Webhook deliveries of an update already received (processed once)",
            registry=r,
        )
        self.handler_errors = Counter(
            "kentongan_handler_errors_total", "Unhandled errors in handlers", ["kind"], registry=r
        )
        self.send_answers = Counter(
            "kentongan_send_answers_total",
            "Telegram's answers to broadcast sends, by outcome (retries counted each time)",
            ["outcome"],
            registry=r,
        )
        self.too_many_requests = Counter(
            "kentongan_telegram_429_total",
            "429 Too Many Requests answers from Telegram",
            registry=r,
        )
        self.reply_latency = Histogram(
            "kentongan_update_seconds",
            "Time from receiving an update to its handlers finishing (replies sent)",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
            registry=r,
        )
        self.paused = Gauge(
            "kentongan_engine_paused", "1 while the broadcast engine is paused", registry=r
        )
        self.paused.set_function(lambda: 1.0 if self.engine_paused() else 0.0)
        self.telegram_age = Gauge(
            "kentongan_telegram_last_ok_seconds",
            "Seconds since the last successful contact with Telegram",
            registry=r,
        )
        self.telegram_age.set_function(self._telegram_age)
        r.register(_DatabaseCollector(self))

    # -- Telegram contact ---------------------------------------------------------------------

    def telegram_ok(self) -> None:
        self.last_telegram_ok = self.monotonic()

    def _telegram_age(self) -> float:
        if self.last_telegram_ok is None:
            return float("inf")
        return self.monotonic() - self.last_telegram_ok

    # -- /healthz -----------------------------------------------------------------------------

    async def health(self) -> tuple[bool, dict[str, str]]:
        checks: dict[str, tuple[bool, str]] = {}
        try:
            assert self.sessions is not None, "storage not open yet"
            async with self.sessions() as session:
                await asyncio.wait_for(session.execute(text("SELECT 1")), timeout=5)
            checks["database"] = (True, "answers")
        except Exception as exc:  # any failure is "not healthy", said in the body
            checks["database"] = (False, f"fails: {exc.__class__.__name__}")
        try:
            lease = self.lease()
            if lease.held:
                checks["lease"] = (True, lease.detail or "held: this instance is active")
            elif lease.standby_ok:
                checks["lease"] = (True, lease.detail or "standby, healthy")
            else:
                checks["lease"] = (False, lease.detail or "not held and not a healthy standby")
        except Exception as exc:
            checks["lease"] = (False, f"unknown: {exc.__class__.__name__}")
        age = self._telegram_age()
        if age <= TELEGRAM_STALE:
            checks["telegram"] = (True, f"last contact {age:.0f} s ago")
        elif self.last_telegram_ok is None:
            checks["telegram"] = (False, "no contact yet")
        else:
            checks["telegram"] = (False, f"last contact {age:.0f} s ago (> {TELEGRAM_STALE:.0f})")
        ok = all(passed for passed, _ in checks.values())
        return ok, {
            name: ("ok: " if passed else "FAIL: ") + why for name, (passed, why) in checks.items()
        }

    async def refresh_database_metrics(self) -> None:
        """Read the figures /metrics shows from the database (called before each scrape)."""
        families: list[Any] = []
        if self.sessions is None:
            self.database_families = families
            return
        async with self.sessions() as session:
            sends = GaugeMetricFamily(
                "kentongan_deliveries", "Deliveries by outcome (all broadcasts)", labels=["outcome"]
            )
            rows = (
                await session.execute(
                    select(Delivery.status, func.count()).group_by(Delivery.status)
                )
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
        self.database_families = families

    async def metrics_text(self) -> bytes:
        try:
            await self.refresh_database_metrics()
        except Exception as exc:  # the process metrics still answer
            log.warning("metrics: database figures unavailable: %s", exc.__class__.__name__)
            self.database_families = []
        return generate_latest(self.registry)

    # -- errors told to the root admins -------------------------------------------------------

    def error_kind(self, error: BaseException) -> str:
        """The exception type and where it was raised (our code), never its message."""
        frames = traceback.extract_tb(error.__traceback__)
        ours = [f for f in frames if "/site-packages/" not in f.filename] or frames
        where = f"{ours[-1].name} ({ours[-1].filename.rsplit('/', 1)[-1]})" if ours else "?"
        return f"{type(error).__name__} di {where}"

    def should_report(self, kind: str) -> int | None:
        """The count to report for `kind`, or None inside its 10-minute window."""
        now = self.monotonic()
        last, suppressed = self._reported.get(kind, (float("-inf"), 0))
        if now - last < ERROR_WINDOW:
            self._reported[kind] = (last, suppressed + 1)
            return None
        self._reported[kind] = (now, 0)
        return suppressed + 1

    # -- HTTP ---------------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)

    async def _healthz(self, _request: web.Request) -> web.Response:
        ok, checks = await self.health()
        body = "\n".join([("OK" if ok else "UNHEALTHY"), *(f"{k}: {v}" for k, v in checks.items())])
        return web.Response(status=200 if ok else 503, text=body + "\n")

    async def _metrics(self, _request: web.Request) -> web.Response:
        payload = await self.metrics_text()
        return web.Response(body=payload, headers={"Content-Type": "text/plain; version=0.0.4"})


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
            self.ops.too_many_requests.inc()
        return result


def _watch_engine(ops: Ops, engine: Any) -> None:
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


def ops_of(application: Application[Any, Any, Any, Any, Any, Any]) -> Ops | None:
    ops = getattr(application.bot_data, "ops", None)
    return ops if isinstance(ops, Ops) else None


def install(
    application: Application[Any, Any, Any, Any, Any, Any],
    settings: Settings,
    *,
    ops: Ops | None = None,
    serve: bool = True,
) -> Ops:
    """Metrics, error reports, the Telegram probe and (when `serve`) the ops HTTP server."""
    ops = ops or Ops(settings)
    application.bot_data.ops = ops
    runner: list[web.AppRunner] = []
    original_init, original_shutdown = application.post_init, application.post_shutdown
    # Application has __slots__: the processor (a slot, set before initialize) is the one
    # place every update passes through with its handlers awaited.
    application._update_processor = TimedUpdateProcessor(application.update_processor, ops)

    async def post_init(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        if original_init is not None:
            await original_init(app)
        services = app.bot_data.services
        ops.sessions = services.sessions if services is not None else None
        if services is not None:
            _watch_engine(ops, services.broadcasts)
        ops.telegram_ok()  # initialize() has just called getMe
        if app.job_queue is not None:
            app.job_queue.run_repeating(
                _probe,
                interval=PROBE_EVERY,
                first=PROBE_EVERY,
                name=PROBE_JOB_ID,
                job_kwargs={"id": PROBE_JOB_ID, "replace_existing": True},
            )
        if serve and settings.ops_port and not settings.webhook_url:
            web_app = web.Application()
            ops.routes(web_app)
            runner.append(await start_site(web_app, settings.ops_listen, settings.ops_port))

    async def post_shutdown(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        for r in runner:
            await r.cleanup()
        if original_shutdown is not None:
            await original_shutdown(app)

    async def on_error(update: object, context: Any) -> None:
        error = context.error
        if error is None:
            return
        kind = ops.error_kind(error)
        ops.handler_errors.labels(kind=type(error).__name__).inc()
        count = ops.should_report(kind)
        if count is None:
            return
        services = application.bot_data.services
        if services is None:
            return
        text = render(
            "sistem.ops.galat",
            services.profile,
            services.clock.now(),
            extra={"jenis": kind, "jumlah": str(count)},
        )
        for admin_id in sorted(settings.admin_ids):
            try:
                await application.bot.send_message(admin_id, text)
            except TelegramError as exc:
                log.warning("could not report an error to admin %s: %s", admin_id, exc)

    async def _probe(context: Any) -> None:
        try:
            await application.bot.get_me()
        except TelegramError as exc:
            log.warning("Telegram probe failed: %s", exc.__class__.__name__)
            return
        ops.telegram_ok()

    application.post_init = post_init
    application.post_shutdown = post_shutdown
    application.add_error_handler(on_error)
    return ops


async def start_site(web_app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        log.error("ops server: cannot listen on %s:%s (%s); running without it", host, port, exc)
        return runner
    log.info("ops server on http://%s:%s (/healthz, /metrics)", host, port)
    return runner
