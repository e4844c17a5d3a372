"""Check-ins through the local Bot API server: sent by the engine, answered, reported, missed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from telegram.ext import CallbackQueryHandler

from bot.checkin_jobs import send_silences
from bot.handlers.checkins import CheckIns
from bot.ui.callbacks import CHECKIN
from db.models import (
    Broadcast,
    BroadcastSource,
    BroadcastStatus,
    CheckInAnswer,
    CheckInFollowUp,
    FieldCase,
    FieldReport,
    Official,
    OfficialRole,
)
from domain.checkin_counts import checkin_counts
from domain.checkins import group_answer
from sandbox import Chat, Message, User
from scheduler.checkin import CheckInAnswer as Answer
from scheduler.checkin import ResolvedCheckIn
from tests.e2e.harness import Harness
from tests.e2e.test_acks import forged_answer, group_in_world, register, send_broadcast

KEL = "35.73.02.1008"  # Oro-oro Dowo, Klojen
LOGISTICS = (
    Answer("sudah", "Sudah tiba"),
    Answer("belum", "Belum", "after_deadline"),
    Answer("masalah", "Ada masalah", "now"),
)
REFUSED = (
    "Tombol ini tidak berlaku untuk pesan ini. Jawablah dengan tombol di bawah pertanyaan "
    "cek-in yang dikirim ke grup ini."
)


@dataclass
class RecordingOpener:
    """The field reports' store as seen from here: what it was asked to open."""

    calls: list[dict[str, Any]] = field(default_factory=list)

    async def open_report(self, session: AsyncSession, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        return len(self.calls)


def plug_opener(h: Harness) -> RecordingOpener:
    """The report opener the running bot was built with, replaced by a recording one."""
    opener = RecordingOpener()
    for group in h.app.handlers.values():
        for handler in group:
            pattern = getattr(handler, "pattern", None)
            if isinstance(handler, CallbackQueryHandler) and pattern is not None:
                if pattern.pattern != CHECKIN.pattern:
                    continue
                owner = handler.callback.__self__  # type: ignore[attr-defined]
                assert isinstance(owner, CheckIns)
                owner.opener = opener
                return opener
    raise LookupError("no check-in handler")


async def send_checkin(h: Harness, *, deadline: timedelta = timedelta(hours=4)) -> int:
    """The H-1 logistics check-in as a broadcast the engine sends now."""
    now = h.clock.now()
    checkin = ResolvedCheckIn(LOGISTICS, now + deadline, "logistik")
    async with h.services.sessions.begin() as session:
        broadcast = Broadcast(
            source=BroadcastSource.TIMELINE,
            message_key="checkin.logistik_tiba",
            audience="all",
            scheduled_at=now,
            status=BroadcastStatus.SCHEDULED,
            created_at=now,
            checkin=checkin.to_json(),
        )
        session.add(broadcast)
        await session.flush()
        broadcast_id = broadcast.id
    summary = await h.services.broadcasts.run(broadcast_id)
    assert summary.status is BroadcastStatus.DONE, summary
    return broadcast_id


def asks(message: Message) -> bool:
    """The bot's request for a description after an answer that opened a report."""
    return "balas pesan ini" in (message.text or "")


def checkin_message(h: Harness, chat: Chat, broadcast_id: int) -> Message:
    for message in reversed(h.world.bot_messages(chat)):
        if any(
            str(b.get("callback_data", "")).startswith(f"ci:{broadcast_id}:")
            for b in message.buttons()
        ):
            return message
    raise LookupError(f"no check-in {broadcast_id} in {chat.title}")


async def press(h: Harness, user: User, chat: Chat, broadcast_id: int, key: str) -> str | None:
    message = checkin_message(h, chat, broadcast_id)
    query_id = h.world.press_button(user, chat, message.message_id, f"ci:{broadcast_id}:{key}")
    return (await h.server.wait_for_callback_answer(query_id)).text


async def presses(h: Harness, broadcast_id: int) -> list[tuple[int, str, bool]]:
    async with h.services.sessions() as session:
        rows = await session.execute(
            select(CheckInAnswer.user_id, CheckInAnswer.answer, CheckInAnswer.is_admin)
            .where(CheckInAnswer.broadcast_id == broadcast_id)
            .order_by(CheckInAnswer.id)
        )
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]


