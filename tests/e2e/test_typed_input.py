"""bot.ui.typed_input: a flow step that waits for a typed message takes it, or leaves it.

`TypedFlow.take` is called here as PTB calls it, with the running bot's context, on a message
of a user of the local Bot API server: what it answers lands in the server's world.
"""

from __future__ import annotations

import itertools
import logging
from datetime import UTC, datetime, timedelta

import pytest
from telegram import Chat, Message, Update, User
from telegram.ext import ApplicationHandlerStop

from bot.context import BotContext
from bot.ui.typed_input import TypedFlow, consume
from bot.ui.views import text
from domain import flows
from domain.flows import Flow, FlowKind
from tests.e2e.harness import Harness

KIND = FlowKind.POSKO_NOTE
_ids = itertools.count(1)


class Recorder:
    """A step that keeps what it was given, or fails when told to."""

    def __init__(self, *, fail: bool = False) -> None:
        self.seen: list[tuple[str, str | None]] = []
        self.fail = fail

    async def __call__(
        self, update: Update, context: BotContext, flow: Flow, message: Message
    ) -> None:
        self.seen.append((flow.step, message.text))
        if self.fail:
            raise RuntimeError("the step broke")


def spec(step: Recorder, *, claims_all: bool = True) -> TypedFlow:
    return TypedFlow(
        KIND,
        {"tunggu": step},
        expired="ui.posko.tolak.catatan_lama",
        failed="ui.galat.maaf",
        what="test",
        claims=(lambda flow, message, context: claims_all),
    )


def typed(h: Harness, user_id: int, body: str) -> tuple[Update, BotContext]:
    """The update and context PTB would hand a handler for `body` typed in a private chat."""
    message = Message(
        message_id=next(_ids),
        date=datetime.now(UTC),
        chat=Chat(id=user_id, type=Chat.PRIVATE),
        from_user=User(id=user_id, first_name="Siti", is_bot=False),
        text=body,
    )
    message.set_bot(h.app.bot)
    update = Update(update_id=next(_ids), message=message)
    return update, BotContext.from_update(update, h.app)


async def start_flow(h: Harness, user_id: int, step: str) -> Flow:
    async with h.services.sessions.begin() as session:
        return await flows.start(session, KIND, user_id, user_id, h.clock.now(), step=step)


async def current(h: Harness, user_id: int) -> flows.Lookup:
    async with h.services.sessions() as session:
        return await flows.current(session, KIND, user_id, user_id, h.clock.now())


async def test_a_waiting_step_takes_the_message_and_stops_the_update(kentongan: Harness) -> None:
    h = kentongan
    siti = h.world.add_user("Siti", started=True)
    step = Recorder()
    await start_flow(h, siti.id, "tunggu")
    update, context = typed(h, siti.id, "catatan saya")
    with pytest.raises(ApplicationHandlerStop):
        await spec(step).take(update, context)
    assert step.seen == [("tunggu", "catatan saya")]
    assert (await current(h, siti.id)).flow is not None  # the step decides what comes next


async def test_a_message_that_is_not_the_flows_is_left_to_the_next_handlers(
    kentongan: Harness,
) -> None:
    h = kentongan
    siti = h.world.add_user("Siti", started=True)
    step = Recorder()
    update, context = typed(h, siti.id, "halo")
    assert await spec(step).take(update, context) is None  # no flow at all
    await start_flow(h, siti.id, "pilih")  # a step that waits for a press
    assert await spec(step).take(update, context) is None
    await start_flow(h, siti.id, "tunggu")
    assert await spec(step, claims_all=False).take(update, context) is None  # not claimed
    assert step.seen == []
    assert h.world.bot_messages(siti) == []


async def test_an_expired_flow_is_ended_and_said_so(kentongan: Harness) -> None:
    h = kentongan
    siti = h.world.add_user("Siti", started=True)
    step = Recorder()
    await start_flow(h, siti.id, "tunggu")
    h.clock.advance(flows.TTL[KIND] + timedelta(minutes=1))
    update, context = typed(h, siti.id, "terlambat")
    with pytest.raises(ApplicationHandlerStop):
        await spec(step).take(update, context)
    assert step.seen == []
    assert (await current(h, siti.id)).flow is None
    said = await h.server.wait_for_message(siti)
    assert said.text == text(context, "ui.posko.tolak.catatan_lama")


async def test_a_failing_step_is_logged_and_apologised_for(
    kentongan: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h = kentongan
    siti = h.world.add_user("Siti", started=True)
    step = Recorder(fail=True)
    await start_flow(h, siti.id, "tunggu")
    update, context = typed(h, siti.id, "catatan")
    with (
        caplog.at_level(logging.ERROR, logger="bot.ui.typed_input"),
        pytest.raises(ApplicationHandlerStop),
    ):
        await spec(step).take(update, context)
    assert step.seen == [("tunggu", "catatan")]
    assert "typed test input failed" in caplog.text
    said = await h.server.wait_for_message(siti)
    assert said.text == text(context, "ui.galat.maaf")


async def test_consume_stops_the_update_after_a_step_that_worked(kentongan: Harness) -> None:
    h = kentongan
    siti = h.world.add_user("Siti", started=True)
    update, context = typed(h, siti.id, "jawaban")
    assert update.message is not None
    ran: list[str] = []

    async def step() -> None:
        ran.append("ran")

    with pytest.raises(ApplicationHandlerStop):
        await consume(update.message, context, step(), failed="ui.galat.maaf", what="test")
    assert ran == ["ran"]
    assert h.world.bot_messages(siti) == []  # no apology when nothing failed
