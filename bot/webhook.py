"""Webhook mode (WEBHOOK_URL set): Telegram posts updates to us instead of our long polling.

Our own small aiohttp server rather than PTB's `run_webhook`: PTB's needs tornado (an extra
dependency) and compares the secret token with `!=`; here it is checked in constant time
(hmac.compare_digest), and the same server answers /healthz and /metrics (bot/ops.py).

- POST <path of WEBHOOK_URL>: 403 without the right X-Telegram-Bot-Api-Secret-Token; an
  update already received (Telegram resends after a timeout or a lost answer) is answered 200
  and not processed again; otherwise it is queued for the Application and answered 200 at once.
- setWebhook at start with the secret, allowed_updates (all kinds the bot handles) and
  DROP_PENDING_UPDATES; the webhook is left in place at stop, so Telegram keeps the updates
  that arrive while the bot restarts.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.ops import Ops, ops_of
from bot.settings import Settings
from bot.updates import SkippedUpdates, parse_update

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
REMEMBER = 10_000  # update ids kept to recognise a redelivery


class WebhookReceiver:
    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        secret: str,
        ops: Ops | None = None,
    ) -> None:
        self.application = application
        self._secret = secret.encode()
        self.ops = ops
        self._seen: OrderedDict[int, None] = OrderedDict()
        self.duplicates = 0
        self.skips = SkippedUpdates()  # updates this client cannot read (bot.updates)

    def _first_time(self, update_id: int) -> bool:
        if update_id in self._seen:
            return False
        self._seen[update_id] = None
        while len(self._seen) > REMEMBER:
            self._seen.popitem(last=False)
        return True

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            return web.Response(status=403, text="forbidden\n")
        try:
            data = await request.json()
            update_id = int(data["update_id"])
        except (ValueError, KeyError, TypeError):
            return web.Response(status=400, text="not an update\n")
        if not self._first_time(update_id):
            self.duplicates += 1
            if self.ops is not None:
                self.ops.duplicates.inc()
            return web.Response(text="ok\n")
        update = parse_update(data, self.application.bot)
        if update is None:
            # Answered 200 like any other: Telegram forgets it instead of resending it forever.
            self.skips.log(update_id, data)
            return web.Response(text="ok\n")
        await self.application.update_queue.put(update)
        if self.ops is not None:
            self.ops.updates.labels(transport="webhook").inc()
        return web.Response(text="ok\n")


def webhook_path(url: str) -> str:
    return urlsplit(url).path or "/"


@asynccontextmanager
async def running_webhook(
    application: Application[Any, Any, Any, Any, Any, Any], settings: Settings
) -> AsyncIterator[WebhookReceiver]:
    """Initialize, post_init, serve, setWebhook, start; undo it all on exit (not the webhook)."""
    assert settings.webhook_url and settings.webhook_secret is not None
    ops = ops_of(application)
    receiver = WebhookReceiver(application, settings.webhook_secret.get_secret_value(), ops)
    async with application:
        if application.post_init is not None:
            await application.post_init(application)
        web_app = web.Application(client_max_size=4 * 1024 * 1024)
        web_app.router.add_post(webhook_path(settings.webhook_url), receiver.handle)
        if ops is not None:
            ops.routes(web_app)
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        # Unlike the ops server in polling mode, no listening socket means no bot: fail.
        await web.TCPSite(runner, settings.webhook_listen, settings.webhook_port).start()
        log.info(
            "webhook server on %s:%s, path %s",
            settings.webhook_listen,
            settings.webhook_port,
            webhook_path(settings.webhook_url),
        )
        await application.start()
        try:
            await application.bot.set_webhook(
                settings.webhook_url,
                secret_token=settings.webhook_secret.get_secret_value(),
                allowed_updates=Update.ALL_TYPES,
                drop_pending_updates=settings.drop_pending_updates,
                max_connections=40,
            )
            if ops is not None:
                ops.telegram_ok()
            yield receiver
        finally:
            # As in polling (bot.runner): a broadcast in progress stops claiming, finishes what
            # is in flight and gives back the rest before the JobQueue stops.
            services = application.bot_data.services
            if services is not None:
                await services.broadcasts.shutdown()
            await runner.cleanup()
            await application.stop()
            if application.post_shutdown is not None:
                await application.post_shutdown(application)


def run_webhook(settings: Settings) -> int:
    """`kentongan run` with WEBHOOK_URL: the same single-instance lease and graceful stop as
    polling (bot.instance), with updates coming in through the webhook server."""
    from bot.app import build_application
    from bot.instance import serve

    return asyncio.run(
        serve(
            settings,
            lambda: build_application(settings),
            transport=lambda application: running_webhook(application, settings),
        )
    )
