"""Moving a stored flow (domain.flows) on from a handler: each in a transaction of its own."""

from __future__ import annotations

from typing import Any

from bot.context import BotContext
from domain import flows
from domain.flows import Flow


async def save_step(context: BotContext, flow: Flow, step: str, **data: Any) -> Flow:
    """The flow at its next step, `data` merged in; its time to live starts again."""
    services = context.services
    async with services.sessions.begin() as session:
        return await flows.advance(session, flow, services.clock.now(), step=step, data=data)


async def end_flow(context: BotContext, flow: Flow) -> None:
    """Done or cancelled: the flow's buttons and typed steps are stale from here."""
    async with context.services.sessions.begin() as session:
        await flows.end(session, flow.kind, flow.chat_id, flow.user_id)
