"""Telegram handlers: thin, they read the update, call the domain and reply.

One module per idea, each exposing `handlers()`; `register` adds them in one place, in an order
that matters: PTB stops at the first matching handler of a group, so specific callbacks and
commands come before the residents' catch-all for free text, and the catch-all for presses
nobody declared comes last of all.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

from bot.context import BotContext
from bot.escalation_jobs import start_escalation_sync, sync_escalations
from bot.field_jobs import rebuild_field_jobs
from bot.field_posting import resume_posting
from bot.handlers import (
    acks,
    agendas,
    approvals,
    audit,
    checkins,
    coverage,
    escalation,
    field_reports,
    group_status,
    lapangan,
    membership,
    officials_admin,
    onboarding,
    posko,
    preflight_hints,
    privacy,
    questions,
    registration,
    reports,
    residents,
    siaran,
    topics,
    tps_lookup,
    tps_registry,
)
from bot.handlers.commands import set_commands, set_official_commands
from bot.jobs import rebuild_jobs, start_sync
from bot.preflight_jobs import schedule_preflights
from bot.ui import callbacks
from bot.ui.views import text
from domain import flows
from domain.field.checkin_reports import FieldReports
from domain.officials import list_officials

log = logging.getLogger(__name__)

# How long an expired flow is remembered, so a late press hears "expired" rather than "stale".
EXPIRED_FLOWS_KEPT = timedelta(days=7)


async def on_startup(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Runs in post_init once storage is open: timeline rows, jobs, command lists."""
    from bot.agenda_jobs import start_agenda_sync, sync_agendas_now
    from bot.checkin_jobs import start_checkin_jobs

    services = application.bot_data.services
    # The election timeline is one agenda among others (scheduler.agenda, domain.agendas).
    await sync_agendas_now(services, install=True)
    async with services.sessions.begin() as session:
        purged = await flows.purge_expired(session, services.clock.now(), EXPIRED_FLOWS_KEPT)
    log.info("timeline: agendas synced; %d old flows forgotten", purged)
    await rebuild_jobs(application)
    # Field reports (issue 13): escalation jobs from the open cases; cases still unposted.
    await rebuild_field_jobs(application)
    await resume_posting(application)
    assert application.job_queue is not None
    start_sync(application.job_queue)
    start_agenda_sync(application.job_queue)
    await schedule_preflights(application)
    await sync_escalations(application)
    start_escalation_sync(application.job_queue)
    await start_checkin_jobs(application)
    await set_commands(application.bot, services.profile)
    async with services.sessions() as session:
        officials = await list_officials(session)
    await set_official_commands(application.bot, services.profile, [o.user_id for o in officials])


async def on_error(update: object, context: BotContext) -> None:
    """Log every failure; a handler error must never stop the bot, nor leave a person without
    an answer: a press is answered, a message gets a short apology (no internals)."""
    log.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:
            await callbacks.refuse(update, context, "ui.tombol.gagal")
        elif update.effective_message is not None and update.effective_user is not None:
            await update.effective_message.reply_text(text(context, "ui.galat.maaf"))
    except Exception:  # the apology itself failed (network, chat gone): logged, nothing more
        log.warning("could not apologise for a failed update", exc_info=True)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    # Group -1 runs first: typed input of an official's flow in progress (it stops the update
    # there when it used it, otherwise the residents' free-text answers get it).
    application.add_handlers(siaran.typed_input_handlers(), group=-1)
    # Before that: the answer an official is typing to a resident's question (/pertanyaan).
    application.add_handlers(questions.typed_input_handlers(), group=-2)
    # Before those: a field report's typed steps, photos and location (/lapor), and the note
    # an official types to close a case; each consumes a message only when its flow awaits it.
    application.add_handlers(field_reports.typed_input_handlers(), group=-4)
    application.add_handlers(posko.typed_input_handlers(), group=-3)
    # Check-in answer presses (group 0) and, first of all typed input, a leader's description
    # after an answer that opened a report (its own group). The field report store plugs in here.
    checkins.install(application, FieldReports())
    for module in (
        # Acknowledgement presses first: they must be answered at once, before anything slow.
        acks,
        siaran,
        approvals,
        officials_admin,
        audit,
        reports,
        # Field reports and the posko (issue 13): their own commands and press kinds.
        field_reports,
        posko,
        lapangan,
        onboarding,
        preflight_hints,
        escalation,
        topics,
        # Its private .toml document handler before the TPS registry's (any document).
        agendas,
        # Its /cakupan document handler (by caption) before the TPS registry's (any document).
        coverage,
        membership,
        # Its group-only /start before the residents' private /start.
        registration,
        group_status,
        residents,
        tps_lookup,
        tps_registry,
        questions,
    ):
        application.add_handlers(module.handlers())
    # Last: every other private message, so nothing a resident sends goes unanswered, and
    # every press no kind above claimed (old, forged, garbage), answered and nothing else.
    privacy.install(application)  # /privasi, /hapusdata and the daily retention job
    application.add_handlers(residents.catch_all())
    application.add_handler(CallbackQueryHandler(callbacks.unknown_press))
    application.add_error_handler(on_error)
