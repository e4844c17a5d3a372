"""Check-ins as data: in agenda files and the election timeline, resolved onto broadcast rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.settings import DEFAULT_TIMELINE
from db.engine import SessionFactory
from db.models import Broadcast
from election.profile import ElectionProfile
from scheduler.agenda import election_agenda, sync_agendas
from scheduler.agenda_file import AgendaRejected, parse_agenda
from scheduler.checkin import REPORT_AFTER_DEADLINE, REPORT_NOW, ResolvedCheckIn
from scheduler.timeline import TimelineError, load_timeline

NOW = datetime(2024, 11, 20, 0, 0, tzinfo=UTC)

GOOD = """
name = "cek-posyandu"
title = "Cek posyandu"
topic = "kesehatan"

[anchors]
H = 2026-12-15

[[step]]
key = "cek"
at = "H-1 17.00"
expires = "H-1 21.00"
message = "checkin.logistik_tiba"
deadline = "2 jam"
category = "kesehatan"
answers = [
  { key = "sudah", label = "Sudah" },
  { key = "belum", label = "Belum", report = "after_deadline" },
  { key = "masalah", label = "Ada masalah", report = "now" },
]
"""


async def test_an_agenda_check_in_lands_on_its_broadcast_resolved(
    sessions: SessionFactory, profile: ElectionProfile
) -> None:
    agenda = parse_agenda(GOOD, profile)
    step = agenda.steps[0]
    assert step.checkin is not None
    assert [a.key for a in step.checkin.answers] == ["sudah", "belum", "masalah"]
    async with sessions.begin() as session:
        await sync_agendas(session, [agenda], NOW)
    async with sessions() as session:
        row = (await session.scalars(select(Broadcast))).one()
    checkin = ResolvedCheckIn.from_json(row.checkin)
    assert checkin is not None
    assert checkin.deadline == row.scheduled_at + timedelta(hours=2)
    assert checkin.category == "kesehatan"
    by_key = {a.key: a for a in checkin.answers}
    assert by_key["masalah"].opens_report(after_deadline=False)
    assert not by_key["belum"].opens_report(after_deadline=False)
    assert by_key["belum"].opens_report(after_deadline=True)
    assert not by_key["sudah"].opens_report(after_deadline=True)
    # Re-syncing the same file changes nothing.
    async with sessions.begin() as session:
        again = await sync_agendas(session, [agenda], NOW)
    assert (again.created, again.updated) == (0, 0)


def test_a_bad_check_in_is_refused_with_its_lines(profile: ElectionProfile) -> None:
    text = """name = "cek-rusak"
title = "Cek rusak"
topic = "umum"

[anchors]
H = 2026-12-15

[[step]]
key = "satu"
at = "H-1 17.00"
message = "checkin.logistik_tiba"
deadline = "H-2 08.00"
answers = [{ key = "sudah", label = "Sudah" }, { key = "sudah", label = "Lagi", report = "kadang" }]

[[step]]
key = "dua"
at = "H 07.00"
message = "checkin.tps_dibuka"
answers = [{ key = "ya", label = "Ya" }]

[[step]]
key = "tiga"
at = "H 09.00"
message = "h.tps_buka"
deadline = "2 jam"

[[step]]
key = "empat"
at = "H 10.00"
message = "checkin.tps_dibuka"
deadline = "H-2 08.00"
answers = [{ key = "ya", label = "Ya" }, { key = "tidak", label = "Tidak" }]
"""
    with pytest.raises(AgendaRejected) as caught:
        parse_agenda(text, profile)
    lines = {(p.line, p.reason) for p in caught.value.problems}
    reasons = "\n".join(str(p) for p in caught.value.problems)
    assert any(line == 13 and "dua kali" in reason for line, reason in lines), reasons
    assert any(line == 13 and "kadang" in reason for line, reason in lines), reasons
    assert any(line == 31 and "setelah waktu kirim" in reason for line, reason in lines), reasons
    assert any(line == 19 and "2 sampai 5" in reason for line, reason in lines), reasons
    assert any(line == 19 and "perlu deadline" in reason for line, reason in lines), reasons
    assert any(line == 25 and "hanya untuk langkah cek-in" in reason for line, reason in lines)


def test_an_answer_label_must_be_neutral(profile: ElectionProfile) -> None:
    text = GOOD.replace('label = "Sudah"', 'label = "Coblos nomor 2"')
    with pytest.raises(AgendaRejected) as caught:
        parse_agenda(text, profile)
    assert any("tidak netral" in p.reason for p in caught.value.problems)


def test_the_pilkada_timeline_holds_three_check_ins(profile: ElectionProfile) -> None:
    timeline = load_timeline(DEFAULT_TIMELINE, profile)
    agenda = election_agenda(timeline, profile)
    checkins = {s.key: s for s in agenda.steps if s.checkin is not None}
    assert {k: (s.at, s.message_key) for k, s in checkins.items()} == {
        "h1-cek-logistik": ("H-1 17.00", "checkin.logistik_tiba"),
        "h-cek-tps-buka": ("H 07.15", "checkin.tps_dibuka"),
        "h-cek-penghitungan": ("H 13.30", "checkin.penghitungan_lancar"),
    }
    logistik = checkins["h1-cek-logistik"].checkin
    assert logistik is not None and logistik.category == "logistik"
    assert [(a.label, a.report) for a in logistik.answers] == [
        ("Sudah tiba", "never"),
        ("Belum", REPORT_AFTER_DEADLINE),
        ("Ada masalah", REPORT_NOW),
    ]


def test_a_bad_check_in_in_the_timeline_is_refused(
    profile: ElectionProfile, tmp_path: Path
) -> None:
    path = tmp_path / "timeline.toml"
    path.write_text(
        f'election = "{profile.key}"\n\n[[entry]]\nkey = "cek"\nat = "H 07.15"\n'
        'message = "checkin.tps_dibuka"\nanswers = [{ key = "Ya!", label = "Ya" }, '
        '{ key = "belum", label = "Belum" }]\ndeadline = "H 08.00"\n',
        encoding="utf-8",
    )
    with pytest.raises(TimelineError, match="key wajib"):
        load_timeline(path, profile)
