"""Agendas: the election's sends the Pilkada timeline; others run beside it, recur, pause."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.agenda_cli import AGENDAS_DIR
from bot.settings import DEFAULT_TIMELINE
from db.engine import SessionFactory
from db.models import Broadcast, BroadcastSource, BroadcastStatus, Group, GroupLevel, OfficialRole
from domain.agendas import install_bundled, overview, pause, read_bundled, resume, sync_all
from domain.officials import Actor
from domain.topics import TopicRefused, set_topic
from election.profile import ElectionProfile
from scheduler.agenda import PAUSED_REASON, election_agenda, sync_agendas
from scheduler.agenda_file import AgendaRejected, parse_agenda
from scheduler.audience import Audience
from scheduler.clock import FixedClock
from scheduler.recurrence import parse_every
from scheduler.timeline import load_timeline

NOW = datetime(2024, 11, 20, 0, 0, tzinfo=UTC)


async def _all(sessions: SessionFactory) -> list[Broadcast]:
    async with sessions() as session:
        return list((await session.scalars(select(Broadcast))).all())


# What the Pilkada 2024 agenda must send (election/data/timelines/): every broadcast with its
# time and expiry in WIB (day of November 2024, hour.minute), its priority; all to every group.
PILKADA_2024 = [
    ("h2-masa-tenang", "masa_tenang.berlangsung", (25, 7, 0), (25, 21, 0), 2),
    ("h2-netralitas", "netralitas.rt_rw", (25, 8, 0), (25, 21, 0), 1),
    ("h2-logistik", "logistik.awasi", (25, 10, 0), (26, 21, 0), 1),
    ("h2-politik-uang", "politik_uang.tolak", (25, 16, 0), (26, 12, 0), 1),
    ("h2-hoaks", "hoaks.saring", (25, 19, 0), (26, 12, 0), 1),
    ("h1-masa-tenang", "masa_tenang.mulai", (26, 7, 0), (26, 21, 0), 2),
    ("h1-persiapan", "h1.persiapan", (26, 16, 0), (27, 7, 0), 3),
    ("h1-cek-logistik", "checkin.logistik_tiba", (26, 17, 0), (27, 6, 0), 3),
    ("h1-serangan-fajar", "politik_uang.serangan_fajar", (26, 20, 0), (27, 6, 0), 3),
    ("h-tps-buka", "h.tps_buka", (27, 7, 0), (27, 11, 0), 9),
    ("h-cek-tps-buka", "checkin.tps_dibuka", (27, 7, 15), (27, 10, 0), 8),
    ("h-dpk", "h.dpk", (27, 11, 30), (27, 12, 45), 8),
    ("h-satu-jam", "h.satu_jam_lagi", (27, 12, 0), (27, 12, 45), 9),
    ("h-tps-tutup", "h.tps_tutup", (27, 13, 5), (27, 23, 0), 5),
    ("h-cek-penghitungan", "checkin.penghitungan_lancar", (27, 13, 30), (27, 18, 0), 5),
    ("h-hasil-resmi", "hasil.resmi_kpu", (27, 14, 30), (28, 21, 0), 2),
]


def _wib(profile: ElectionProfile, day: int, hour: int, minute: int) -> datetime:
    return datetime(2024, 11, day, hour, minute, tzinfo=profile.tz)


async def test_the_election_agenda_sends_the_pilkada_timeline(
    sessions: SessionFactory, profile: ElectionProfile
) -> None:
    timeline = load_timeline(DEFAULT_TIMELINE, profile)
    async with sessions.begin() as session:
        report = await sync_all(session, profile, timeline, NOW)
    rows = sorted(await _all(sessions), key=lambda b: (b.scheduled_at, b.id))
    assert report.created == len(rows) == len(PILKADA_2024)
    assert [
        (
            b.timeline_key,
            b.message_key,
            b.scheduled_at.astimezone(profile.tz),
            b.expires_at.astimezone(profile.tz) if b.expires_at else None,
            b.priority,
        )
        for b in rows
    ] == [
        (f"{profile.key}:{key}", message, _wib(profile, *at), _wib(profile, *until), priority)
        for key, message, at, until, priority in PILKADA_2024
    ]
    assert {
        (b.source, b.status, b.audience, b.text, b.agenda, b.topic, b.parent_id, b.created_by)
        for b in rows
    } == {
        (
            BroadcastSource.TIMELINE,
            BroadcastStatus.SCHEDULED,
            Audience.parse("all").spec(),
            None,
            profile.key,
            "pemilihan",
            None,
            None,
        )
    }
    async with sessions.begin() as session:
        again = await sync_agendas(session, [election_agenda(timeline, profile)], NOW)
    assert (again.created, again.updated, again.unchanged) == (0, 0, len(PILKADA_2024))


async def test_three_agendas_at_once_never_collide(
    sessions: SessionFactory, profile: ElectionProfile
) -> None:
    timeline = load_timeline(DEFAULT_TIMELINE, profile)
    now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    async with sessions.begin() as session:
        assert set(await install_bundled(session, read_bundled(AGENDAS_DIR), profile, now)) == {
            "kerja-bakti-bulanan",
            "dbd-3m-plus",
        }
        first = await sync_all(session, profile, timeline, now)
    async with sessions.begin() as session:
        second = await sync_all(session, profile, timeline, now)
    assert (second.created, second.updated) == (0, 0)
    rows = await _all(sessions)
    by_agenda: dict[str | None, list[Broadcast]] = {}
    for b in rows:
        by_agenda.setdefault(b.agenda, []).append(b)
    assert set(by_agenda) == {profile.key, "kerja-bakti-bulanan", "dbd-3m-plus"}
    assert first.created == len(rows)
    assert len(by_agenda[profile.key]) == len(timeline.entries)
    assert {b.topic for b in by_agenda["dbd-3m-plus"]} == {"kesehatan"}
    # Kerja bakti: the first Sunday of the month, 06.00 WIB, within the 35-day window.
    kerja = sorted(b.scheduled_at for b in by_agenda["kerja-bakti-bulanan"])
    assert kerja == [
        datetime(2026, 12, 6, 6, 0, tzinfo=profile.tz),
        datetime(2027, 1, 3, 6, 0, tzinfo=profile.tz),
    ]


async def test_a_weekly_step_over_six_weeks_on_a_test_clock(
    sessions: SessionFactory, profile: ElectionProfile
) -> None:
    text = """
