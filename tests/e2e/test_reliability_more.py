"""Issue 9 follow-ups through the local Bot API server: a press during a long database lock,
an update the client cannot parse arriving by webhook."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy.engine import make_url

from bot.handlers.acks import AckButtons
from bot.webhook import SECRET_HEADER
from tests.e2e.harness import WEBHOOK_SECRET, Harness, running_kentongan
from tests.e2e.test_acks import ack_message, db_rows, group_in_world, register, send_broadcast

PENDING = "Terima kasih, sedang dicatat. Tidak perlu menekan lagi."


def _ack_buttons(h: Harness) -> AckButtons:
    """The Application's own press handler (to shorten its patience, not to replace it)."""
    for handlers in h.app.handlers.values():
        for handler in handlers:
            owner = getattr(handler.callback, "__self__", None)
            if isinstance(owner, AckButtons):
                return owner
    raise LookupError("no ack handler registered")


async def test_a_press_while_another_process_holds_the_database_is_answered_then_recorded(
    kentongan: Harness,
) -> None:
    h = kentongan
    ketua, warga = h.world.add_user("Pak Ketua"), h.world.add_user("Bu Warga")
    rt = group_in_world(h, "RT 02 RW 04 Sumbersari", admins=[ketua], members=[warga])
    await register(h, rt, "35.73.05.1005", rw=4, rt=2)
    broadcast_id = await send_broadcast(h)
    buttons = _ack_buttons(h)
    # 8 s in production; the behaviour is the same with a shorter wait.
    buttons.config = replace(buttons.config, answer_pending_after=1.0)

    # Another process takes SQLite's write lock and keeps it until the answer has gone out.
    path = make_url(h.settings.database_url).database
    assert path is not None
    held, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        held.set()
        release.wait(60)
        conn.execute("COMMIT")
        conn.close()

    loop = asyncio.get_running_loop()
    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert await loop.run_in_executor(None, held.wait, 10)
        message = ack_message(h, rt, broadcast_id)
        query_id = h.world.press_button(warga, rt, message.message_id, f"ack:{broadcast_id}")
        answered = await h.server.wait_for_callback_answer(query_id, timeout=14)
        assert answered.text == PENDING
        # Answered while the lock is still held: nothing could be written yet.
        assert db_rows(h, "SELECT user_id FROM acknowledgements") == []
    finally:
        release.set()
        await loop.run_in_executor(None, holder.join, 10)
    # The lock gone, the press that was kept is written.
    await h.server.wait_until(
        lambda: db_rows(h, "SELECT user_id FROM acknowledgements") == [(warga.id,)], timeout=30
    )


async def test_an_update_the_client_cannot_parse_by_webhook_is_confirmed_and_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_kentongan(tmp_path, transport="webhook") as h:
        resident = h.world.add_user("Warga", started=True)
        url, headers = h.settings.webhook_url, {SECRET_HEADER: WEBHOOK_SECRET}
        assert url is not None
        # What a Bot API server newer than the pinned client may post: PTB cannot build it.
        bad: dict[str, Any] = {
            "update_id": 3 * 10**9,
            "message": {"message_id": "x", "date": "kemarin", "chat": {"type": "private"}},
        }
        statuses = []
        with caplog.at_level(logging.WARNING):
            async with aiohttp.ClientSession() as session:
                for _ in range(2):  # a second time, as Telegram would resend an error
                    async with session.post(url, json=bad, headers=headers) as response:
                        statuses.append(response.status)
            reply = await h.say(resident, "/start")
        assert statuses == [200, 200]  # confirmed: Telegram does not keep resending it
        assert reply.text  # the bot goes on answering people
        lines = [r.getMessage() for r in caplog.records if "cannot be read" in r.getMessage()]
        assert len(lines) == 1
        assert str(bad["update_id"]) in lines[0] and "kemarin" not in lines[0]
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
