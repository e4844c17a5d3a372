"""The scheduled pre-flight's jobs (profile `[preflight] at`), rebuilt from the database at start.

One job per slot still to run, named `preflight:<slot>` and carrying only the slot's key; the
run itself, its once-only claim and report are domain.preflight_schedule's.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

from telegram.ext import Application

from bot.context import BotContext
from bot.handlers.onboarding import mark_preflight, running_preflight
from bot.http_sender import broadcast_bot
from bot.jobs import JOB_KWARGS
from bot.notices import BotNotifier
from bot.preflight import BotProber
from bot.ui.callbacks import PREFLIGHT
from db.models import PreflightRun
from domain import preflight
from domain.preflight_schedule import pending_slots, run_slot, slots
from messages.render import render

log = logging.getLogger(__name__)

App = Application[Any, Any, Any, Any, Any, Any]


def job_name(slot: str) -> str:
    return f"preflight:{slot}"


async def schedule_preflights(application: App) -> int:
    """At start: a job for every slot not yet reported (a missed one runs now, if recent)."""
    services = application.bot_data.services
    job_queue = application.job_queue
    assert job_queue is not None
    async with services.sessions() as session:
        pending = await pending_slots(session, services.profile, services.clock.now())
    count = 0
    for slot in pending:
        for job in job_queue.get_jobs_by_name(job_name(slot.key)):
            job.schedule_removal()
        delay = services.clock.seconds_until(slot.due_at)
        if math.isinf(delay):
            continue
        job_queue.run_once(
            _run_job, when=delay, name=job_name(slot.key), data=slot.key, job_kwargs=JOB_KWARGS
        )
        count += 1
    log.info("scheduled %d pre-flight job(s) from the profile and the database", count)
    return count


async def _run_job(context: BotContext) -> None:
    assert context.job is not None and isinstance(context.job.data, str)
    await run_scheduled_preflight(context.application, context.job.data)


async def run_scheduled_preflight(application: App, key: str) -> PreflightRun | None:
    """Run the slot `key` now (the job's body; tests call it on the test clock)."""
    services = application.bot_data.services
    slot = next((s for s in slots(services.profile) if s.key == key), None)
    if slot is None:  # the profile no longer has it
        return None
    # After a /cekgrup still running (one pre-flight at a time); /cekgrup then waits for us.
    while (running := running_preflight(application)) is not None:
        await asyncio.wait([running])
    current = asyncio.current_task()
    if current is not None:
        mark_preflight(application, current)
    settings = services.settings
    label = render("sistem.preflight_jadwal.tombol", services.profile, services.clock.now())
    checker = broadcast_bot(
        settings.token, settings.telegram_base_url, settings.base_file_url, preflight.WORKERS
    )
    async with checker:
        return await run_slot(
            services.sessions,
            BotProber(checker),
            BotNotifier(application.bot),
            services.profile,
            services.clock.now,
            slot,
            button=lambda run_id: (label, PREFLIGHT.build("h", run_id)),
        )
