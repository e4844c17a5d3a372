"""Jobs for acknowledgement escalation chains (domain.escalation), rebuilt from the database.

At start and every minute, one job per chain step still to take, named
`escalation:<broadcast id>:<step>` and carrying only those ids; the database (the broadcast's
start, the steps taken) says when and whether it runs.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from telegram.ext import Application, JobQueue

from bot.context import BotContext
from bot.jobs import JOB_KWARGS, schedule_broadcast
from bot.notices import BotNotifier
from db.models import Broadcast
from domain import escalation

log = logging.getLogger(__name__)

App = Application[Any, Any, Any, Any, Any, Any]


def job_name(broadcast_id: int, step: int) -> str:
    return f"escalation:{broadcast_id}:{step}"


async def sync_escalations(application: App) -> int:
    """A job for every pending step that has none yet; how many were added."""
    services = application.bot_data.services
    job_queue: JobQueue[Any] | None = application.job_queue
    assert job_queue is not None
    async with services.sessions() as session:
        pending = await escalation.pending_steps(session, services.profile)
    added = 0
    for step in pending:
        name = job_name(step.broadcast_id, step.step)
        if job_queue.get_jobs_by_name(name):
            continue
        delay = services.clock.seconds_until(step.due_at)
        if math.isinf(delay):
            continue
        job_queue.run_once(
            _run_job,
            when=delay,
            name=name,
            data=(step.broadcast_id, step.step),
            job_kwargs=JOB_KWARGS,
        )
        added += 1
    if added:
        log.info("scheduled %d escalation step(s)", added)
    return added


async def _run_job(context: BotContext) -> None:
    assert context.job is not None
    data = context.job.data
    assert isinstance(data, tuple) and len(data) == 2
    await run_escalation_step(context.application, int(data[0]), int(data[1]))


async def _schedule_nudge(application: App, nudge_id: int) -> None:
    services = application.bot_data.services
    async with services.sessions() as session:
        nudge = await session.get(Broadcast, nudge_id)
    if nudge is not None and application.job_queue is not None:
        schedule_broadcast(application.job_queue, nudge)


async def run_escalation_step(
    application: App, broadcast_id: int, step: int
) -> escalation.StepResult | None:
    services = application.bot_data.services
    result = await escalation.run_step(
        services.sessions,
        BotNotifier(application.bot),
        services.profile,
        services.clock.now(),
        broadcast_id,
        step,
    )
    if result is not None and result.nudge_id is not None:
        await _schedule_nudge(application, result.nudge_id)
    return result


async def run_due_escalations(application: App) -> list[escalation.StepResult]:
    """Every step due on the application's clock (tests, on the test clock)."""
    services = application.bot_data.services

    async def on_nudge(nudge_id: int) -> None:
        await _schedule_nudge(application, nudge_id)

    return await escalation.run_due(
        services.sessions,
        BotNotifier(application.bot),
        services.profile,
        services.clock.now(),
        on_nudge,
    )


async def _sync_job(context: BotContext) -> None:
    await sync_escalations(context.application)


def start_escalation_sync(job_queue: JobQueue[Any], interval: float = 60.0) -> None:
    job_queue.run_repeating(_sync_job, interval=interval, first=interval, name="sync-escalations")
