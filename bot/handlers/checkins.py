"""Check-in answer buttons under a broadcast, and the leader's short description afterwards.

A press is kept (domain.checkins, written in batches by domain.checkin_writer) and answered
with a short confirmation once it is committed. When its answer opens a report ("Ada
masalah", "Belum" after the deadline), the leader is asked in the group for a description: a
reply to that message, or a private message to the bot, within the flow's time
(domain.flows). Whether the presser leads the group comes from getChatAdministrators, cached
per chat as for the ack button. A press on a closed check-in (expired or cancelled) is told
so, with /lapor as the way to report a problem; it is not kept.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)

from bot.context import BotContext
from bot.field_posting import resume_posting
from bot.handlers.acks import AckConfig, ChatAdmins
from bot.side_bot import SideBot
from bot.ui.callbacks import CHECKIN, answer, refuse
from bot.ui.views import text
from domain import flows
from domain.checkin_writer import CheckInWriter
from domain.checkins import (
    AnswerResult,
    DescriptionProblem,
    Outcome,
    Press,
    RecordOnly,
    ReportOpener,
    add_description,
)
from domain.flows import FlowKind, Found

log = logging.getLogger(__name__)

_ANSWERED = {
    Outcome.RECORDED: "checkin.tombol.tercatat",
    Outcome.CHANGED: "checkin.tombol.diubah",
    Outcome.MEMBER: "checkin.tombol.warga",
}


class CheckIns:
    """The press and description handlers, sharing the report opener and the admin cache."""

    def __init__(self, opener: ReportOpener | None = None) -> None:
        self.opener: ReportOpener = opener or RecordOnly()
        config = AckConfig()
        self.admins = ChatAdmins(config)
        # Answers and admin look-ups off the interactive bot's limiter (bot.side_bot).
        self.side = SideBot(config.presses_at_once + config.admin_lookups, "checkins")
        self.writer: CheckInWriter | None = None

    def _writer(self, context: BotContext) -> CheckInWriter:
        if self.writer is None:
            services = context.services
            # The opener is read at write time: tests and the app may plug in another one.
            self.writer = CheckInWriter(services.sessions, lambda: self.opener)
            services.closers.append(self.writer.drain)  # runs before the engine is disposed
        return self.writer

    async def on_press(self, update: Update, context: BotContext) -> None:
        """Keep the answer, confirm it, and ask for a description when it opened a report."""
        query = update.callback_query
        if query is None:
            return
        parsed = CHECKIN.parse(query.data)
        message = query.message
        if parsed is None or not isinstance(message, Message):
            await refuse(update, context, CHECKIN.unknown)
            return
        user = query.from_user
        side = await self.side.get(context)
        is_admin = await self.admins.is_admin(side, message.chat.id, user.id)
        press = Press(
            broadcast_id=parsed.number("broadcast"),
            answer=parsed["answer"],
            chat_id=message.chat.id,
            message_id=message.message_id,
            user_id=user.id,
            is_admin=is_admin,
        )
        services = context.services
        try:
            result = await self._writer(context).record(press, services.clock.now())
        except Exception:
            await refuse(update, context, "checkin.tombol.coba_lagi", bot=side)
            raise
        if result.outcome is Outcome.CLOSED:
            log.info("a press on closed check-in %s was not kept", press.broadcast_id)
            await refuse(update, context, "checkin_press.ditutup", bot=side)
            return
        key = _ANSWERED.get(result.outcome)
        if key is None:
            await refuse(update, context, CHECKIN.unknown, bot=side)
            return
        await answer(query, text(context, key, jawaban=result.label), bot=side)
        if result.followup is not None:
            # The answer opened a field case: into its posko now, not at the next minute sweep.
            await resume_posting(context.application)
            await self._ask(context, message, result, user.id, user.first_name)

    async def _ask(
        self, context: BotContext, checkin: Message, result: AnswerResult, user_id: int, name: str
    ) -> None:
        assert result.followup is not None
        services = context.services
        # The flow first: a leader quick enough to write before the ask has gone out is heard.
        async with services.sessions.begin() as session:
            flow = await flows.start(
                session,
                FlowKind.CHECKIN_DESCRIPTION,
                user_id,
                user_id,
                services.clock.now(),
                step="uraian",
                data={"followup": result.followup.id, "chat": checkin.chat.id},
            )
        try:
            ask = await checkin.reply_text(
                text(context, "checkin.minta_uraian", nama=name or "", jawaban=result.label)
            )
        except TelegramError as exc:  # the report is open all the same; only the ask is lost
            log.info("asking for a check-in description failed: %s", exc)
            return
        async with services.sessions.begin() as session:
            await flows.advance(
                session, flow, services.clock.now(), step="uraian", data={"ask": ask.message_id}
            )

    async def on_text(self, update: Update, context: BotContext) -> None:
        """A leader's description: a reply to the bot's ask in the group, or a private message."""
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None or not message.text:
            return
        services = context.services
        now = services.clock.now()
        async with services.sessions() as session:
            lookup = await flows.current(
                session, FlowKind.CHECKIN_DESCRIPTION, user.id, user.id, now
            )
        flow = lookup.flow
        if lookup.found is not Found.CURRENT or flow is None:
            return
        if message.chat.type != ChatType.PRIVATE:
            reply = message.reply_to_message
            if (
                message.chat.id != flow.data.get("chat")
                or reply is None
                or reply.message_id != flow.data.get("ask")
            ):
                return
        try:
            async with services.sessions.begin() as session:
                await add_description(
                    session, int(flow.data["followup"]), message.text, now, self.opener
                )
                await flows.end(session, FlowKind.CHECKIN_DESCRIPTION, user.id, user.id)
        except DescriptionProblem as problem:
            await message.reply_text(text(context, problem.key, **problem.params))
            raise ApplicationHandlerStop from None
        await message.reply_text(text(context, "checkin.uraian_diterima"))
        raise ApplicationHandlerStop


# Typed input runs in groups below 0, one handler per group: /lapor's steps are -4, the posko's
# note -3. The description has a group of its own so that neither can take it first.
CHECKIN_TEXT_GROUP = -5


def install(
    application: Application[Any, Any, Any, Any, Any, Any], opener: ReportOpener | None = None
) -> CheckIns:
    """Register the press handler (group 0) and the description input (its own group, before
    every other typed input: it stops the update only when it took it as a description)."""
    checkins = CheckIns(opener)
    application.add_handler(
        CallbackQueryHandler(checkins.on_press, pattern=CHECKIN.pattern, block=False)
    )
    application.add_handler(
        MessageHandler(filters.TEXT & ~filters.COMMAND, checkins.on_text), group=CHECKIN_TEXT_GROUP
    )
    return checkins
