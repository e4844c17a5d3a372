"""No answer is a signal: after a check-in's deadline its silent groups go to the officials.

One job per check-in waits for its deadline on the replaceable clock (rebuilt from the database
at start); a repeating job catches any the bot was down for or that were made since. The list
is claimed and recorded in the database before it is sent (domain.checkin_silences.take_silence), so
each check-in's list goes out once, whichever job gets there first.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from sqlalchemy.exc import IntegrityError
from telegram.error import TelegramError
from telegram.ext import Application

from bot.context import BotContext
from bot.services import Services
from domain.checkin_silences import SilenceNotice, due_silences, take_silence, upcoming_deadlines
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
    """List every check-in past its deadline not listed yet; how many messages went out."""
    now = services.clock.now()
    async with services.sessions() as session:
        due = await due_silences(session, now)
    sent = 0
    for broadcast_id in due:
        try:
            async with services.sessions.begin() as session:
                notices = await take_silence(
                    session, broadcast_id, now, services.settings.admin_ids
                )
        except IntegrityError:  # the other job claimed it at the same moment
            continue
        for notice in notices or []:
            try:
                await bot.send_message(notice.user_id, silence_text(services, notice))
                sent += 1
            except TelegramError as exc:  # an official who never started the bot, or blocked it
                log.warning(
                    "no-answer list of check-in %s not sent to %s: %s",
                    broadcast_id,
                    notice.user_id,
                    exc,
                )
        if notices is not None:
            log.info(
                "check-in %s: no-answer list sent to %d official(s)", broadcast_id, len(notices)
            )
    return sent


async def _run(context: BotContext) -> None:
    await send_silences(context.services, context.bot)


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
    job_queue.run_repeating(
        _run,
        interval=CATCH_UP,
        first=CATCH_UP,
        name="checkin-silences",
        job_kwargs={"max_instances": 1, "coalesce": True},
    )
    log.info("check-ins: %d no-answer job(s) scheduled", count)
    return count
