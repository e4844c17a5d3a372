"""bot/ui's small helpers that need the running bot's services: flow_steps and views.reason."""

from __future__ import annotations

from datetime import timedelta

from bot.context import BotContext
from bot.ui.flow_steps import end_flow, save_step
from bot.ui.views import reason, text
from domain import flows
from domain.flows import FlowKind
from tests.e2e.harness import Harness

KIND = FlowKind.POSKO_NOTE


async def current(h: Harness, user_id: int) -> flows.Lookup:
    async with h.services.sessions() as session:
        return await flows.current(session, KIND, user_id, user_id, h.clock.now())


async def test_a_flow_moves_on_and_ends_through_the_handlers_helpers(kentongan: Harness) -> None:
    """bot.ui.flow_steps: what every flow handler does between two screens."""
    h = kentongan
    siti = h.world.add_user("Siti", started=True)
    async with h.services.sessions.begin() as session:
        flow = await flows.start(
            session, KIND, siti.id, siti.id, h.clock.now(), step="tunggu", data={"a": 1}
        )
    h.clock.advance(timedelta(minutes=30))
    context = BotContext(h.app)
    moved = await save_step(context, flow, "lain", b=2)
    assert (moved.step, moved.data, moved.token) == ("lain", {"a": 1, "b": 2}, flow.token)
    assert moved.expires_at == h.clock.now() + flows.TTL[KIND]  # its time starts again
    assert (await current(h, siti.id)).flow == moved
    await end_flow(context, moved)
    assert (await current(h, siti.id)).flow is None


async def test_a_refusal_says_why_and_then_what_to_send_instead(kentongan: Harness) -> None:
    context = BotContext(kentongan.app)
    why = text(context, "ui.alasan", alasan="Nomor harus angka.")
    assert reason(context, ValueError("Nomor harus angka.")) == why
    assert reason(context, "Nomor harus angka.", then="ui.audit.format") == (
        why + "\n" + text(context, "ui.audit.format")
    )