name = "jumat-bersih"
title = "Jumat bersih"
topic = "lingkungan"

[[step]]
key = "jumat"
every = "setiap jumat 07.00"
from = 2026-12-01
until = 2027-01-10
expires = "4 jam"
message = "kerja_bakti.bulanan"
"""
    agenda = parse_agenda(text, profile)
    clock = FixedClock(datetime(2026, 11, 25, 0, 0, tzinfo=UTC))
    for _ in range(7):
        async with sessions.begin() as session:
            await sync_agendas(session, [agenda], clock.now(), window=timedelta(days=8))
        clock.advance(timedelta(days=7))
    rows = sorted(await _all(sessions), key=lambda b: b.scheduled_at)
    fridays = [date(2026, 12, 4) + timedelta(weeks=n) for n in range(6)]  # 4 Dec .. 8 Jan
    assert [b.scheduled_at.astimezone(profile.tz).date() for b in rows] == fridays
    assert {b.scheduled_at.astimezone(profile.tz).time().hour for b in rows} == {7}
    assert all(b.expires_at == b.scheduled_at + timedelta(hours=4) for b in rows)
    assert len({b.timeline_key for b in rows}) == 6


@pytest.mark.parametrize(
    ("every", "days"),
    [
        ("senin pertama 08.00", [date(2027, 2, 1), date(2027, 3, 1), date(2027, 4, 5)]),
        ("minggu terakhir 16.00", [date(2027, 2, 28), date(2027, 3, 28), date(2027, 4, 25)]),
        ("tanggal 31 08.00", [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31)]),
    ],
)
def test_monthly_recurrences(every: str, days: list[date]) -> None:
    rule = parse_every(every)
    start = days[0] - timedelta(days=1) if every.startswith("tanggal") else date(2027, 2, 1)
    found = [
        start + timedelta(days=n) for n in range(100) if rule.matches(start + timedelta(days=n))
    ][:3]
    assert found == days


async def test_pause_sets_waiting_broadcasts_aside_and_resume_brings_them_back(
    sessions: SessionFactory, profile: ElectionProfile
) -> None:
    timeline = load_timeline(DEFAULT_TIMELINE, profile)
    now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    async with sessions.begin() as session:
        await install_bundled(session, read_bundled(AGENDAS_DIR), profile, now)
        await sync_all(session, profile, timeline, now)
        held = await pause(session, None, "dbd-3m-plus", now)
    dbd = [b for b in await _all(sessions) if b.agenda == "dbd-3m-plus"]
    assert held == sum(1 for b in dbd if b.status_reason == PAUSED_REASON) > 0
    assert all(b.status is not BroadcastStatus.SCHEDULED for b in dbd)
    # A week on, still paused: the sync plans nothing new for it, the others go on.
    later = now + timedelta(days=7)
    async with sessions.begin() as session:
        report = await sync_all(session, profile, timeline, later)
    assert len([b for b in await _all(sessions) if b.agenda == "dbd-3m-plus"]) == len(dbd)
    assert report.created >= 0
    async with sessions.begin() as session:
        back = await resume(session, None, "dbd-3m-plus", profile, timeline, later)
    dbd_after = [b for b in await _all(sessions) if b.agenda == "dbd-3m-plus"]
    waiting = [b for b in dbd_after if b.status is BroadcastStatus.SCHEDULED]
    # What expired while paused stays set aside; the rest waits again, and the window is filled.
    assert back >= 1
    assert all(b.expires_at is None or b.expires_at > later for b in waiting)
    assert any(b.scheduled_at > later + timedelta(days=28) for b in waiting)


def test_a_bad_agenda_file_names_every_problem_with_its_line(profile: ElectionProfile) -> None:
    text = """name = "Dengue!"
