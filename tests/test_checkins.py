"""Check-in answers in the domain, on a real SQLite file: sent by the engine, answered, counted,
reported through a recording opener, and silence listed to the right officials."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import SessionFactory
from db.models import (
    Broadcast,
    BroadcastSource,
    BroadcastStatus,
    CheckInFollowUp,
    Delivery,
    Group,
    Official,
    OfficialRole,
)
from domain.checkin_counts import checkin_counts, checkin_totals
from domain.checkin_silences import due_silences, take_silence, upcoming_deadlines
from domain.checkins import (
    DescriptionProblem,
    Outcome,
    Press,
    add_description,
    record_answer,
)
from domain.groups import GROUP_DIRECTORY
from scheduler.checkin import CheckInAnswer, ResolvedCheckIn
from scheduler.clock import FixedClock
from scheduler.engine import BroadcastEngine
from scheduler.engine_config import EngineConfig
from tests.conftest import ADMIN_ID
from tests.scheduler.fakes import RecordingSender, add_groups

KLOJEN = "35.73.02.1008"  # Oro-oro Dowo
LOWOKWARU = "35.73.05.1005"
ANSWERS = (
    CheckInAnswer("sudah", "Sudah tiba"),
    CheckInAnswer("belum", "Belum", "after_deadline"),
    CheckInAnswer("masalah", "Ada masalah", "now"),
)


@dataclass
class RecordingOpener:
    calls: list[dict[str, Any]] = field(default_factory=list)

    async def open_report(self, session: AsyncSession, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        return f"R{len(self.calls)}"


async def _sent_checkin(
    sessions: SessionFactory, clock: FixedClock, sender: RecordingSender, *, expires: bool = False
) -> int:
    now = clock.now()
    async with sessions.begin() as session:
        broadcast = Broadcast(
            source=BroadcastSource.TIMELINE,
            message_key="checkin.logistik_tiba",
            audience="all",
            scheduled_at=now,
            expires_at=now - timedelta(minutes=1) if expires else now + timedelta(hours=4),
            status=BroadcastStatus.SCHEDULED,
            created_at=now,
            checkin=ResolvedCheckIn(ANSWERS, now + timedelta(hours=4), "logistik").to_json(),
        )
        session.add(broadcast)
        await session.flush()
        broadcast_id = broadcast.id
    engine = BroadcastEngine(
        sessions,
        sender,
        clock,
        render=lambda b: f"rendered {b.message_key}",
        groups=GROUP_DIRECTORY,
        config=EngineConfig(rate=1000, workers=4, backoff_base=0.001),
    )
    await engine.run(broadcast_id)
    return broadcast_id


async def _deliveries(sessions: SessionFactory, broadcast_id: int) -> dict[int, tuple[int, int]]:
    """chat id -> (message id, group id)"""
    async with sessions() as session:
        rows = await session.execute(
            select(Delivery.chat_id, Delivery.telegram_message_id, Delivery.group_id).where(
                Delivery.broadcast_id == broadcast_id
            )
        )
        return {c: (m, g) for c, m, g in rows.all()}


def _press(
    broadcast_id: int, chat: int, message: int, user: int, answer: str, admin: bool
) -> Press:
    return Press(broadcast_id, answer, chat, message, user, admin)


async def test_the_engine_sends_a_check_in_once_per_group_with_its_answers(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    chats = await add_groups(sessions, 3, kelurahan=KLOJEN)
    sender = RecordingSender()
    broadcast_id = await _sent_checkin(sessions, clock, sender)
    assert sorted(sender.sent_chats()) == sorted(chats)
    assert {m.answers for m in sender.calls} == {
        (("sudah", "Sudah tiba"), ("belum", "Belum"), ("masalah", "Ada masalah"))
    }
    assert {m.broadcast_id for m in sender.calls} == {broadcast_id}
    # Run again: exactly once, as for any broadcast.
    engine = BroadcastEngine(sessions, sender, clock, render=lambda b: "x", groups=GROUP_DIRECTORY)
    await engine.run(broadcast_id)
    assert len(sender.calls) == 3


async def test_an_expired_check_in_is_never_sent_and_never_listed(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    await add_groups(sessions, 2, kelurahan=KLOJEN)
    sender = RecordingSender()
    broadcast_id = await _sent_checkin(sessions, clock, sender, expires=True)
    assert sender.calls == []
    clock.advance(timedelta(hours=5))
    async with sessions() as session:
        assert broadcast_id not in await due_silences(session, clock.now())
        assert broadcast_id not in [b for b, _ in await upcoming_deadlines(session)]


async def test_answers_changes_members_and_counts_per_kelurahan(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    klojen = await add_groups(sessions, 2, kelurahan=KLOJEN, start_chat=-1000)
    lowokwaru = await add_groups(sessions, 1, kelurahan=LOWOKWARU, start_chat=-2000)
    broadcast_id = await _sent_checkin(sessions, clock, RecordingSender())
    sent = await _deliveries(sessions, broadcast_id)
    opener = RecordingOpener()

    async def answer(chat: int, user: int, key: str, admin: bool) -> Outcome:
        async with sessions.begin() as session:
            press = _press(broadcast_id, chat, sent[chat][0], user, key, admin)
            return (await record_answer(session, press, clock.now(), opener)).outcome

    assert await answer(klojen[0], 1, "belum", True) is Outcome.RECORDED
    assert await answer(klojen[0], 1, "sudah", True) is Outcome.CHANGED
    assert await answer(klojen[0], 1, "sudah", True) is Outcome.RECORDED  # same again
    assert await answer(klojen[0], 7, "masalah", False) is Outcome.MEMBER
    assert await answer(klojen[0], 7, "belum", False) is Outcome.MEMBER  # latest counts
    assert await answer(lowokwaru[0], 2, "masalah", True) is Outcome.RECORDED
    # Refusals: another chat's message, an unknown answer.
    assert await answer(klojen[1], 3, "sudah", True) is Outcome.RECORDED
    async with sessions.begin() as session:
        wrong = _press(broadcast_id, klojen[1], sent[klojen[0]][0], 3, "sudah", True)
        assert (await record_answer(session, wrong, clock.now(), opener)).outcome is (
            Outcome.NOT_A_DELIVERY
        )
        odd = _press(broadcast_id, klojen[1], sent[klojen[1]][0], 3, "kadang", True)
        assert (await record_answer(session, odd, clock.now(), opener)).outcome is (
            Outcome.UNKNOWN_ANSWER
        )

    async with sessions() as session:
        areas = await checkin_counts(session, [broadcast_id])
        totals = await checkin_totals(session, broadcast_id)
        klojen_only = await checkin_counts(session, [broadcast_id], scope="35.73.02")
    by_place = {(a.kecamatan, a.kelurahan): (a.answers, a.unanswered, a.members) for a in areas}
    assert by_place == {
        ("Klojen", "Oro-oro Dowo"): ({"sudah": 2, "belum": 0, "masalah": 0}, 0, 1),
        ("Lowokwaru", "Sumbersari"): ({"sudah": 0, "belum": 0, "masalah": 1}, 0, 0),
    }
    assert [a.kelurahan_code for a in klojen_only] == [KLOJEN]
    assert totals is not None
    assert totals.answers == [("Sudah tiba", 2), ("Belum", 0), ("Ada masalah", 1)]
    assert totals.members == [("Sudah tiba", 0), ("Belum", 1), ("Ada masalah", 0)]
    assert totals.unanswered == 0
    async with sessions() as session:
        lowokwaru_only = await checkin_totals(session, broadcast_id, "35.73.05")
    assert lowokwaru_only is not None
    assert lowokwaru_only.answers == [("Sudah tiba", 0), ("Belum", 0), ("Ada masalah", 1)]
    assert lowokwaru_only.members == [("Sudah tiba", 0), ("Belum", 0), ("Ada masalah", 0)]
    # Only the leader's "Ada masalah" opened a report, once.
    assert [(c["category"], c["source"]) for c in opener.calls] == [
        ("logistik", f"checkin:{broadcast_id}")
    ]


async def test_a_description_is_checked_masked_and_passed_on(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    [chat] = await add_groups(sessions, 1, kelurahan=KLOJEN)
    broadcast_id = await _sent_checkin(sessions, clock, RecordingSender())
    message, group_id = (await _deliveries(sessions, broadcast_id))[chat]
    opener = RecordingOpener()
    async with sessions.begin() as session:
        result = await record_answer(
            session, _press(broadcast_id, chat, message, 5, "masalah", True), clock.now(), opener
        )
    assert result.followup is not None
    for text, key in (
        ("   ", "checkin.uraian_kosong"),
        ("x" * 501, "checkin.uraian_terlalu_panjang"),
    ):
        async with sessions.begin() as session:
            with pytest.raises(DescriptionProblem) as caught:
                await add_description(session, result.followup.id, text, clock.now(), opener)
        assert caught.value.key == key
    async with sessions.begin() as session:
        await add_description(
            session,
            result.followup.id,
            "Surat suara kurang, NIK 3573010101010001",
            clock.now(),
            opener,
        )
    async with sessions() as session:
        row = (await session.scalars(select(CheckInFollowUp))).one()
    assert row.group_id == group_id and row.report_ref == "R2"
    assert row.description is not None and "3573010101010001" not in row.description
    assert opener.calls[1]["description"] == row.description


async def test_silence_goes_to_the_officials_of_the_area_and_the_root_admins_once(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    klojen = await add_groups(sessions, 2, kelurahan=KLOJEN, start_chat=-1000)
    await add_groups(sessions, 1, kelurahan=LOWOKWARU, start_chat=-2000)
    async with sessions.begin() as session:
        for user_id, scope in ((11, "35.73.02"), (12, "35.73.05"), (13, "35.73.01"), (14, None)):
            session.add(
                Official(
                    user_id=user_id,
                    role=OfficialRole.OPERATOR,
                    kecamatan_code=scope,
                    active=True,
                    added_at=clock.now(),
                )
            )
    broadcast_id = await _sent_checkin(sessions, clock, RecordingSender())
    sent = await _deliveries(sessions, broadcast_id)
    async with sessions.begin() as session:
        press = _press(broadcast_id, klojen[0], sent[klojen[0]][0], 1, "sudah", True)
        await record_answer(session, press, clock.now(), RecordingOpener())
        # A member's press is not the group's answer: that group is still silent.
        press = _press(broadcast_id, klojen[1], sent[klojen[1]][0], 9, "sudah", False)
        await record_answer(session, press, clock.now(), RecordingOpener())

    async with sessions() as session:
        assert await due_silences(session, clock.now()) == []
        assert [b for b, _ in await upcoming_deadlines(session)] == [broadcast_id]
    clock.advance(timedelta(hours=4))
    async with sessions.begin() as session:
        assert await due_silences(session, clock.now()) == [broadcast_id]
        notices = await take_silence(session, broadcast_id, clock.now(), {ADMIN_ID})
    assert notices is not None
    async with sessions() as session:
        names = dict((await session.execute(select(Group.id, Group.title))).all())
    told = {n.user_id: sorted(names[g.group_id] for g in n.groups) for n in notices}
    # Klojen's official: its silent group; Lowokwaru's: its own; the root admin: all of them.
    # Kedungkandang's has none; a city-wide operator who is not root is not told.
    assert told == {11: ["RW 2"], 12: ["RW 1"], ADMIN_ID: ["RW 1", "RW 2"]}
    assert {n.user_id: n.reached for n in notices} == {11: 2, 12: 1, ADMIN_ID: 3}
    async with sessions.begin() as session:
        assert await take_silence(session, broadcast_id, clock.now(), {ADMIN_ID}) is None
        assert await due_silences(session, clock.now()) == []
