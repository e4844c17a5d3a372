"""Escalation and the second listing of field cases, on the JobQueue and the replaceable clock.

Each open case has a job under a predictable name (`field-case:<id>`) at its next due time;
jobs carry only the case id and are rebuilt from the database at start. A minute sweep also
catches cases opened elsewhere (a check-in, the shell). What is due is decided by the database
(`domain.field.escalation`), so a job, the sweep and a test calling `check_due` never repeat
each other.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta
from typing import Any

from telegram.error import TelegramError
from telegram.ext import Application, JobQueue

from bot.context import BotContext
from bot.field_posting import (
    App,
    digest,
    digest_buttons,
    resume_posting,
    send_card,
    services_of,
)
from bot.field_posting import t as say
from bot.jobs import JOB_KWARGS
from db.models import FieldCase
from domain.field import escalation
from domain.field.cases import case_view

log = logging.getLogger(__name__)

SWEEP_EVERY = 60.0


def escalation_after(app: App) -> timedelta:
    return timedelta(minutes=services_of(app).settings.field_escalation_minutes)


def job_name(case_id: int) -> str:
    return f"field-case:{case_id}"


def schedule_case(app: App, case_id: int, at: datetime | None) -> bool:
    job_queue = app.job_queue
    if job_queue is None or at is None:
        return False
    for job in job_queue.get_jobs_by_name(job_name(case_id)):
        job.schedule_removal()
    delay = services_of(app).clock.seconds_until(at)
    if math.isinf(delay):
        return False
    job_queue.run_once(
        _case_due, when=delay, name=job_name(case_id), data=case_id, job_kwargs=JOB_KWARGS
    )
    return True


async def schedule_new_case(app: App, case_id: int) -> None:
    services = services_of(app)
    async with services.sessions() as session:
        case = await session.get(FieldCase, case_id)
        at = escalation.next_due(case, escalation_after(app)) if case else None
    schedule_case(app, case_id, at)


async def _case_due(context: BotContext) -> None:
    assert context.job is not None
    case_id = context.job.data
    assert isinstance(case_id, int)
    await check_due(context.application)
    await schedule_new_case(context.application, case_id)


async def _sweep(context: BotContext) -> None:
    """Every minute: what is due, and cases opened elsewhere (a check-in answer, the shell)
    that no poster was told about yet."""
    await check_due(context.application)
    await resume_posting(context.application)


async def check_due(app: App) -> tuple[int, int]:
    """Escalate what is due and list again what is old: (cases escalated, cases relisted)."""
    services = services_of(app)
    now = services.clock.now()
    async with services.sessions.begin() as session:
        due = await escalation.take_due_escalations(session, now, escalation_after(app))
        targets = {c.id: await escalation.recipients(session, c.kecamatan_code) for c in due}
        relists = await escalation.take_due_relists(session, now)
    minutes = services.settings.field_escalation_minutes
    for case_id, people in targets.items():
        async with services.sessions() as session:
            view = await case_view(session, case_id)
        if view is None:
            continue
        header = say(services, "ui.posko.eskalasi", menit=minutes) + "\n\n"
        for user_id in people:
            try:
                await send_card(app, user_id, view, header=header)
            except TelegramError as exc:  # an official who never opened the bot
                log.info("escalating case %s to %s failed: %s", case_id, user_id, exc)
    for chat_id, ids in relists.items():
        async with services.sessions() as session:
            views = [v for v in [await case_view(session, i) for i in ids] if v is not None]
        hours = int(escalation.RELIST_AFTER.total_seconds() // 3600)
        while views:
            batch, body = digest(services, views, "ui.posko.masih_terbuka", jam=hours)
            views = views[len(batch) :]
            try:
                await app.bot.send_message(
                    chat_id, body, reply_markup=digest_buttons(services, batch)
                )
            except TelegramError as exc:
                log.info("listing old cases in posko %s failed: %s", chat_id, exc)
    return len(targets), sum(len(v) for v in relists.values())


async def rebuild_field_jobs(application: Application[Any, Any, Any, Any, Any, Any]) -> int:
    """At start: a job for every open case that still has something due; the minute sweep."""
    services = services_of(application)
    after = escalation_after(application)
    async with services.sessions() as session:
        due = [(c.id, escalation.next_due(c, after)) for c in await escalation.open_cases(session)]
    count = sum(schedule_case(application, case_id, at) for case_id, at in due)
    job_queue: JobQueue[Any] | None = application.job_queue
    if job_queue is not None:
        job_queue.run_repeating(_sweep, interval=SWEEP_EVERY, first=SWEEP_EVERY, name="field-due")
    log.info("scheduled %d field case job(s) from the database", count)
    return count
