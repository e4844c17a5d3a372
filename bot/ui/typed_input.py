"""Typed input for a flow step that waits for it: one way for every flow.

A message handler in a group below 0 (bot.handlers.register) asks `TypedFlow.take` whether the
message is its flow's: no flow, a step that types nothing, or a message the flow does not claim
(a reply to another prompt) is left to the next handlers. From there the message is the flow's,
answered or refused: an expired flow is ended and said so, a step's failure is logged and
apologised for, and no other handler sees the message (ApplicationHandlerStop).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import NoReturn

from telegram import Message, Update
from telegram.ext import ApplicationHandlerStop

from bot.context import BotContext
from bot.ui.flow_steps import end_flow
from bot.ui.views import text
from domain import flows
from domain.flows import Flow, FlowKind, Found

log = logging.getLogger(__name__)

# One waiting step: what to do with the message typed for it.
TypedStep = Callable[[Update, BotContext, Flow, Message], Awaitable[None]]


def sender(message: Message) -> int | None:
    """Whose flow a message continues, by default: its sender's."""
    return message.from_user.id if message.from_user is not None else None


def any_message(flow: Flow, message: Message, context: BotContext) -> bool:
    return True


async def consume(
    message: Message, context: BotContext, step: Awaitable[None], *, failed: str, what: str
) -> NoReturn:
    """Run `step` for a message that is a flow's; apologise (`failed`) if it raises; stop the
    update either way, so that no later handler answers it a second time."""
    try:
        await step
    except Exception:
        log.exception("typed %s input failed", what)
        await message.reply_text(text(context, failed))
    raise ApplicationHandlerStop


@dataclass(frozen=True)
class TypedFlow:
    """How one kind of flow takes typed messages.

    `steps`: the flow steps that wait for a message, each with what it does with one.
    `expired`, `failed`: library keys said when the flow ran out of time, or a step failed.
    `who`: the flow's user id for a message (None: not a flow's message at all).
    `claims`: whether a found flow takes this message (e.g. only a reply to its prompt).
    """

    kind: FlowKind
    steps: Mapping[str, TypedStep]
    expired: str
    failed: str
    what: str  # for the log: "/lapor", "posko note"
    who: Callable[[Message], int | None] = sender
    claims: Callable[[Flow, Message, BotContext], bool] = any_message

    async def take(self, update: Update, context: BotContext) -> None:
        """The MessageHandler callback: returns when the message is not this flow's, else
        raises ApplicationHandlerStop after answering it."""
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None:
            return
        user_id = self.who(message)
        if user_id is None:
            return
        services = context.services
        async with services.sessions() as session:
            lookup = await flows.current(session, self.kind, chat.id, user_id, services.clock.now())
        flow = lookup.flow
        if flow is None or flow.step not in self.steps or not self.claims(flow, message, context):
            return  # not ours: the next handlers answer it
        step: Awaitable[None]
        if lookup.found is Found.EXPIRED:
            step = self._expire(flow, message, context)
        else:
            step = self.steps[flow.step](update, context, flow, message)
        await consume(message, context, step, failed=self.failed, what=self.what)

    async def _expire(self, flow: Flow, message: Message, context: BotContext) -> None:
        await end_flow(context, flow)
        await message.reply_text(text(context, self.expired))
