"""Telegram handlers: thin, they read the update, call the domain and reply.

Each module exposes `handlers()`; `register` adds them in one place, in an order that matters:
PTB stops at the first matching handler of a group, so specific callbacks and commands come
before the residents' catch-all for free text.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram.ext import Application

from bot.context import BotContext
from bot.handlers import acks, agendas, groups, officials, reports, residents, topics
from bot.handlers.commands import set_commands, set_official_commands
from domain.officials import list_officials

log = logging.getLogger(__name__)


async def on_startup(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Runs in post_init once storage is open: timeline rows, jobs, command lists."""
    from bot.agenda_jobs import start_agenda_sync, sync_agendas_now
    from bot.jobs import rebuild_jobs, start_sync

    services = application.bot_data.services
    # The election timeline is one agenda among others (scheduler.agenda, domain.agendas).
    await sync_agendas_now(services, install=True)
    await rebuild_jobs(application)
    assert application.job_queue is not None
    start_sync(application.job_queue)
    start_agenda_sync(application.job_queue)
    await set_commands(application.bot)
    async with services.sessions() as session:
        officials = await list_officials(session)
    await set_official_commands(application.bot, [o.user_id for o in officials])


async def on_error(update: object, context: BotContext) -> None:
    """Log every failure; a handler error must never stop the bot."""
    log.error("error while handling an update", exc_info=context.error)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    # Group -1 runs first: typed input of an official's flow in progress (it stops the update
    # there when it used it, otherwise the residents' free-text answers get it).
    application.add_handlers(officials.typed_input_handlers(), group=-1)
    # Acknowledgement presses first: they must be answered at once, before anything slow.
    application.add_handlers(acks.handlers())
    application.add_handlers(officials.handlers())
    application.add_handlers(reports.handlers())
    application.add_handlers(groups.handlers())
    application.add_handlers(topics.handlers())
    application.add_handlers(agendas.handlers())
    # Last: residents' menu and the catch-all for free text in private chats.
    application.add_handlers(residents.handlers())
    application.add_error_handler(on_error)
