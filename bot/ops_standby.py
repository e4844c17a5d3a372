"""/healthz and /metrics while this copy waits as standby (issue 11).

A standby has no Application yet (it is built once the lease is ours), so it serves the ops
routes itself, on the port the active copy would use (the webhook port in webhook mode,
OPS_PORT in polling mode), with a getMe probe every PROBE_EVERY seconds so that "healthy"
includes "could reach Telegram if it took over". /healthz answers 200 with `role: standby`;
/healthz/active answers 503, so a load balancer sends webhooks only to the active copy. The
server closes before the Application is built, freeing the port for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from aiohttp import web
from telegram import Bot
from telegram.error import TelegramError

from bot.ops import PROBE_EVERY, LeaseStatus, Ops, start_site
from bot.settings import Settings
from db.engine import SessionFactory

log = logging.getLogger(__name__)


def _address(settings: Settings) -> tuple[str, int] | None:
    if settings.webhook_url:
        return settings.webhook_listen, settings.webhook_port
    if settings.ops_port:
        return settings.ops_listen, settings.ops_port
    return None


async def _probe(bot: Bot, ops: Ops) -> None:
    failing = ready = False
    while True:
        try:
            if ready:
                await bot.get_me()
            else:
                await bot.initialize()  # getMe too
                ready = True
        except TelegramError as exc:
            if not failing:  # once per outage, not every 30 s
                log.warning("standby: Telegram probe failed: %s", exc.__class__.__name__)
            failing = True
        else:
            ops.telegram_ok()
            failing = False
        await asyncio.sleep(PROBE_EVERY)


@asynccontextmanager
async def standby_ops(
    settings: Settings,
    sessions: SessionFactory,
    lease: Callable[[], LeaseStatus],
    role: Callable[[], str],
) -> AsyncIterator[Ops]:
    """Serve the ops routes for a standby until the block ends."""
    ops = Ops(settings, lease=lease, role=role, sessions=sessions)
    where = _address(settings)
    runner: web.AppRunner | None = None
    if where is not None:
        web_app = web.Application()
        ops.routes(web_app)
        runner = await start_site(web_app, *where)
    bot = Bot(
        settings.token, base_url=settings.telegram_base_url, base_file_url=settings.base_file_url
    )
    probe = asyncio.get_running_loop().create_task(_probe(bot, ops))
    try:
        yield ops
    finally:
        probe.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await probe
        with contextlib.suppress(Exception):
            await bot.shutdown()
        if runner is not None:
            await runner.cleanup()
