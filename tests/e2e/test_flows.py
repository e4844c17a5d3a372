"""Flows survive a restart of the bot: /daftar and /siaran continue where they were; an expired
flow says so; a press nobody declared is answered and changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from db.models import Broadcast, BroadcastStatus, Group
from sandbox import CallbackAnswer, Chat, Message, User
from tests.e2e.harness import Harness, running_kentongan

SUMBERSARI = "35.73.05.1005"
# Friday 22 November 2024, 09.00 WIB: before masa tenang, a library broadcast needs no approval.
BEFORE_MASA_TENANG = datetime(2024, 11, 22, 2, 0, tzinfo=UTC)


@pytest.fixture
async def early(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_kentongan(tmp_path, now=BEFORE_MASA_TENANG) as harness:
        yield harness


async def press(h: Harness, user: User, message: Message, label: str, chat: Chat) -> CallbackAnswer:
    """Press a flow button in a group; the callback answer (the message is edited by then)."""
    query_id = h.world.press_button(
        user, chat, message.message_id, message.button(label)["callback_data"]
    )
    return await h.server.wait_for_callback_answer(query_id)


def group_with_admin(h: Harness) -> tuple[Chat, User]:
    admin = h.world.add_user("Pak RW")
    chat = h.world.add_group("Warga RW 05", "group", admins=[admin])
    h.world.add_bot_to_group(chat, by=admin)
    return chat, admin


async def test_daftar_continues_after_a_restart(kentongan: Harness) -> None:
    h = kentongan
    chat, admin = group_with_admin(h)
    await h.server.wait_for_message(chat)
    flow = await h.say(admin, "/daftar", chat)
    await press(h, admin, flow, "Kec. Lowokwaru", chat)
    assert "Langkah 2 dari 4" in (flow.text or "")

    await h.restart()

    answer = await press(h, admin, flow, "Sumbersari", chat)
    assert answer.text is None  # a step, not a refusal
    assert "Langkah 3 dari 4" in (flow.text or "")
    await press(h, admin, flow, "Grup RW", chat)
    await h.restart()
    await press(h, admin, flow, "5", chat)
    assert "Periksa sebelum disimpan" in (flow.text or "")
    save = flow.button("✅ Simpan")["callback_data"]
    answer = await press(h, admin, flow, "✅ Simpan", chat)
    assert answer.text == "Tersimpan."
    async with h.services.sessions() as session:
        group = await session.scalar(select(Group).where(Group.chat_id == chat.id))
    assert group is not None and group.subscribed
    assert (group.kelurahan_code, group.rw, group.rt) == (SUMBERSARI, 5, None)
    # The flow ended with the save: its buttons are stale now, and say so.
    assert flow.buttons() == []
    answer = await h.server.wait_for_callback_answer(h.forge_press(admin, flow, save))
    assert answer.text is not None and "alur lama" in answer.text
    assert h.world.unanswered_callbacks() == []


async def test_siaran_continues_after_a_restart_at_each_kind_of_step(early: Harness) -> None:
    h = early
    groups = await h.registered_groups(2)
    admin = h.admin()
    menu = await h.say(admin, "/siaran")
    step = await h.press(admin, menu, "Saring sebelum berbagi")
    assert step is not None and "Kirim ke siapa" in (step.text or "")

    await h.restart()  # between two presses

    step = await h.press(admin, step, "Semua grup se-kota")
    assert step is not None and "Kapan" in (step.text or "")
    ask = await h.press(admin, step, "🕒 Tulis waktu")
    assert ask is not None and "Tulis waktu" in (ask.text or "")

    await h.restart()  # while the flow waits for a typed answer

    summary = await h.say(admin, "sekarang", match=lambda m: "Pratinjau" in (m.text or ""))
    assert "2 grup" in (summary.text or "")
    await h.press(admin, summary, "✅ Kirim")
    for group in groups:
        got = await h.server.wait_for_message(group, lambda m: bool(m.buttons()))
        assert "saring" in (got.text or "").lower()
    async with h.services.sessions() as session:
        broadcast = await session.scalar(select(Broadcast).where(Broadcast.created_by == admin.id))
    assert broadcast is not None and broadcast.message_key is not None
    assert broadcast.status in (
        BroadcastStatus.SCHEDULED,
        BroadcastStatus.RUNNING,
        BroadcastStatus.DONE,
    )


async def test_custom_text_typed_after_a_restart_is_the_flows(early: Harness) -> None:
    h = early
    admin = h.admin()
    menu = await h.say(admin, "/siaran")
    prompt = await h.press(admin, menu, "✍️ Tulis teks sendiri")
    assert prompt is not None and "netralitas" in (prompt.text or "")
    await h.restart()
    step = await h.say(admin, "Kerja bakti bersihkan lingkungan TPS 12, Minggu pagi.")
    # Not answered as a resident's question: the flow took it and asks for the audience.
    assert "Kirim ke siapa" in (step.text or "")


async def test_expired_flows_say_so(early: Harness) -> None:
    h = early
    chat, admin = group_with_admin(h)
    await h.server.wait_for_message(chat)
    flow = await h.say(admin, "/daftar", chat)
    official = h.admin()
    menu = await h.say(official, "/siaran")
    prompt = await h.press(official, menu, "✍️ Tulis teks sendiri")
    assert prompt is not None

    h.clock.advance(timedelta(days=2))
    await h.restart()

    answer = await press(h, admin, flow, "Kec. Klojen", chat)
    assert answer.text is not None and "kedaluwarsa" in answer.text and "/daftar" in answer.text
    assert "Langkah 1 dari 4" in (flow.text or "")
    reply = await h.say(official, "Kerja bakti Minggu pagi.")
    assert "kedaluwarsa" in (reply.text or "") and "/siaran" in (reply.text or "")
    # Told once: the flow is gone, so the next text is a resident's question again.
    reply = await h.say(official, "kapan coblosan?")
    assert "kedaluwarsa" not in (reply.text or "")


async def test_a_press_nobody_declared_is_answered_and_nothing_is_posted(
    kentongan: Harness,
) -> None:
    h = kentongan
    chat, admin = group_with_admin(h)
    greeting = await h.server.wait_for_message(chat)
    before = len(h.world.bot_messages(chat))
    for data in ("zz:1", "x", "d:", "d:123456:k:" + "9" * 60, "ack:1:2", "p:maybe:1"):
        answer = await h.server.wait_for_callback_answer(h.forge_press(admin, greeting, data))
        assert answer.text is not None and "tidak" in answer.text, data
    assert len(h.world.bot_messages(chat)) == before
    assert h.world.unanswered_callbacks() == []
