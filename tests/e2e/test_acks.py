"""The "✅ Sudah dibaca" button through the local Bot API server, on broadcasts the engine sent."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url

from db.models import (
    Acknowledgement,
    Broadcast,
    BroadcastSource,
    BroadcastStatus,
    Group,
    GroupLevel,
)
from sandbox import Chat, Member, Message, User
from tests.e2e.harness import Harness

THANKS = "Terima kasih, sudah tercatat."
ALREADY = "Sudah tercatat sebelumnya. Terima kasih!"
NOT_HERE = "Tombol ini tidak berlaku untuk pesan ini. Terima kasih."


# -- helpers shared with test_reports ---------------------------------------------------------


def group_in_world(
    h: Harness,
    title: str,
    *,
    admins: list[User],
    members: list[User] = (),  # type: ignore[assignment]
    kind: str = "group",
    anonymous_admins: list[User] = (),  # type: ignore[assignment]
) -> Chat:
    """A group the bot is already a member of (no join update: registration is not tested here)."""
    chat = h.world.add_group(
        title,
        kind,  # type: ignore[arg-type]
        admins=admins,
        members=members,
        anonymous_admins=anonymous_admins,
    )
    chat.bot_member = Member(h.world.bot, "member")
    return chat


async def register(
    h: Harness,
    chat: Chat,
    kelurahan: str,
    *,
    rw: int,
    rt: int | None = None,
) -> int:
    """The group as /daftar would leave it: subscribed, placed in its kelurahan."""
    now = h.clock.now()
    async with h.services.sessions.begin() as session:
        group = Group(
            chat_id=chat.id,
            title=chat.title or "",
            chat_type=chat.type,
            level=GroupLevel.RT if rt is not None else GroupLevel.RW,
            kelurahan_code=kelurahan,
            rw=rw,
            rt=rt,
            active=True,
            subscribed=True,
            subscribed_at=now,
            created_at=now,
            updated_at=now,
        )
        session.add(group)
        await session.flush()
        return group.id


async def send_broadcast(
    h: Harness, text: str = "<b>Pengingat</b> dari Pemkot.", audience: str = "all"
) -> int:
    """A scheduled broadcast run through the real engine: the ack buttons exist in the chats."""
    now = h.clock.now()
    async with h.services.sessions.begin() as session:
        broadcast = Broadcast(
            source=BroadcastSource.CUSTOM,
            text=text,
            audience=audience,
            scheduled_at=now,
            status=BroadcastStatus.SCHEDULED,
            created_at=now,
        )
        session.add(broadcast)
        await session.flush()
        broadcast_id = broadcast.id
    summary = await h.services.broadcasts.run(broadcast_id)
    assert summary.status is BroadcastStatus.DONE, summary
    return broadcast_id


def ack_message(h: Harness, chat: Chat, broadcast_id: int) -> Message:
    for message in reversed(h.world.bot_messages(chat)):
        if any(b.get("callback_data") == f"ack:{broadcast_id}" for b in message.buttons()):
            return message
    raise LookupError(f"no ack button for broadcast {broadcast_id} in {chat.title}")


async def press_ack(h: Harness, user: User, chat: Chat, broadcast_id: int) -> str | None:
    """Press ✅ under the broadcast in `chat`; the text the callback was answered with."""
    message = ack_message(h, chat, broadcast_id)
    query_id = h.world.press_button(user, chat, message.message_id, f"ack:{broadcast_id}")
    return (await h.server.wait_for_callback_answer(query_id)).text


async def forged_answer(h: Harness, user: User, message: Message, data: str) -> str | None:
    """A forged press (see Harness.forge_press); the text it was answered with."""
    return (await h.server.wait_for_callback_answer(h.forge_press(user, message, data))).text


def db_rows(h: Harness, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """A synchronous read of the bot's database, for `server.wait_until` conditions."""
    path = make_url(h.settings.database_url).database
    assert path
    with sqlite3.connect(path, timeout=5) as connection:
        return connection.execute(sql, params).fetchall()


async def acks(h: Harness) -> list[tuple[int, int, bool]]:
    async with h.services.sessions() as session:
        rows = await session.execute(
            select(
                Acknowledgement.delivery_id, Acknowledgement.user_id, Acknowledgement.is_admin
            ).order_by(Acknowledgement.id)
        )
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]


# -- tests ------------------------------------------------------------------------------------


async def test_a_press_is_recorded_once_and_a_second_press_says_so(kentongan: Harness) -> None:
    h = kentongan
    ketua, warga = h.world.add_user("Pak Ketua"), h.world.add_user("Bu Warga")
    rt = group_in_world(h, "RT 01 RW 03 Oro-oro Dowo", admins=[ketua], members=[warga])
    await register(h, rt, "35.73.02.1008", rw=3, rt=1)
    broadcast_id = await send_broadcast(h)

    assert await press_ack(h, warga, rt, broadcast_id) == THANKS
    assert await press_ack(h, warga, rt, broadcast_id) == ALREADY

    rows = await acks(h)
    assert [(user, admin) for _, user, admin in rows] == [(warga.id, False)]
    # The button shows the count once it changed; the second press changed nothing.
    await h.server.wait_for_call(
        "editMessageReplyMarkup", lambda c: c.ok and "(1)" in str(c.params), timeout=5
    )
    assert ack_message(h, rt, broadcast_id).buttons()[0]["text"] == "✅ Sudah dibaca (1)"


