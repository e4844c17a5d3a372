"""Running the Application by hand (not run_polling): for the rehearsal and the tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.updates import PollingErrors


@asynccontextmanager
async def polling(
    application: Application[Any, Any, Any, Any, Any, Any], *, poll_timeout: int = 1
) -> AsyncIterator[None]:
    """Initialize, post_init, poll and start; undo it all on exit.

    run_polling does the same but owns the event loop; here the caller's loop keeps running.
    """
    async with application:
        if application.post_init is not None:
            await application.post_init(application)
        assert application.updater is not None
        await application.updater.start_polling(
            poll_interval=0,
            timeout=poll_timeout,
            allowed_updates=Update.ALL_TYPES,
            error_callback=PollingErrors(),
        )
        await application.start()
        try:
            yield
        finally:
            # Before the updater and the JobQueue stop (which waits for running jobs): a
            # broadcast in progress stops claiming, finishes what is in flight, gives back
            # the rest (bot.instance: a graceful stop).
            services = application.bot_data.services
            if services is not None:
                await services.broadcasts.shutdown()
            await application.updater.stop()
            await application.stop()
            if application.post_shutdown is not None:
                await application.post_shutdown(application)
