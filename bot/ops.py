"""What an operator watches: /healthz, /metrics (Prometheus) and errors told to the root admins.

One small aiohttp server: the webhook server in webhook mode (bot/webhook.py adds its route),
its own OPS_LISTEN:OPS_PORT in polling mode. Everything is installed on an Application by
`install(application, settings)`, which also wraps post_init/post_shutdown to start and stop
the server, so bot/app.py stays as it is.

The database's gauges, the counting Sender and the timed update processor are
bot/ops_metrics.py; the error reports to the root admins are bot/ops_errors.py.

/healthz answers 200 only when all three hold, and the body says each (and the role: active,
or standby while another copy holds the lease; /healthz/active is 200 only on the active one):
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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.registry import Collector
from sqlalchemy import text
from telegram.error import TelegramError
from telegram.ext import Application

from bot.ops_errors import ErrorWindow, report_error
from bot.ops_metrics import TimedUpdateProcessor, count_429s, database_families, watch_engine
from bot.settings import Settings
from db.engine import SessionFactory

log = logging.getLogger(__name__)

TELEGRAM_STALE = 180.0  # seconds without a successful Telegram call before /healthz fails
PROBE_EVERY = 30.0
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
    # "active", "standby" (waiting for the lease: bot/ops_standby.py serves it), "stopping".
    role: Callable[[], str] = lambda: "active"
    engine_paused: Callable[[], bool] = lambda: False
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    sessions: SessionFactory | None = None
    last_telegram_ok: float | None = None
    database_families: list[Any] = field(default_factory=list)
    errors: ErrorWindow = field(default_factory=ErrorWindow)

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
            "429 Too Many Requests answers from Telegram, for every request: source broadcast "
            "(the engine), bot (replies, edits, button answers), updates (getUpdates), acks "
            "(the acknowledgement button's own bot)",
            ["source", "method"],
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
        self.active = Gauge(
            "kentongan_instance_active",
            "1 on the copy that holds the lease and sends, 0 on a standby",
            registry=r,
        )
        self.active.set_function(lambda: 1.0 if self.role() == "active" else 0.0)
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
            families = await database_families(session)
        self.database_families = families

    async def metrics_text(self) -> bytes:
        try:
            await self.refresh_database_metrics()
        except Exception as exc:  # the process metrics still answer
            log.warning("metrics: database figures unavailable: %s", exc.__class__.__name__)
            self.database_families = []
        return generate_latest(self.registry)

    # -- HTTP ---------------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/healthz/active", self._healthz_active)
        app.router.add_get("/metrics", self._metrics)

    async def _healthz(self, _request: web.Request) -> web.Response:
        """200 for a healthy active copy and a healthy standby alike; the body's `role` line
        and the X-Kentongan-Role header tell them apart."""
        ok, checks = await self.health()
        role = self.role()
        lines = [("OK" if ok else "UNHEALTHY"), f"role: {role}"]
        body = "\n".join([*lines, *(f"{k}: {v}" for k, v in checks.items())])
        headers = {"X-Kentongan-Role": role}
        return web.Response(status=200 if ok else 503, text=body + "\n", headers=headers)

    async def _healthz_active(self, request: web.Request) -> web.Response:
        """For a load balancer in front of webhook copies: 200 only on the healthy active one."""
        response = await self._healthz(request)
        if response.status == 200 and self.role() != "active":
            response.set_status(503)
        return response

    async def _metrics(self, _request: web.Request) -> web.Response:
        payload = await self.metrics_text()
        return web.Response(body=payload, headers={"Content-Type": "text/plain; version=0.0.4"})


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
    count_429s(application.bot, ops, "bot")  # every request of the interactive bot

    async def post_init(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        if original_init is not None:
            await original_init(app)
        services = app.bot_data.services
        ops.sessions = services.sessions if services is not None else None
        if services is not None:
            watch_engine(ops, services.broadcasts)
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
        if context.error is not None:
            await report_error(application, settings, ops, context.error)

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
