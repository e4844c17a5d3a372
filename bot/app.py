"""Build the Application from Settings: one place that wires services and every handler."""

from __future__ import annotations

import logging
import os
from typing import Any

# PTB 22 warns on every int `retry_after`; opting in to timedelta values now keeps logs clean
# and our warnings-as-errors tests honest. Set before telegram is imported.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ContextTypes,
    Defaults,
)

from bot.context import BotContext, BotData
from bot.http_sender import TelegramSender, broadcast_bot
from bot.notify import BroadcastNotifier, ack_label, render_broadcast
from bot.pacing import SharedRateLimiter
from bot.services import Services
from bot.settings import Settings
from bot.storage import open_storage
from bot.updates import InteractiveFirstProcessor, SkippingUpdatesRequest
from domain.groups import GROUP_DIRECTORY
from election.profile import load_profile
from scheduler.clock import Clock, SystemClock
from scheduler.engine import BroadcastEngine
from scheduler.engine_config import EngineConfig
from scheduler.ratelimit import TELEGRAM

log = logging.getLogger(__name__)

# Application[bot, context, user_data, chat_data, bot_data, job_queue]
KentonganApp = Application[Any, BotContext, Any, Any, BotData, Any]


def build_application(
    settings: Settings,
    *,
    clock: Clock | None = None,
    engine_config: EngineConfig | None = None,
) -> KentonganApp:
    """The Application with every handler registered; services are made in post_init."""
    profile = load_profile(settings.election_profile)
    clock = clock or SystemClock()

    async def post_init(application: KentonganApp) -> None:
        engine, sessions = await open_storage(
            settings.database_url, settings.admin_ids, clock.now()
        )
        config = engine_config or EngineConfig(
            rate=TELEGRAM.broadcast_rate(settings.broadcast_rate), paid=settings.paid_broadcast
        )
        sender_bot = broadcast_bot(
            settings.token, settings.telegram_base_url, settings.base_file_url, config.workers + 4
        )
        await sender_bot.initialize()
        notifier = BroadcastNotifier(application.bot, sessions, profile)
        broadcasts = BroadcastEngine(
            sessions,
            TelegramSender(sender_bot),
            clock,
            render=lambda b: render_broadcast(b, profile, clock),
            groups=GROUP_DIRECTORY,
            ack_label=ack_label(),
            config=config,
            on_finished=notifier.finished,
            on_paused=notifier.paused,
            on_resumed=notifier.resumed,
        )
        limiter.attach(broadcasts.pacer, broadcasts.chat_pacer)
        application.bot_data.services = Services(
            settings=settings,
            profile=profile,
            clock=clock,
            engine=engine,
            sessions=sessions,
            broadcasts=broadcasts,
            closers=[engine.dispose, sender_bot.shutdown],
        )
        from bot.handlers import on_startup

        await on_startup(application)

    async def post_shutdown(application: KentonganApp) -> None:
        services = application.bot_data.services
        if services is not None:
            for close in reversed(services.closers):
                await close()

    # Replies share the broadcast engine's budget, ahead of broadcasts (bot.pacing).
    limiter = SharedRateLimiter(max_retries=2)
    context_types = ContextTypes(context=BotContext, bot_data=BotData)
    application: KentonganApp = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.base_file_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=None))
        .context_types(context_types)
        # Replies and broadcasts share one budget (the engine's pacer), replies first.
        .rate_limiter(limiter)
        # An update this client cannot parse is skipped once instead of stopping polling.
        .get_updates_request(SkippingUpdatesRequest())
        .concurrent_updates(InteractiveFirstProcessor(8))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    from bot.handlers import register
    from bot.ops import install as install_ops

    register(application)
    install_ops(application, settings)  # metrics, /healthz, error reports (bot/ops.py)
    return application


def run_polling(settings: Settings) -> int:
    """Long polling as the one active instance (a standby until then); exit code."""
    import asyncio

    from bot.instance import serve

    log.info("kentongan starting against %s", settings.telegram_base_url.split("/bot")[0])
    return asyncio.run(serve(settings, lambda: build_application(settings)))