# -- tests ------------------------------------------------------------------------------------


async def test_the_pilkada_logistics_check_in_goes_out_and_leaders_and_members_answer(
    kentongan: Harness,
) -> None:
    h = kentongan
    ketua, warga = h.world.add_user("Pak Ketua"), h.world.add_user("Bu Warga")
    rt = group_in_world(h, "RT 01 RW 03 Oro-oro Dowo", admins=[ketua], members=[warga])
    group_id = await register(h, rt, KEL, rw=3, rt=1)
    # H-1 17.00 WIB: the timeline's logistics check-in is due (with what came before it).
    h.clock.set(datetime(2024, 11, 26, 10, 0, tzinfo=UTC))
    await h.run_due()
    async with h.services.sessions() as session:
        broadcast_id = await session.scalar(
            select(Broadcast.id).where(
                Broadcast.timeline_key == "pilkada-2024-kota-malang:h1-cek-logistik"
            )
        )
    assert broadcast_id is not None
    message = checkin_message(h, rt, broadcast_id)
    assert "sudah tiba di TPS di wilayah Anda?" in (message.text or "")
    assert [b["text"] for b in message.buttons()] == ["Sudah tiba", "Belum", "Ada masalah"]
    assert not any(str(b["callback_data"]).startswith("ack:") for b in message.buttons())

    assert await press(h, warga, rt, broadcast_id, "masalah") == (
        "Terima kasih, jawaban Anda tercatat: Ada masalah. Jawaban grup diberikan oleh ketua "
        "RT/RW (admin grup)."
    )
    assert await press(h, ketua, rt, broadcast_id, "belum") == (
        "Terima kasih, jawaban grup tercatat: Belum."
    )
    assert await press(h, ketua, rt, broadcast_id, "sudah") == (
        "Jawaban grup diubah menjadi: Sudah tiba. Terima kasih."
    )
    # Every press kept; the group's answer is the leader's latest; a member opened nothing.
    assert await presses(h, broadcast_id) == [
        (warga.id, "masalah", False),
        (ketua.id, "belum", True),
        (ketua.id, "sudah", True),
    ]
    async with h.services.sessions() as session:
        assert await group_answer(session, broadcast_id, group_id) == "sudah"
        [area] = await checkin_counts(session, [broadcast_id])
        followups = (await session.scalars(select(CheckInFollowUp))).all()
    assert (area.kelurahan, area.answers, area.unanswered, area.members) == (
        "Oro-oro Dowo",
        {"sudah": 1, "belum": 0, "masalah": 0},
        0,
        1,
    )
    assert followups == []
    # The broadcast's report shows the answers beside delivery and reading.
    report = await h.say(
        h.admin(), f"/laporan {broadcast_id}", match=lambda m: "cek-in" in (m.text or "")
    )
    assert (
        "Jawaban cek-in (ketua RT/RW): Sudah tiba 1, Belum 0, Ada masalah 0; belum menjawab: 0"
        in (report.text or "")
    )
    assert "Sudah tiba 0, Belum 0, Ada masalah 1" in (report.text or "")


async def test_ada_masalah_opens_a_report_and_asks_the_leader_for_a_description(
    kentongan: Harness,
) -> None:
    h = kentongan
    opener = plug_opener(h)
    ketua = h.world.add_user("Pak RW")
    rw = group_in_world(h, "RW 03 Oro-oro Dowo", admins=[ketua])
    group_id = await register(h, rw, KEL, rw=3)
    broadcast_id = await send_checkin(h)

    before = h.world.last_bot_message(rw)
    assert await press(h, ketua, rw, broadcast_id, "masalah") == (
        "Terima kasih, jawaban grup tercatat: Ada masalah."
    )
    ask = await h.server.wait_for_message(rw, asks, after=before.message_id if before else 0)
    assert "balas pesan ini" in (ask.text or "")
    assert opener.calls == [
        {
            "group_id": group_id,
            "reporter_id": ketua.id,
            "category": "logistik",
            "description": None,
            "source": f"checkin:{broadcast_id}",
            "now": h.clock.now(),
        }
    ]
    # Pressing it again changes nothing: one report per check-in and group.
    assert await press(h, ketua, rw, broadcast_id, "masalah") is not None
    assert len(opener.calls) == 1

    # Too long: said so, and the flow waits for a shorter one.
    h.world.user_sends(ketua, rw, "x" * 501, reply_to=ask)
    too_long = await h.server.wait_for_message(
        rw, lambda m: "batasnya 500" in (m.text or ""), after=ask.message_id
    )
    assert "batasnya 500" in (too_long.text or "")
    h.world.user_sends(
        ketua, rw, "Kotak suara TPS 07 belum datang, NIK 3573010101010001", reply_to=ask
    )
    done = await h.server.wait_for_message(
        rw, lambda m: "uraian" in (m.text or ""), after=too_long.message_id
    )
    assert done.text == "✅ Terima kasih, uraian masalah sudah diteruskan ke petugas Pemkot."
    assert len(opener.calls) == 2
    described = opener.calls[1]
    assert described["source"] == f"checkin:{broadcast_id}"
    assert "3573010101010001" not in described["description"]
    assert described["description"].startswith("Kotak suara TPS 07 belum datang")
    async with h.services.sessions() as session:
        row = (await session.scalars(select(CheckInFollowUp))).one()
    assert (row.group_id, row.answer, row.category) == (group_id, "masalah", "logistik")
    assert row.description == described["description"]


