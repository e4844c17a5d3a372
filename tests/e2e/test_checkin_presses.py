"""Check-in presses through the local Bot API server: a press on a closed check-in is told so
and kept nowhere, after the deadline one still counts, and a stop in a burst loses none."""

from __future__ import annotations

from datetime import timedelta

from db.models import Broadcast, BroadcastSource, BroadcastStatus
from scheduler.checkin import ResolvedCheckIn
from tests.e2e.harness import Harness
from tests.e2e.test_acks import group_in_world, register
from tests.e2e.test_checkins import (
    KEL,
    LOGISTICS,
    asks,
    checkin_message,
    plug_opener,
    press,
    presses,
)

CLOSED = (
    "Cek-in ini sudah ditutup, jawaban tidak dicatat. Bila ada masalah, laporkan dengan /lapor "
    "di grup ini atau di chat pribadi dengan bot."
)
ANSWERED = {
    "Terima kasih, jawaban grup tercatat: Sudah tiba.",
    "Terima kasih, jawaban Anda tercatat: Belum. Jawaban grup diberikan oleh ketua RT/RW "
    "(admin grup).",
}


async def send_checkin(h: Harness, *, deadline: timedelta, expires: timedelta) -> int:
    """The logistics check-in with a deadline and an expiry (answers close at the expiry)."""
    now = h.clock.now()
    async with h.services.sessions.begin() as session:
        broadcast = Broadcast(
            source=BroadcastSource.TIMELINE,
            message_key="checkin.logistik_tiba",
            audience="all",
            scheduled_at=now,
            expires_at=now + expires,
            status=BroadcastStatus.SCHEDULED,
            created_at=now,
            checkin=ResolvedCheckIn(LOGISTICS, now + deadline, "logistik").to_json(),
        )
        session.add(broadcast)
        await session.flush()
        broadcast_id = broadcast.id
    summary = await h.services.broadcasts.run(broadcast_id)
    assert summary.status is BroadcastStatus.DONE, summary
    return broadcast_id


async def test_a_press_after_the_expiry_is_told_the_check_in_is_closed_and_kept_nowhere(
    kentongan: Harness,
) -> None:
    h = kentongan
    opener = plug_opener(h)
    ketua, warga = h.world.add_user("Bu RT", started=True), h.world.add_user("Pak Warga")
    rt = group_in_world(h, "RT 04 RW 02 Oro-oro Dowo", admins=[ketua], members=[warga])
    await register(h, rt, KEL, rw=2, rt=4)
    broadcast_id = await send_checkin(h, deadline=timedelta(hours=4), expires=timedelta(hours=6))

    # After the deadline, before the expiry: "Belum" still counts and opens the report.
    h.clock.advance(timedelta(hours=4, minutes=1))
    before = h.world.last_bot_message(rt)
    assert await press(h, ketua, rt, broadcast_id, "belum") == (
        "Terima kasih, jawaban grup tercatat: Belum."
    )
    await h.server.wait_for_message(rt, asks, after=before.message_id if before else 0)
    assert len(opener.calls) == 1

    # After the expiry: leader and member alike are told it is closed, with /lapor instead.
    h.clock.advance(timedelta(hours=2))
    asked = h.world.last_bot_message(rt)
    message = checkin_message(h, rt, broadcast_id)
    for user, key in ((ketua, "masalah"), (ketua, "sudah"), (warga, "masalah")):
        query_id = h.world.press_button(user, rt, message.message_id, f"ci:{broadcast_id}:{key}")
        late = await h.server.wait_for_callback_answer(query_id)
        assert (late.text, late.show_alert) == (CLOSED, True)
    # Nothing kept, no report opened, no description asked for: the group's answer stands.
    assert await presses(h, broadcast_id) == [(ketua.id, "belum", True)]
    assert len(opener.calls) == 1
    assert h.world.last_bot_message(rt) is asked


async def test_a_press_on_a_cancelled_check_in_is_told_it_is_closed(kentongan: Harness) -> None:
    h = kentongan
    ketua = h.world.add_user("Pak RW")
    rw = group_in_world(h, "RW 09 Oro-oro Dowo", admins=[ketua])
    await register(h, rw, KEL, rw=9)
    broadcast_id = await send_checkin(h, deadline=timedelta(hours=4), expires=timedelta(hours=6))
    async with h.services.sessions.begin() as session:
        broadcast = await session.get(Broadcast, broadcast_id)
        assert broadcast is not None
        broadcast.status = BroadcastStatus.CANCELLED
    assert await press(h, ketua, rw, broadcast_id, "masalah") == CLOSED
    assert await presses(h, broadcast_id) == []


async def test_a_stop_in_the_middle_of_a_burst_loses_no_press(kentongan: Harness) -> None:
    h = kentongan
    chats = await h.registered_groups(12, kelurahan=KEL, members=1)
    broadcast_id = await send_checkin(h, deadline=timedelta(hours=4), expires=timedelta(hours=6))
    pushed = []
    for chat in chats:
        message = checkin_message(h, chat, broadcast_id)
        [leader] = [m.user for m in chat.admins()]
        [member] = [m.user for m in chat.present_members() if not m.is_admin and m.user.id > 0]
        for user, key in ((leader, "sudah"), (member, "belum")):
            data = f"ci:{broadcast_id}:{key}"
            pushed.append(h.world.press_button(user, chat, message.message_id, data))
    # The bot stops (a deploy) while the presses come in, and starts again.
    await h.restart()
    answers = [(await h.server.wait_for_callback_answer(q)).text for q in pushed]
    assert set(answers) == ANSWERED
    kept = await presses(h, broadcast_id)
    assert len(kept) == len(pushed)
    assert sorted(is_admin for _u, _a, is_admin in kept) == [False] * 12 + [True] * 12
