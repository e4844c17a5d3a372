"""No answer is a signal: after a check-in's deadline its silent groups go to the officials.

One job per check-in waits for its deadline on the replaceable clock (rebuilt from the database
at start); a repeating job catches any the bot was down for or that were made since. The list
is claimed and recorded in the database, one outbox row per official, before it is sent
(domain.checkin_silences.take_silence); each row is marked sent after Telegram took it. A crash
or a failed send in between leaves the row to the next run, so every official gets their list
at least once, and a row already sent is never sent again.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application

from bot.context import BotContext
from bot.services import Services
from domain.checkin_silences import (
    SilenceNotice,
    claim_notice,
    due_silences,
    notice_failed,
    notice_sent,
    release_claims,
    take_silence,
    unsent_notices,
    upcoming_deadlines,
)
from messages.library import default_library
from messages.render import render

log = logging.getLogger(__name__)

CATCH_UP = 300.0  # seconds between checks for deadlines passed without their job
MAX_LINES = 60  # groups named in one message; the rest are counted


def job_name(broadcast_id: int) -> str:
    return f"checkin-silence:{broadcast_id}"


def _lines(services: Services, notice: SilenceNotice) -> str:
    profile, now = services.profile, services.clock.now()
    lines = []
    for group in notice.groups[:MAX_LINES]:
        place = " ".join(
            part
            for part in (
                f"RW {group.rw:02d}" if group.rw is not None else "",
                f"RT {group.rt:02d}" if group.rt is not None else "",
            )
            if part
        )
        lines.append(
            render(
                "checkin.tanpa_jawaban.baris",
                profile,
                now,
                {"grup": group.title, "tempat": place or "-", "kelurahan": group.kelurahan},
            )
        )
    if len(notice.groups) > MAX_LINES:
        rest = len(notice.groups) - MAX_LINES
        lines.append(render("checkin.tanpa_jawaban.lainnya", profile, now, {"jumlah": rest}))
    return "\n".join(lines)


def silence_text(services: Services, notice: SilenceNotice) -> str:
    library = default_library()
    question = (
        library.get(notice.message_key).title
        if notice.message_key and notice.message_key in library
        else f"siaran #{notice.broadcast_id}"
    )
    profile = services.profile
    local = notice.deadline.astimezone(profile.tz)
    return render(
        "checkin.tanpa_jawaban",
        profile,
        services.clock.now(),
        {
            "pertanyaan": question,
            "batas": f"{local:%d/%m %H.%M} {profile.timezone_label}",
            "jumlah": len(notice.groups),
            "total": notice.reached,
            "daftar": _lines(services, notice),
        },
    )


async def send_silences(services: Services, bot: Any) -> int:
    """List every check-in past its deadline not listed yet, then send every official's list
    still in the outbox; how many messages went out."""
    now = services.clock.now()
    async with services.sessions() as session:
        due = await due_silences(session, now)
    for broadcast_id in due:
        try:
            async with services.sessions.begin() as session:
                notices = await take_silence(
                    session, broadcast_id, now, services.settings.admin_ids
                )
        except IntegrityError:  # the other job claimed it at the same moment
            continue
        if notices is not None:
            log.info("check-in %s: no-answer list for %d official(s)", broadcast_id, len(notices))
    return await _drain(services, bot)


async def _drain(services: Services, bot: Any) -> int:
    now = services.clock.now()
    async with services.sessions() as session:
        waiting = await unsent_notices(session, now)
    sent = 0
    for broadcast_id, user_id in waiting:
        try:
            async with services.sessions.begin() as session:
                notice = await claim_notice(session, broadcast_id, user_id, now)
        except OperationalError as exc:  # a concurrent run holds the database: next run
            log.info("no-answer list %s/%s not claimed: %s", broadcast_id, user_id, exc)
            continue
        if notice is None:
            continue
        try:
            await bot.send_message(notice.user_id, silence_text(services, notice))
        except TelegramError as exc:
            # Forbidden (never started the bot, blocked it), chat not found: for good.
            permanent = isinstance(exc, Forbidden | BadRequest)
            async with services.sessions.begin() as session:
                gave_up = await notice_failed(
                    session, broadcast_id, user_id, services.clock.now(), str(exc),
                    permanent=permanent,
                )  # fmt: skip
            log.warning(
                "no-answer list of check-in %s not sent to %s (%s): %s",
                broadcast_id, user_id, "given up" if gave_up else "retried later", exc,
            )  # fmt: skip
            continue
        async with services.sessions.begin() as session:
            await notice_sent(session, broadcast_id, user_id, services.clock.now())
        sent += 1
    return sent


async def _run(context: BotContext) -> None:
    await send_silences(context.services, context.bot)


async def _resume(context: BotContext) -> None:
    """Right after start: the lists a crash left claimed or unsent go out now."""
    services = context.services
    async with services.sessions.begin() as session:
        released = await release_claims(session)
    sent = await _drain(services, context.bot)
    if released or sent:
        log.info("check-ins: %d no-answer list(s) resumed after a restart", sent)


async def schedule_deadlines(application: Application[Any, Any, Any, Any, Any, Any]) -> int:
    """One job per check-in deadline still to come, under a predictable name (again after the
    clock jumped, as the rehearsal's does)."""
    services = application.bot_data.services
    job_queue = application.job_queue
    assert job_queue is not None
    async with services.sessions() as session:
        deadlines = await upcoming_deadlines(session)
    count = 0
    for broadcast_id, deadline in deadlines:
        for job in job_queue.get_jobs_by_name(job_name(broadcast_id)):
            job.schedule_removal()
        delay = services.clock.seconds_until(deadline)
        if math.isinf(delay):
            continue
        job_queue.run_once(
            _run,
            when=max(0.0, delay),
            name=job_name(broadcast_id),
            job_kwargs={"misfire_grace_time": None, "coalesce": True},
        )
        count += 1
    return count


async def start_checkin_jobs(application: Application[Any, Any, Any, Any, Any, Any]) -> int:
    """At start: the deadline jobs, rebuilt from the database, and the catch-up job."""
    count = await schedule_deadlines(application)
    job_queue = application.job_queue
    assert job_queue is not None
    job_queue.run_once(_resume, when=0, name="checkin-silences-resume")
    job_queue.run_repeating(
        _run,
        interval=CATCH_UP,
        first=CATCH_UP,
        name="checkin-silences",
        job_kwargs={"max_instances": 1, "coalesce": True},
    )
    log.info("check-ins: %d no-answer job(s) scheduled", count)
    return count