async def test_belum_opens_a_report_only_after_the_deadline_and_a_description_may_come_privately(
    kentongan: Harness,
) -> None:
    h = kentongan
    opener = plug_opener(h)
    ketua = h.world.add_user("Bu RT", started=True)
    rt = group_in_world(h, "RT 02 RW 03 Oro-oro Dowo", admins=[ketua])
    await register(h, rt, KEL, rw=3, rt=2)
    broadcast_id = await send_checkin(h, deadline=timedelta(hours=4))

    await press(h, ketua, rt, broadcast_id, "belum")
    assert opener.calls == []
    h.clock.advance(timedelta(hours=4, minutes=1))
    before = h.world.last_bot_message(rt)
    await press(h, ketua, rt, broadcast_id, "sudah")
    await press(h, ketua, rt, broadcast_id, "belum")
    assert [c["description"] for c in opener.calls] == [None]
    await h.server.wait_for_message(rt, asks, after=before.message_id if before else 0)
    reply = await h.say(ketua, "Sudah jam 21.00, logistik belum sampai di TPS 03.")
    assert reply.text == "✅ Terima kasih, uraian masalah sudah diteruskan ke petugas Pemkot."
    assert opener.calls[1]["description"] == "Sudah jam 21.00, logistik belum sampai di TPS 03."


async def test_after_the_deadline_silent_groups_are_listed_once_to_their_officials(
    kentongan: Harness,
) -> None:
    h = kentongan
    root = h.admin()
    camat = h.world.add_user("Pak Camat Klojen", started=True)
    other = h.world.add_user("Bu Camat Lowokwaru", started=True)
    async with h.services.sessions.begin() as session:
        for user, kecamatan in ((camat, "35.73.02"), (other, "35.73.05")):
            session.add(
                Official(
                    user_id=user.id,
                    role=OfficialRole.ADMIN,
                    kecamatan_code=kecamatan,
                    active=True,
                    added_at=h.clock.now(),
                )
            )
    leaders = [h.world.add_user(f"Ketua {i}") for i in range(3)]
    chats = [group_in_world(h, f"RT 0{i + 1} RW 03", admins=[leaders[i]]) for i in range(3)]
    for i, chat in enumerate(chats):
        await register(h, chat, KEL, rw=3, rt=i + 1)
    broadcast_id = await send_checkin(h, deadline=timedelta(hours=4))
    await press(h, leaders[0], chats[0], broadcast_id, "sudah")

    # Before the deadline: nothing to say.
    assert await send_silences(h.services, h.app.bot) == 0
    h.clock.advance(timedelta(hours=4))
    # The bot restarts after the deadline: the job is rebuilt from the database and runs.
    await h.restart()
    listed = await h.server.wait_for_message(camat, lambda m: "Belum ada jawaban" in (m.text or ""))
    text = listed.text or ""
    assert "2 dari 3 grup" in text
    assert "RT 02 RW 03" in text and "RT 03 RW 03" in text and "RT 01 RW 03" not in text
    await h.server.wait_for_message(root, lambda m: "Belum ada jawaban" in (m.text or ""))
    # Lowokwaru has none of these groups; and the list goes out once.
    assert not any("Belum ada jawaban" in (m.text or "") for m in h.world.bot_messages(other))
    assert await send_silences(h.services, h.app.bot) == 0
    rows = h.db_rows(
        "SELECT silent_groups, recipients FROM checkin_silences WHERE broadcast_id = ?",
        broadcast_id,
    )
    assert rows == [(2, 2)]


