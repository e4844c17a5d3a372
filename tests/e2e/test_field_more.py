"""Field gaps through the local Bot API server: a leader asked for two descriptions at once;
the no-answer list sent at least once per official and never twice; every photo of a case in
the posko."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.checkin_jobs import send_silences
from db.models import CheckInFollowUp, FieldReport, Official, OfficialRole
from domain.checkin_silences import claim_notice, take_silence
from sandbox import Fault, Message, User
from tests.e2e.field_helpers import label, make_posko, posko_group, reply, reply_photo
from tests.e2e.harness import Harness
from tests.e2e.test_acks import group_in_world, register
from tests.e2e.test_checkins import KEL, asks, plug_opener, press, send_checkin

DONE = "✅ Terima kasih, uraian masalah sudah diteruskan ke petugas Pemkot."


async def descriptions(h: Harness) -> dict[int, str | None]:
    async with h.services.sessions() as session:
        rows = (await session.scalars(select(CheckInFollowUp))).all()
    return {row.group_id: row.description for row in rows}


async def test_a_leader_asked_in_two_groups_loses_neither_description(kentongan: Harness) -> None:
    h = kentongan
    plug_opener(h)
    ketua = h.world.add_user("Pak RW", started=True)
    rw = group_in_world(h, "RW 03 Oro-oro Dowo", admins=[ketua])
    rt = group_in_world(h, "RT 01 RW 03 Oro-oro Dowo", admins=[ketua])
    rw_id = await register(h, rw, KEL, rw=3)
    rt_id = await register(h, rt, KEL, rw=3, rt=1)
    broadcast_id = await send_checkin(h)

    # "Ada masalah" in both groups: two asks, the second does not replace the first.
    before_rw, before_rt = h.world.last_bot_message(rw), h.world.last_bot_message(rt)
    await press(h, ketua, rw, broadcast_id, "masalah")
    ask_rw = await h.server.wait_for_message(rw, asks, after=before_rw.message_id)  # type: ignore[union-attr]
    await press(h, ketua, rt, broadcast_id, "masalah")
    await h.server.wait_for_message(rt, asks, after=before_rt.message_id)  # type: ignore[union-attr]

    # The reply in the first group goes to the first group's report.
    h.world.user_sends(ketua, rw, "Kotak suara TPS 07 belum datang.", reply_to=ask_rw)
    done = await h.server.wait_for_message(rw, lambda m: m.text == DONE, after=ask_rw.message_id)
    assert done.text == DONE
    assert await descriptions(h) == {rw_id: "Kotak suara TPS 07 belum datang.", rt_id: None}
    # The second group's ask still waits: a private message fills it, naming the group.
    reply = await h.say(ketua, "Bilik suara TPS 08 kurang satu.")
    assert reply.text == DONE
    assert await descriptions(h) == {
        rw_id: "Kotak suara TPS 07 belum datang.",
        rt_id: "Bilik suara TPS 08 kurang satu.",
    }


async def test_private_descriptions_fill_the_waiting_asks_oldest_first(kentongan: Harness) -> None:
    h = kentongan
    plug_opener(h)
    ketua = h.world.add_user("Bu RW", started=True)
    rw = group_in_world(h, "RW 04 Oro-oro Dowo", admins=[ketua])
    rt = group_in_world(h, "RT 02 RW 04 Oro-oro Dowo", admins=[ketua])
    rw_id = await register(h, rw, KEL, rw=4)
    rt_id = await register(h, rt, KEL, rw=4, rt=2)
    broadcast_id = await send_checkin(h)
    for chat in (rw, rt):
        before = h.world.last_bot_message(chat)
        await press(h, ketua, chat, broadcast_id, "masalah")
        await h.server.wait_for_message(chat, asks, after=before.message_id)  # type: ignore[union-attr]

    first = await h.say(ketua, "Logistik RW 04 belum datang.")
    # Said for which group, and that the next message goes to the other one.
    assert "«RW 04 Oro-oro Dowo»" in (first.text or "")
    assert "Masih ada 1 permintaan uraian" in (first.text or "")
    assert "«RT 02 RW 04 Oro-oro Dowo»" in (first.text or "")
    second = await h.say(ketua, "Logistik RT 02 belum datang.")
    assert second.text == DONE
    assert await descriptions(h) == {
        rw_id: "Logistik RW 04 belum datang.",
        rt_id: "Logistik RT 02 belum datang.",
    }


# -- the no-answer list: at least once per official, never twice ----------------------------------

LISTED = "Belum ada jawaban"


async def silent_checkin(h: Harness) -> tuple[User, int]:
    """A camat's official and a check-in whose one group stayed silent, past its deadline."""
    camat = h.world.add_user("Pak Camat Klojen", started=True)
    async with h.services.sessions.begin() as session:
        session.add(
            Official(
                user_id=camat.id, role=OfficialRole.ADMIN, kecamatan_code="35.73.02",
                active=True, added_at=h.clock.now(),
            )
        )  # fmt: skip
    leader = h.world.add_user("Ketua RT 05")
    chat = group_in_world(h, "RT 05 RW 03", admins=[leader])
    await register(h, chat, KEL, rw=3, rt=5)
    broadcast_id = await send_checkin(h, deadline=timedelta(hours=1))
    h.clock.advance(timedelta(hours=1, minutes=1))
    return camat, broadcast_id


def lists_to(h: Harness, user: User) -> int:
    return sum(1 for m in h.world.bot_messages(user) if LISTED in (m.text or ""))


def outbox(h: Harness, broadcast_id: int, user: User) -> list[tuple[Any, ...]]:
    return h.db_rows(
        "SELECT attempts, claimed_at IS NULL, sent_at IS NOT NULL, failed_at IS NOT NULL "
        "FROM checkin_silence_notices WHERE broadcast_id = ? AND user_id = ?",
        broadcast_id,
        user.id,
    )