title = "Cegah DBD"
topic = "kampanye"

[anchors]
hujan = "kapan-kapan"

[[step]]
key = "a"
at = "besok pagi"
message = "dbd.3m_plus"

[[step]]
key = "b"
every = "tiap jumat"
message = "tidak.ada"
audience = "kota:x"
pesan = "x"

[[step]]
key = "a"
every = "jumat 07.00"
text = "Ayo coblos nomor 2!"
"""
    with pytest.raises(AgendaRejected) as caught:
        parse_agenda(text, profile)
    lines = {(p.line, p.reason.split(" ")[0]) for p in caught.value.problems}
    reasons = "\n".join(str(p) for p in caught.value.problems)
    assert (1, "name") in lines
    assert (3, "topic") in lines
    assert any(p.line == 6 and "hujan" in p.reason for p in caught.value.problems)
    assert any(p.line in (8, 10) and "langkah a" in p.reason for p in caught.value.problems)
    assert any(p.line == 15 and "every" in p.reason for p in caught.value.problems)
    assert any(p.line == 16 and "tidak.ada" in p.reason for p in caught.value.problems)
    assert any(p.line == 17 and "sasaran" in p.reason for p in caught.value.problems)
    assert any(p.line == 18 and "pesan" in p.reason for p in caught.value.problems)
    assert any(p.line == 23 and "tidak netral" in p.reason for p in caught.value.problems)
    assert "baris 1:" in reasons


def test_broken_toml_is_refused_with_its_line(profile: ElectionProfile) -> None:
    with pytest.raises(AgendaRejected) as caught:
        parse_agenda('name = "x"\ntitle = "y\ntopic = "umum"\n', profile)
    assert caught.value.problems[0].line == 2
    assert "bukan TOML" in caught.value.problems[0].reason


async def _group(sessions: SessionFactory, chat_id: int, kelurahan: str) -> int:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    async with sessions.begin() as session:
        group = Group(
            chat_id=chat_id,
            title=f"RW {chat_id}",
            level=GroupLevel.RW,
            kelurahan_code=kelurahan,
            rw=1,
            subscribed=True,
            created_at=now,
            updated_at=now,
        )
        session.add(group)
        await session.flush()
        return group.id


async def test_an_opted_out_group_is_not_reached_but_forced_topics_always_are(
    sessions: SessionFactory,
) -> None:
    a = await _group(sessions, -1001, "35.73.05.1005")
    await _group(sessions, -1002, "35.73.05.1005")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    async with sessions.begin() as session:
        await set_topic(session, a, "kesehatan", False, 1, now)
        await set_topic(session, a, "kesehatan", False, 1, now)  # idempotent
        with pytest.raises(TopicRefused):
            await set_topic(session, a, "bencana", False, 1, now)
    everyone = Audience.parse("all")
    async with sessions() as session:
        assert await everyone.count(session, "kesehatan") == 1
        assert await everyone.count(session, "lingkungan") == 2
        assert await everyone.count(session, "bencana") == 2
        assert await everyone.count(session, None) == 2
    async with sessions.begin() as session:
        await set_topic(session, a, "kesehatan", True, 1, now)
    async with sessions() as session:
        assert await everyone.count(session, "kesehatan") == 2


async def test_the_agenda_overview_is_scoped_to_the_official(
    sessions: SessionFactory, profile: ElectionProfile
) -> None:
    await _group(sessions, -2001, "35.73.05.1005")  # Lowokwaru
    await _group(sessions, -2002, "35.73.02.1008")  # Klojen
    timeline = load_timeline(DEFAULT_TIMELINE, profile)
    now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    text = (AGENDAS_DIR / "kerja-bakti-bulanan.toml").read_text(encoding="utf-8")
    text = text.replace('audience = "all"', 'audience = "kecamatan:35.73.05"')
    async with sessions.begin() as session:
        await install_bundled(session, [("k.toml", text)], profile, now)
        await sync_all(session, profile, timeline, now)
    city = Actor(1, OfficialRole.ADMIN, None)
    klojen = Actor(2, OfficialRole.OPERATOR, "35.73.02")
    lowokwaru = Actor(3, OfficialRole.OPERATOR, "35.73.05")
    async with sessions() as session:
        seen = {
            who: {line.name: line.next_steps for line in await overview(session, actor, now)}
            for who, actor in (("city", city), ("klojen", klojen), ("lowokwaru", lowokwaru))
        }
    assert [s.recipients for s in seen["city"]["kerja-bakti-bulanan"]] == [1, 1]
    assert seen["klojen"]["kerja-bakti-bulanan"] == []
    assert [s.recipients for s in seen["lowokwaru"]["kerja-bakti-bulanan"]] == [1, 1]
    # A city-wide step is shown to a kecamatan official with their kecamatan's share.
    async with sessions.begin() as session:
        await install_bundled(session, read_bundled(AGENDAS_DIR), profile, now)
        await sync_all(session, profile, timeline, now)
    async with sessions() as session:
        klojen_view = {line.name: line for line in await overview(session, klojen, now)}
        city_view = {line.name: line for line in await overview(session, city, now)}
    assert [s.recipients for s in city_view["dbd-3m-plus"].next_steps] == [2, 2, 2]
    assert [s.recipients for s in klojen_view["dbd-3m-plus"].next_steps] == [1, 1, 1]
    assert "Klojen" in klojen_view["dbd-3m-plus"].next_steps[0].audience