async def test_every_press_that_is_not_an_answer_here_is_refused(kentongan: Harness) -> None:
    h = kentongan
    ketua = h.world.add_user("Pak Ketua")
    rt = group_in_world(h, "RT 05 RW 01", admins=[ketua])
    await register(h, rt, KEL, rw=1, rt=5)
    broadcast_id = await send_checkin(h)
    plain_id = await send_broadcast(h)
    message = checkin_message(h, rt, broadcast_id)
    plain = next(m for m in h.world.bot_messages(rt) if m.buttons() and m is not message)

    for data in (
        f"ci:{broadcast_id}:lainnya",  # no such answer
        f"ci:{broadcast_id + 99}:sudah",  # another broadcast than the message's
        f"ci:{plain_id}:sudah",  # a broadcast that is not a check-in
        "ci:satu:sudah",  # malformed: no kind claims it
        f"ci:{broadcast_id}:Sudah!",
    ):
        assert await forged_answer(h, ketua, message, data) == REFUSED, data
    assert await forged_answer(h, ketua, plain, f"ci:{broadcast_id}:sudah") == REFUSED
    assert await presses(h, broadcast_id) == []


@pytest.mark.both_databases
async def test_check_in_answers_on_both_databases(kentongan: Harness) -> None:
    h = kentongan
    ketua, warga = h.world.add_user("Pak Ketua"), h.world.add_user("Bu Warga")
    rt = group_in_world(h, "RT 01 RW 07", admins=[ketua], members=[warga])
    group_id = await register(h, rt, KEL, rw=7, rt=1)
    broadcast_id = await send_checkin(h)
    await press(h, ketua, rt, broadcast_id, "masalah")
    await press(h, warga, rt, broadcast_id, "sudah")
    await press(h, ketua, rt, broadcast_id, "sudah")
    async with h.services.sessions() as session:
        assert await group_answer(session, broadcast_id, group_id) == "sudah"
        followups = (await session.scalars(select(CheckInFollowUp))).all()
        (report_id,) = (await session.scalars(select(FieldReport.id))).all()
    # The follow-up names the field report the answer opened (the real store is plugged in).
    assert [(f.answer, f.report_ref) for f in followups] == [("masalah", str(report_id))]


async def test_ada_masalah_becomes_a_field_case_in_the_posko_with_its_description(
    kentongan: Harness,
) -> None:
    """The real report store, not a recording one: the answer opens one field report, posted
    to the posko as a case, and the leader's description fills that report (no second one)."""
    from tests.e2e.field_helpers import make_posko, posko_group

    h = kentongan
    posko = posko_group(h)
    await make_posko(h, posko)
    ketua = h.world.add_user("Pak RW")
    rw = group_in_world(h, "RW 03 Oro-oro Dowo", admins=[ketua])
    group_id = await register(h, rw, KEL, rw=3)
    broadcast_id = await send_checkin(h)

    before = h.world.last_bot_message(rw)
    await press(h, ketua, rw, broadcast_id, "masalah")
    ask = await h.server.wait_for_message(rw, asks, after=before.message_id if before else 0)
    card = await h.server.wait_for_message(
        posko, lambda m: "Oro-oro Dowo" in (m.text or m.caption or "")
    )
    assert card.buttons(), "the posko's card carries the case's buttons"
    h.world.user_sends(ketua, rw, "Kotak suara TPS 07 belum datang", reply_to=ask)
    await h.server.wait_for_message(rw, lambda m: "uraian" in (m.text or ""), after=ask.message_id)

    async with h.services.sessions() as session:
        reports = (await session.scalars(select(FieldReport))).all()
        cases = (await session.scalars(select(FieldCase))).all()
    assert [(r.group_id, r.category, r.source) for r in reports] == [
        (group_id, "logistik", f"checkin:{broadcast_id}")
    ]
    assert reports[0].description == "Kotak suara TPS 07 belum datang"
    assert len(cases) == 1 and cases[0].posko_chat_id == posko.id