async def test_count_on_the_button_follows_presses_without_useless_edits(
    kentongan: Harness,
) -> None:
    h = kentongan
    ketua = h.world.add_user("Pak RW")
    warga = [h.world.add_user(f"Warga {i}") for i in range(3)]
    rw = group_in_world(h, "RW 05 Sumbersari", admins=[ketua], members=warga)
    await register(h, rw, "35.73.05.1005", rw=5)
    broadcast_id = await send_broadcast(h)

    assert await press_ack(h, warga[0], rw, broadcast_id) == THANKS
    await h.server.wait_for_call("editMessageReplyMarkup", lambda c: "(1)" in str(c.params))
    assert await press_ack(h, warga[0], rw, broadcast_id) == ALREADY  # nothing to redraw
    assert await press_ack(h, warga[1], rw, broadcast_id) == THANKS
    assert await press_ack(h, warga[2], rw, broadcast_id) == THANKS
    # Presses close together are drawn together, a few seconds after the last edit.
    await h.server.wait_for_call(
        "editMessageReplyMarkup", lambda c: "(3)" in str(c.params), timeout=10
    )
    edits = h.server.calls_to("editMessageReplyMarkup")
    assert all(c.ok for c in edits), [c.result for c in edits]
    labels = [c.params["reply_markup"]["inline_keyboard"][0][0]["text"] for c in edits]
    assert labels == ["✅ Sudah dibaca (1)", "✅ Sudah dibaca (3)"]
    assert edits[1].at - edits[0].at >= 4.5  # one edit per message every few seconds at most
    button = ack_message(h, rw, broadcast_id).buttons()[0]
    assert button == {"text": "✅ Sudah dibaca (3)", "callback_data": f"ack:{broadcast_id}"}


async def test_the_leaders_press_is_marked_as_the_leaders(kentongan: Harness) -> None:
    h = kentongan
    ketua, wakil, warga = (h.world.add_user(n) for n in ("Pak RT", "Bu Sekretaris", "Mas Warga"))
    anonim = h.world.add_user("Admin Anonim")
    rt = group_in_world(
        h,
        "RT 02 RW 01 Bareng",
        admins=[ketua, wakil],
        members=[warga],
        kind="supergroup",
        anonymous_admins=[anonim],
    )
    await register(h, rt, "35.73.02.1009", rw=1, rt=2)
    broadcast_id = await send_broadcast(h)

    for user in (ketua, warga, anonim, wakil):
        assert await press_ack(h, user, rt, broadcast_id) == THANKS

    expected = {ketua.id: 1, warga.id: 0, anonim.id: 1, wakil.id: 1}
    await h.server.wait_until(
        lambda: dict(db_rows(h, "SELECT user_id, is_admin FROM acknowledgements")) == expected
    )
    # One admin list per chat, however many people press there.
    assert len(h.server.calls_to("getChatAdministrators")) == 1
    names = {r[0] for r in db_rows(h, "SELECT user_name FROM acknowledgements")}
    assert names == {"Pak RT", "Bu Sekretaris", "Mas Warga", "Admin Anonim"}


async def test_forged_or_misplaced_presses_change_nothing(kentongan: Harness) -> None:
    h = kentongan
    ketua_a, ketua_b, warga = (h.world.add_user(n) for n in ("Ketua A", "Ketua B", "Warga"))
    rt_a = group_in_world(h, "RT 01 Kasin", admins=[ketua_a], members=[warga])
    rt_b = group_in_world(h, "RT 02 Kasin", admins=[ketua_b], members=[warga])
    await register(h, rt_a, "35.73.02.1006", rw=1, rt=1)
    first = await send_broadcast(h)
    await register(h, rt_b, "35.73.02.1006", rw=1, rt=2)
    second = await send_broadcast(h, "<b>Pesan kedua</b>")
    first_in_a = ack_message(h, rt_a, first)
    second_in_a = ack_message(h, rt_a, second)
    second_in_b = ack_message(h, rt_b, second)

    # A broadcast that does not exist; another broadcast's id on this message; this
    # broadcast's id on a chat that never got it; a button data that is not a number.
    assert await forged_answer(h, warga, first_in_a, "ack:99999") == NOT_HERE
    assert await forged_answer(h, warga, second_in_a, f"ack:{first}") == NOT_HERE
    assert await forged_answer(h, warga, second_in_b, f"ack:{first}") == NOT_HERE
    assert await forged_answer(h, warga, first_in_a, "ack:satu") == NOT_HERE
    assert await acks(h) == []

    # The genuine buttons still work.
    assert await press_ack(h, warga, rt_a, first) == THANKS
    assert await press_ack(h, warga, rt_b, second) == THANKS
    assert len(await acks(h)) == 2
    answers = h.server.calls_to("answerCallbackQuery")
    assert len(answers) == 6 and all(c.ok for c in answers)
