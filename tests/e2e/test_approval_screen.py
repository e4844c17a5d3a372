"""The approval screen (issue 10): /setujui shows it and never approves by itself; a creator
whose broadcast nobody may approve, or nobody can be reached for, is told what to do."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from db.models import Broadcast, BroadcastStatus, OfficialRole
from domain.broadcasts import Draft, submit
from domain.officials import find_actor
from sandbox.world import User
from tests.authority_fixtures import seed_official
from tests.e2e.harness import Harness, running_kentongan

# Friday 22 November 2024, 09.00 WIB: before masa tenang.
BEFORE_MASA_TENANG = datetime(2024, 11, 22, 2, 0, tzinfo=UTC)
CITY_ADMIN, SILENT_ADMIN = 950001, 950002
TEXT = "Kerja bakti bersihkan selokan RW 5, Minggu pukul 07.00."


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_kentongan(tmp_path, now=BEFORE_MASA_TENANG) as harness:
        yield harness


async def _custom_broadcast(h: Harness, creator: int) -> int:
    async with h.services.sessions.begin() as session:
        actor = await find_actor(session, creator)
        assert actor is not None
        draft = Draft(audience="all", scheduled_at=h.clock.now(), text=TEXT)
        broadcast = await submit(session, actor, draft, h.services.profile, h.clock.now())
        return broadcast.id


async def _status(h: Harness, broadcast_id: int) -> BroadcastStatus:
    async with h.services.sessions() as session:
        broadcast = await session.get(Broadcast, broadcast_id)
        assert broadcast is not None
        return broadcast.status


async def test_setujui_shows_the_screen_and_the_press_approves(h: Harness) -> None:
    async with h.services.sessions.begin() as session:
        await seed_official(session, CITY_ADMIN, OfficialRole.ADMIN, h.clock.now())
    await h.registered_groups(3)
    broadcast_id = await _custom_broadcast(h, CITY_ADMIN)
    root = h.admin()

    header = await h.say(root, f"/setujui {broadcast_id}")
    assert f"Siaran #{broadcast_id} dari petugas {CITY_ADMIN}" in (header.text or "")
    assert "Menjangkau 3 grup" in (header.text or "")
    assert "belum diperiksa ke Telegram" in (header.text or "")  # the reach line (issue 15)
    screen = await h.server.wait_until(
        lambda: [m for m in h.world.bot_messages(root) if m.buttons()] or None
    )
    findings = h.world.bot_messages(root)[-2]
    assert "Periksa sebelum menyetujui" in (findings.text or "")
    assert screen[-1].text == TEXT
    # Showing the screen decided nothing.
    assert await _status(h, broadcast_id) is BroadcastStatus.AWAITING_APPROVAL

    query = h.world.press_button(root, root, screen[-1].message_id, f"p:ok:{broadcast_id}")
    answer = await h.server.wait_for_callback_answer(query)
    assert "disetujui" in (answer.text or "")
    # Scheduled for now: it may already be on its way.
    assert await _status(h, broadcast_id) in (
        BroadcastStatus.SCHEDULED,
        BroadcastStatus.RUNNING,
        BroadcastStatus.DONE,
    )
    again = await h.say(root, f"/setujui {broadcast_id}")
    assert "tidak sedang menunggu persetujuan" in (again.text or "")


async def test_creator_is_told_when_no_admin_may_approve(h: Harness) -> None:
    """The only admin is the root admin who wrote the text: nobody may approve it."""
    root = h.admin()
    await h.registered_groups(1)
    menu = await h.say(root, "/siaran")
    await h.press(root, menu, "✍️ Tulis teks sendiri")
    step = await h.say(root, TEXT)
    when = await h.press(root, step, "Semua grup se-kota")
    assert when is not None
    last = h.world.last_bot_message(root)
    assert last is not None
    now = when.button("Kirim sekarang")["callback_data"]
    h.world.press_button(root, root, when.message_id, now)
    summary = await h.server.wait_for_message(
        root, lambda m: "Pratinjau" in (m.text or ""), after=last.message_id
    )
    await h.press(root, summary, "📨 Ajukan persetujuan")
    told = await h.server.wait_for_message(
        root, lambda m: "Belum ada admin yang boleh menyetujui" in (m.text or "")
    )
    assert "/petugas tambah ID admin" in (told.text or "") and "/batal" in (told.text or "")


async def test_creator_is_told_when_the_approvers_cannot_be_reached(h: Harness) -> None:
    async with h.services.sessions.begin() as session:
        await seed_official(session, CITY_ADMIN, OfficialRole.ADMIN, h.clock.now())
        await seed_official(session, SILENT_ADMIN, OfficialRole.ADMIN, h.clock.now())
    creator: User = h.world.add_user("Admin Kota", user_id=CITY_ADMIN, started=True)
    h.world.add_user("Admin Diam", user_id=SILENT_ADMIN, started=False)
    # The root admin never opened the bot either: nobody who may approve can be reached.
    h.world.add_user("Bu Admin", user_id=910001, started=False)
    await h.registered_groups(1)
    menu = await h.say(creator, "/siaran")
    await h.press(creator, menu, "✍️ Tulis teks sendiri")
    step = await h.say(creator, TEXT)
    when = await h.press(creator, step, "Semua grup se-kota")
    assert when is not None
    last = h.world.last_bot_message(creator)
    assert last is not None
    h.world.press_button(
        creator, creator, when.message_id, when.button("Kirim sekarang")["callback_data"]
    )
    summary = await h.server.wait_for_message(
        creator, lambda m: "Pratinjau" in (m.text or ""), after=last.message_id
    )
    await h.press(creator, summary, "📨 Ajukan persetujuan")
    told = await h.server.wait_for_message(
        creator, lambda m: "belum dapat dihubungi" in (m.text or "")
    )
    assert "/setujui" in (told.text or "")


async def test_a_double_press_on_the_approval_button_is_answered_without_an_error(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 10: "Message is not modified" on the approval button reached a traceback."""
    caplog.set_level(logging.INFO, logger="bot.handlers.approvals")
    async with h.services.sessions.begin() as session:
        await seed_official(session, CITY_ADMIN, OfficialRole.ADMIN, h.clock.now())
    broadcast_id = await _custom_broadcast(h, CITY_ADMIN)
    root = h.admin()
    await h.say(root, f"/setujui {broadcast_id}")
    screen = await h.server.wait_until(
        lambda: [m for m in h.world.bot_messages(root) if m.buttons()] or None
    )
    data = f"p:ok:{broadcast_id}"
    first = h.world.press_button(root, root, screen[-1].message_id, data)
    assert "disetujui" in ((await h.server.wait_for_callback_answer(first)).text or "")
    await h.server.wait_for_call("editMessageReplyMarkup", lambda c: c.ok)
    # The second press of the same (now button-less) message: Telegram answers the edit with
    # "message is not modified"; the person still gets an answer, the log no error.
    second = h.forge_press(root, screen[-1], data)  # a double tap: the client still had it
    answer = await h.server.wait_for_callback_answer(second)
    assert "tidak sedang menunggu persetujuan" in (answer.text or ""), answer.text
    refused = await h.server.wait_for_call("editMessageReplyMarkup", lambda c: not c.ok)
    assert "not modified" in str(refused.result)
    # The handler takes Telegram's refusal in its stride (and says so at INFO) ...
    await h.server.wait_until(
        lambda: any("not modified" in r.getMessage() for r in caplog.records) or None
    )
    # ... rather than ending in the error handler.
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
