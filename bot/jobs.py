"""Broadcast jobs on python-telegram-bot's JobQueue (APScheduler), rebuilt from the database."""

from __future__ import annotations

import logging
import math
from typing import Any

from sqlalchemy import select
from telegram.ext import Application, JobQueue

from bot.context import BotContext
from db.models import Broadcast, BroadcastStatus

log = logging.getLogger(__name__)

# APScheduler's default misfire_grace_time of one second silently drops a job that fires late
# (a busy loop, a suspended laptop, a restart). None means "run however late": the engine
# itself then decides, by the broadcast's expiry, whether it is still worth sending.
JOB_KWARGS: dict[str, Any] = {"misfire_grace_time": None, "coalesce": True}


def job_name(broadcast_id: int) -> str:
    return f"broadcast:{broadcast_id}"


async def _run_broadcast(context: BotContext) -> None:
    """Job callback: carries only the broadcast id; the database says the rest."""
    assert context.job is not None
    broadcast_id = context.job.data
    assert isinstance(broadcast_id, int)
    await context.services.broadcasts.run(broadcast_id)


def schedule_broadcast(job_queue: JobQueue[Any], broadcast: Broadcast) -> bool:
    """(Re)schedule one broadcast under its predictable name; False if its time never comes."""
    services = job_queue.application.bot_data.services
    name = job_name(broadcast.id)
    for job in job_queue.get_jobs_by_name(name):
        job.schedule_removal()
    delay = services.clock.seconds_until(broadcast.scheduled_at)
    if math.isinf(delay):
        return False
    job_queue.run_once(
        _run_broadcast, when=delay, name=name, data=broadcast.id, job_kwargs=JOB_KWARGS
    )
    return True


def unschedule_broadcast(job_queue: JobQueue[Any], broadcast_id: int) -> None:
    for job in job_queue.get_jobs_by_name(job_name(broadcast_id)):
        job.schedule_removal()


async def rebuild_jobs(application: Application[Any, Any, Any, Any, Any, Any]) -> int:
    """At start: one job per broadcast that is due or running; a crash resumes from the ledger."""
    services = application.bot_data.services
    job_queue = application.job_queue
    assert job_queue is not None
    async with services.sessions() as session:
        broadcasts = (
            await session.scalars(
                select(Broadcast)
                .where(Broadcast.status.in_((BroadcastStatus.SCHEDULED, BroadcastStatus.RUNNING)))
                .order_by(Broadcast.scheduled_at)
            )
        ).all()
    count = sum(schedule_broadcast(job_queue, b) for b in broadcasts)
    log.info("scheduled %d broadcast job(s) from the database", count)
    return count


async def sync_jobs(context: BotContext) -> None:
    """Every minute: pick up broadcasts made or cancelled elsewhere (the shell, another admin).

    The database is the source of truth; jobs are only how the bot waits for their time.
    """
    services = context.services
    job_queue = context.job_queue
    assert job_queue is not None
    async with services.sessions() as session:
        rows = (await session.execute(select(Broadcast.id, Broadcast.status))).all()
    active = (BroadcastStatus.SCHEDULED, BroadcastStatus.RUNNING)
    wanted = {bid for bid, status in rows if status in active}
    for bid, _status in rows:
        has_job = bool(job_queue.get_jobs_by_name(job_name(bid)))
        if bid in wanted and not has_job and not services.broadcasts.is_running(bid):
            async with services.sessions() as session:
                broadcast = await session.get(Broadcast, bid)
            if broadcast is not None:
                schedule_broadcast(job_queue, broadcast)
        elif bid not in wanted and has_job:
            unschedule_broadcast(job_queue, bid)


def start_sync(job_queue: JobQueue[Any], interval: float = 60.0) -> None:
    job_queue.run_repeating(sync_jobs, interval=interval, first=interval, name="sync-broadcasts")
