"""Agendas in the running bot: installed and synced at start, re-synced hourly.

Recurring steps are materialised a bounded window ahead (scheduler.agenda.RECUR_WINDOW), so the
window must move forward while the bot runs; the minute job in bot.jobs then schedules the new
rows like any other broadcast.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram.ext import JobQueue

from bot.agenda_cli import AGENDAS_DIR
from bot.context import BotContext
from bot.services import Services
from domain.agendas import install_bundled, read_bundled, sync_all
from scheduler.agenda import SyncReport
from scheduler.timeline import load_timeline

log = logging.getLogger(__name__)

SYNC_EVERY = 3600.0


async def sync_agendas_now(services: Services, *, install: bool = False) -> SyncReport:
    timeline = load_timeline(services.settings.timeline_file, services.profile)
    now = services.clock.now()
    async with services.sessions.begin() as session:
        if install:
            installed = await install_bundled(
                session, read_bundled(AGENDAS_DIR), services.profile, now
            )
            if installed:
                log.info("agendas installed or refreshed: %s", ", ".join(installed))
        report = await sync_all(session, services.profile, timeline, now)
    log.info(
        "agendas: %d new, %d updated, %d unchanged",
        report.created,
        report.updated,
        report.unchanged,
    )
    return report


async def _hourly(context: BotContext) -> None:
    await sync_agendas_now(context.services)


def start_agenda_sync(job_queue: JobQueue[Any], interval: float = SYNC_EVERY) -> None:
    job_queue.run_repeating(_hourly, interval=interval, first=interval, name="sync-agendas")