@pytest.mark.both_databases
async def test_a_failed_send_of_the_no_answer_list_is_sent_on_the_next_run_once(
    kentongan: Harness,
) -> None:
    h = kentongan
    root = h.admin()
    camat, broadcast_id = await silent_checkin(h)
    fault = h.server.add_fault(Fault("server_error", method="sendMessage", chat_id=camat.id))
    # The list is recorded (claimed) and the root admin's copy goes; the camat's send fails.
    assert await send_silences(h.services, h.app.bot) == 1
    assert lists_to(h, root) == 1 and lists_to(h, camat) == 0
    assert fault.fired >= 1
    assert outbox(h, broadcast_id, camat) == [(1, True, False, False)]  # waits, not given up
    h.server.faults.rules.remove(fault)
    # The next run sends the camat's copy, and only it; a third sends nothing.
    assert await send_silences(h.services, h.app.bot) == 1
    assert await send_silences(h.services, h.app.bot) == 0
    assert (lists_to(h, root), lists_to(h, camat)) == (1, 1)
    assert outbox(h, broadcast_id, camat) == [(2, False, True, False)]
    rows = h.db_rows(
        "SELECT silent_groups, recipients FROM checkin_silences WHERE broadcast_id = ?",
        broadcast_id,
    )
    assert rows == [(1, 2)]


async def test_a_list_claimed_when_the_bot_stopped_goes_out_after_the_restart_once(
    kentongan: Harness,
) -> None:
    h = kentongan
    root = h.admin()
    camat, broadcast_id = await silent_checkin(h)
    # The bot claims the list and every copy, then stops before sending any (a crash).
    async with h.services.sessions.begin() as session:
        notices = await take_silence(session, broadcast_id, h.clock.now(), {root.id})
    assert notices is not None and {n.user_id for n in notices} == {root.id, camat.id}
    for user in (root, camat):
        async with h.services.sessions.begin() as session:
            assert await claim_notice(session, broadcast_id, user.id, h.clock.now()) is not None
    # Still claimed (a send may be under way): another run leaves it alone.
    assert await send_silences(h.services, h.app.bot) == 0
    await h.restart()
    await h.server.wait_until(lambda: lists_to(h, camat) == 1 and lists_to(h, root) == 1)
    await h.server.wait_until(lambda: outbox(h, broadcast_id, camat) == [(2, False, True, False)])
    assert await send_silences(h.services, h.app.bot) == 0
    assert (lists_to(h, root), lists_to(h, camat)) == (1, 1)


async def test_an_official_who_never_started_the_bot_is_given_up_not_retried(
    kentongan: Harness,
) -> None:
    h = kentongan
    h.admin()
    _, broadcast_id = await silent_checkin(h)
    stranger = h.world.add_user("Bu Camat Baru")  # never started the bot: 403
    async with h.services.sessions.begin() as session:
        session.add(
            Official(
                user_id=stranger.id, role=OfficialRole.OPERATOR, kecamatan_code="35.73.02",
                active=True, added_at=h.clock.now(),
            )
        )  # fmt: skip
    assert await send_silences(h.services, h.app.bot) == 2  # the root admin and the camat
    assert outbox(h, broadcast_id, stranger) == [(1, True, False, True)]
    assert await send_silences(h.services, h.app.bot) == 0
    assert outbox(h, broadcast_id, stranger) == [(1, True, False, True)]


# -- every photo of a case in the posko ----------------------------------------------------------


async def test_the_posko_shows_every_photo_of_a_case_as_replies_to_its_card(
    kentongan: Harness,
) -> None:
    h = kentongan
    posko = posko_group(h)
    made = await make_posko(h, posko)
    [first] = await h.registered_groups(1)
    leader = first.admins()[0].user
    start = await h.say(leader, "/lapor", first)
    step = await h.press(leader, start, "📦 Logistik belum tiba", chat=first)
    assert step is not None
    step = await h.press(leader, step, label(h, "ui.lapor.tombol_lewati"), chat=first)
    assert step is not None
    step = await reply(h, leader, first, step, "Kotak suara belum datang, tiga foto.")
    for _ in range(3):
        got = await reply_photo(h, leader, first, step)
    summary = await h.press(leader, got, label(h, "ui.lapor.tombol_lanjut"), chat=first)
    assert summary is not None
    done = await h.press(leader, summary, label(h, "ui.lapor.tombol_kirim"), chat=first)
    assert done is not None and "Laporan #1 diterima" in (done.text or "")

    card = await h.server.wait_for_message(posko, lambda m: bool(m.photo), after=made.message_id)
    async with h.services.sessions() as session:
        [report] = (await session.scalars(select(FieldReport))).all()
    assert len(report.photos) == 3
    assert card.photo[-1]["file_id"] == report.photos[0]  # type: ignore[index]

    def replies() -> list[Message]:
        return [m for m in h.world.bot_messages(posko) if m.reply_to is card and m.photo]

    extra = await h.server.wait_until(lambda: replies() if len(replies()) == 2 else None)
    assert [m.photo[-1]["file_id"] for m in extra] == report.photos[1:]
    assert [m.caption for m in extra] == [
        label(h, "ui.posko.foto_kasus", nomor=1, ke=2, jumlah=3),
        label(h, "ui.posko.foto_kasus", nomor=1, ke=3, jumlah=3),
    ]
    # Photos are sent by file id, never uploaded or downloaded again.
    sends = [c for c in h.server.calls_to("sendPhoto") if c.params.get("chat_id") == posko.id]
    assert sends and all(isinstance(c.params.get("photo"), str) for c in sends), sends
    assert not h.server.calls_to("getFile")
