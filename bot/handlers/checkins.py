"""Check-in answer buttons under a broadcast, and the leader's short description afterwards.

A press is kept (domain.checkins, written in batches by domain.checkin_writer) and answered
with a short confirmation once it is committed. When its answer opens a report ("Ada
masalah", "Belum" after the deadline), the leader is asked in the group for a description: a
reply to that message, or a private message to the bot, within the flow's time
(domain.flows). Asks wait side by side (one flow per group and leader, a list of asks): a
reply answers its own ask, a private message the oldest one still waiting. Whether the
presser leads the group comes from getChatAdministrators, cached per chat as for the ack
button. A press on a closed check-in (expired or cancelled) is told so, with /lapor as the
way to report a problem; it is not kept.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
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
from domain.flows import Flow, FlowKind, Found
from domain.groups import group_by_chat

log = logging.getLogger(__name__)

DESCRIPTION = FlowKind.CHECKIN_DESCRIPTION

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
        followup = result.followup.id
        # The flow first: a leader quick enough to write before the ask has gone out is heard.
        # One flow per group and leader, each ask appended: a second ask (another check-in, or
        # the same leader's other group) never replaces one still waiting for its description.
        async with services.sessions.begin() as session:
            await _add_pending(session, checkin.chat.id, user_id, followup, services.clock.now())
        try:
            ask = await checkin.reply_text(
                text(context, "checkin.minta_uraian", nama=name or "", jawaban=result.label)
            )
        except TelegramError as exc:  # the report is open all the same; only the ask is lost
            log.info("asking for a check-in description failed: %s", exc)
            return
        async with services.sessions.begin() as session:
            await _set_ask(session, checkin.chat.id, user_id, followup, ask.message_id, services)

    async def on_text(self, update: Update, context: BotContext) -> None:
        """A leader's description: a reply to the bot's ask in the group, or a private message
        (which fills the oldest ask still waiting, in whichever group it was asked)."""
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None or not message.text:
            return
        services = context.services
        now = services.clock.now()
        async with services.sessions() as session:
            waiting = await _waiting(session, user.id, now)
        if message.chat.type == ChatType.PRIVATE:
            chosen = waiting[0] if waiting else None
        else:
            reply = message.reply_to_message
            chosen = next(
                (
                    w
                    for w in waiting
                    if w.chat_id == message.chat.id
                    and reply is not None
                    and w.ask == reply.message_id
                ),
                None,
            )
        if chosen is None:
            return
        try:
            async with services.sessions.begin() as session:
                await add_description(session, chosen.followup, message.text, now, self.opener)
                await _drop_pending(session, chosen, now)
        except DescriptionProblem as problem:
            await message.reply_text(text(context, problem.key, **problem.params))
            raise ApplicationHandlerStop from None
        rest = [w for w in waiting if w is not chosen]
        if message.chat.type == ChatType.PRIVATE and rest:
            body = text(context, "checkin.uraian_untuk_grup", grup=chosen.title)
            body += "\n" + text(
                context, "checkin.uraian_masih_ada", jumlah=len(rest), grup=rest[0].title
            )
        else:
            body = text(context, "checkin.uraian_diterima")
        await message.reply_text(body)
        raise ApplicationHandlerStop


@dataclass(frozen=True)
class _Waiting:
    """One ask still waiting for its description: the group's chat, the follow-up, the ask."""

    flow: Flow
    chat_id: int
    followup: int
    ask: int | None
    title: str


def _pending(flow: Flow) -> list[dict[str, Any]]:
    if "pending" in flow.data:
        return [dict(p) for p in flow.data["pending"]]
    if "followup" in flow.data:  # a flow from before asks were kept per group: one ask
        return [{"followup": flow.data["followup"], "ask": flow.data.get("ask")}]
    return []


def _group_chat(flow: Flow) -> int:
    # Older flows were the leader's own (chat = user) and named the group in their data.
    return (
        int(flow.data.get("chat", flow.chat_id)) if flow.chat_id == flow.user_id else flow.chat_id
    )


async def _add_pending(
    session: AsyncSession, chat_id: int, user_id: int, followup: int, now: datetime
) -> None:
    lookup = await flows.current(session, DESCRIPTION, chat_id, user_id, now)
    if lookup.found is Found.CURRENT and lookup.flow is not None:
        pending = [*_pending(lookup.flow), {"followup": followup, "ask": None}]
        await flows.advance(session, lookup.flow, now, step="uraian", data={"pending": pending})
        return
    await flows.start(
        session, DESCRIPTION, chat_id, user_id, now, step="uraian",
        data={"pending": [{"followup": followup, "ask": None}]},
    )  # fmt: skip


async def _set_ask(
    session: AsyncSession, chat_id: int, user_id: int, followup: int, ask: int, services: Any
) -> None:
    now = services.clock.now()
    lookup = await flows.current(session, DESCRIPTION, chat_id, user_id, now)
    if lookup.flow is None:  # described before the ask's id was saved
        return
    pending = [{**p, "ask": ask} if p["followup"] == followup else p for p in _pending(lookup.flow)]
    await flows.advance(session, lookup.flow, now, step="uraian", data={"pending": pending})


async def _waiting(session: AsyncSession, user_id: int, now: datetime) -> list[_Waiting]:
    """Every ask waiting for this leader's description, the oldest first."""
    found: list[_Waiting] = []
    for flow in await flows.of_user(session, DESCRIPTION, user_id, now):
        chat_id = _group_chat(flow)
        group = await group_by_chat(session, chat_id)
        title = (group.title if group is not None else None) or str(chat_id)
        for p in _pending(flow):
            found.append(_Waiting(flow, chat_id, int(p["followup"]), p.get("ask"), title))
    return sorted(found, key=lambda w: w.followup)


async def _drop_pending(session: AsyncSession, done: _Waiting, now: datetime) -> None:
    flow = done.flow
    rest = [p for p in _pending(flow) if int(p["followup"]) != done.followup]
    if rest:
        await flows.advance(session, flow, now, step="uraian", data={"pending": rest})
    else:
        await flows.end(session, DESCRIPTION, flow.chat_id, flow.user_id)


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
