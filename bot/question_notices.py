"""Officials hear of residents' questions in their inbox: one private notice at once, then at
most one per official per interval, with a count (the policy is ``domain.inbox_notices``).

Questions that arrive within an official's interval wait; a job (``SWEEP_JOB``, started when
the first one waits and gone when nobody does) tells each waiting official once their interval
is over, on the bot's clock, of whatever is still open.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from telegram.error import TelegramError
from telegram.ext import JobQueue

from bot.context import BotContext
from bot.ui.views import text
from domain.inbox_notices import officials_for, untold

log = logging.getLogger(__name__)

SWEEP_JOB = "inbox-notices"
SWEEP_SECONDS = 30.0  # the most a waiting notice is late by, in real seconds


async def notify_officials(context: BotContext, question_id: int) -> None:
    """A question was forwarded: tell each official it concerns, or let them wait."""
    services = context.services
    throttle = context.bot_data.inbox_notices
    async with services.sessions() as session:
        officials = await officials_for(session, question_id)
    now = services.clock.now()
    for official_id in officials:
        if throttle.arrived(official_id, now):
            await tell(context, official_id)
    due = throttle.next_due(now)
    jobs: JobQueue[Any] | None = context.job_queue
    if due is not None and jobs is not None and not jobs.get_jobs_by_name(SWEEP_JOB):
        first = services.clock.seconds_until(due)
        jobs.run_repeating(
            sweep,
            interval=SWEEP_SECONDS,
            first=SWEEP_SECONDS if math.isinf(first) else min(first, SWEEP_SECONDS),
            name=SWEEP_JOB,
            job_kwargs={"id": SWEEP_JOB, "replace_existing": True, "misfire_grace_time": None},
        )


async def sweep(context: BotContext) -> None:
    """Tell the waiting officials whose interval is over; stop when nobody waits."""
    throttle = context.bot_data.inbox_notices
    now = context.services.clock.now()
    for official_id in throttle.due(now):
        await tell(context, official_id)
    if throttle.next_due(now) is None and context.job is not None:
        context.job.schedule_removal()


async def tell(context: BotContext, official_id: int) -> None:
    """Send one official the count of open questions they have not been told of."""
    services = context.services
    throttle = context.bot_data.inbox_notices
    # A sweep and a handler may tell the same official at once: one counts, the other then
    # finds nothing new.
    async with throttle.lock:
        async with services.sessions() as session:
            count, newest = await untold(session, official_id, throttle.last_question(official_id))
        if not count:
            return  # answered in the meantime, or no longer an official
        throttle.told(official_id, newest, services.clock.now())
    try:
        await context.bot.send_message(official_id, text(context, "pertanyaan.masuk", jumlah=count))
    except TelegramError as exc:  # an official who never started the bot cannot be reached
        log.info("could not tell official %s of %s question(s): %s", official_id, count, exc)
