"""CallbackKind.parse_or_refuse: a press handler's first line gives the fields, or answers the
press with its kind's "unknown" text; and every handler that starts with it does so for data it
cannot read."""

from __future__ import annotations

import itertools
import time

import pytest
from telegram import Update

from bot.context import BotContext
from bot.ui import callbacks
from bot.ui.callbacks import BROADCAST_DRAFT, FIELD_REPORT, POSKO, CallbackKind
from bot.ui.views import text
from sandbox import CallbackQuery
from sandbox.world import Message, User
from tests.e2e.harness import Harness

_ids = itertools.count(8_000_000_000_000_000_001)


def pressed(h: Harness, user: User, message: Message, data: str) -> tuple[str, Update, BotContext]:
    """A press the server knows (so it can be answered) handed straight to the code under test,
    not to the running bot's handlers."""
    query = CallbackQuery(str(next(_ids)), user, message, data, time.monotonic())
    h.world.callback_queries[query.id] = query
    update = Update.de_json({"update_id": next(_ids), "callback_query": query.to_api()}, h.app.bot)
    assert update is not None
    return query.id, update, BotContext.from_update(update, h.app)


async def a_bot_message(h: Harness, user: User) -> Message:
    return await h.say(user, "/start")


async def test_well_formed_data_gives_the_fields_and_leaves_the_answer_to_the_handler(
    kentongan: Harness,
) -> None:
    h = kentongan
    siti = h.world.add_user("Siti", started=True)
    message = await a_bot_message(h, siti)
    query_id, update, context = pressed(h, siti, message, FIELD_REPORT.build("a1b2c3", "k", "x"))
    press = await FIELD_REPORT.parse_or_refuse(update, context)
    assert press is not None
    assert (press["token"], press["step"], press.args) == ("a1b2c3", "k", ("x",))
    assert not h.world.callback_queries[query_id].answered


@pytest.mark.parametrize("kind", [FIELD_REPORT, BROADCAST_DRAFT, POSKO], ids=lambda k: k.prefix)
async def test_malformed_data_is_answered_with_the_kinds_unknown_text(
    kentongan: Harness, kind: CallbackKind
) -> None:
    h = kentongan
    siti = h.world.add_user("Siti", started=True)
    message = await a_bot_message(h, siti)
    query_id, update, context = pressed(h, siti, message, f"{kind.prefix}:ZZ")
    assert await kind.parse_or_refuse(update, context) is None
    answer = await h.server.wait_for_callback_answer(query_id)
    assert answer.text == text(context, kind.unknown)
    assert answer.show_alert


async def test_a_press_the_handler_cannot_take_is_refused_the_same_way(kentongan: Harness) -> None:
    h = kentongan
    siti = h.world.add_user("Siti", started=True)
    message = await a_bot_message(h, siti)
    query_id, update, context = pressed(h, siti, message, POSKO.build("t", 5))
    assert await POSKO.parse_or_refuse(update, context, valid=False, alert=False) is None
    answer = await h.server.wait_for_callback_answer(query_id)
    assert (answer.text, answer.show_alert) == (text(context, POSKO.unknown), False)


@pytest.mark.parametrize(
    "data",
    ["lp:a1b2c3", "s:ZZZZZZ:no", "ps:x:1", "d:a1b2c3", "pf:h:x", "hd:mungkin", "q:z:1"],
)
async def test_every_handler_refuses_data_it_cannot_read(kentongan: Harness, data: str) -> None:
    """Through the running bot: the kind's handler claims the prefix and answers the press."""
    h = kentongan
    siti = h.world.add_user("Siti", started=True)
    message = await a_bot_message(h, siti)
    kind = next(k for k in callbacks.kinds() if data.startswith(k.prefix + ":"))
    answer = await h.server.wait_for_callback_answer(h.forge_press(siti, message, data))
    assert answer.text == text(BotContext(h.app), kind.unknown)
