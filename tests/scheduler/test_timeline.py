"""The timeline file becomes broadcast rows idempotently; jobs never silently misfire."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.jobs import JOB_KWARGS
from bot.settings import DEFAULT_TIMELINE
from db.engine import SessionFactory
from db.models import Broadcast, BroadcastStatus
from election.profile import ElectionProfile
from messages.library import default_library
from scheduler.agenda import SyncReport, election_agenda, sync_agendas
from scheduler.ratelimit import PriorityPacer
from scheduler.timeline import Timeline, TimelineError, load_timeline, parse_relative

NOW = datetime(2024, 11, 20, 0, 0, tzinfo=UTC)


def test_default_timeline_covers_the_three_days(profile: ElectionProfile) -> None:
    timeline = load_timeline(DEFAULT_TIMELINE, profile)
    assert len(timeline.entries) >= 8
    days = {
        parse_relative(e.at, profile).astimezone(profile.tz).date().day for e in timeline.entries
    }
    assert days == {25, 26, 27}
    library = default_library()
    for entry in timeline.entries:
        library.get(entry.message_key)  # every entry names a real message
    tps_buka = next(e for e in timeline.entries if e.message_key == "h.tps_buka")
    assert parse_relative(tps_buka.at, profile) == datetime(2024, 11, 27, 0, 0, tzinfo=UTC)
    assert tps_buka.expires is not None
    # Turnout reminders stop before the TPS closes at 13.00: no "TPS sudah buka" at 15.00.
    assert parse_relative(tps_buka.expires, profile) <= profile.polls_close_at


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("H-2 08.00", datetime(2024, 11, 25, 1, 0, tzinfo=UTC)),
        ("H 07.00", datetime(2024, 11, 27, 0, 0, tzinfo=UTC)),
        ("h+1 09:30", datetime(2024, 11, 28, 2, 30, tzinfo=UTC)),
    ],
)
def test_relative_times(profile: ElectionProfile, text: str, expected: datetime) -> None:
    assert parse_relative(text, profile) == expected


async def _sync(
    sessions: SessionFactory, timeline: Timeline, profile: ElectionProfile
) -> SyncReport:
    """The timeline reaches the database as the election agenda."""
    async with sessions.begin() as session:
        return await sync_agendas(session, [election_agenda(timeline, profile)], NOW)


async def test_sync_is_idempotent_and_updates_only_unstarted(
    sessions: SessionFactory, profile: ElectionProfile, tmp_path: Path
) -> None:
    timeline = load_timeline(DEFAULT_TIMELINE, profile)
    first = await _sync(sessions, timeline, profile)
    second = await _sync(sessions, timeline, profile)
    assert first.created == len(timeline.entries)
    assert (second.created, second.updated) == (0, 0)

    # One entry already went out; then an official edits the file.
    async with sessions.begin() as session:
        done = await session.scalar(
            select(Broadcast).where(Broadcast.timeline_key.like("%:h2-netralitas"))
        )
        assert done is not None
        done.status = BroadcastStatus.DONE
    edited = (
        DEFAULT_TIMELINE.read_text(encoding="utf-8")
        .replace('at = "H-2 08.00"', 'at = "H-2 09.00"')
        .replace('at = "H 07.00"', 'at = "H 06.55"')
    )
    path = tmp_path / "timeline.toml"
    path.write_text(edited, encoding="utf-8")
    third = await _sync(sessions, load_timeline(path, profile), profile)
    assert (third.created, third.updated) == (0, 1)
    async with sessions() as session:
        rows = {
            b.timeline_key.split(":")[-1]: b  # type: ignore[union-attr]
            for b in (await session.scalars(select(Broadcast))).all()
        }
    assert rows["h2-netralitas"].scheduled_at == datetime(2024, 11, 25, 1, 0, tzinfo=UTC)
    assert rows["h-tps-buka"].scheduled_at == datetime(2024, 11, 26, 23, 55, tzinfo=UTC)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (('at = "H-2 08.00"', 'at = "besok"'), "H-2 08.00"),
        (('audience = "all"', 'audience = "kota:x"'), "audience"),
        (('expires = "H-2 21.00"', 'expires = "H-2 07.00"'), "expires must be after"),
        (('key = "h2-logistik"', 'key = "h2-netralitas"'), "used twice"),
        (('election = "pilkada-2024-kota-malang"', 'election = "psu-2025"'), "psu-2025"),
        (('message = "netralitas.rt_rw"', 'pesan = "netralitas.rt_rw"'), "unknown field"),
    ],
)
def test_bad_timelines_name_the_entry(
    profile: ElectionProfile, tmp_path: Path, change: tuple[str, str], needle: str
) -> None:
    text = DEFAULT_TIMELINE.read_text(encoding="utf-8")
    assert change[0] in text
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(TimelineError, match=needle):
        load_timeline(path, profile)


def test_jobs_never_drop_a_late_run() -> None:
    # APScheduler's default grace of one second would silently skip a late job.
    assert JOB_KWARGS["misfire_grace_time"] is None


async def test_higher_priority_waiters_are_served_first() -> None:
    pacer = PriorityPacer(rate=50)
    order: list[str] = []

    async def take(name: str, priority: int) -> None:
        await pacer.acquire(priority)
        order.append(name)

    await pacer.acquire(0)  # the next slot is now 20 ms away, so the others queue up
    await asyncio.gather(take("netralitas", 1), take("tps-buka", 9), take("hoaks", 1))
    assert order[0] == "tps-buka"


def test_timeline_fact_fixes(profile: ElectionProfile) -> None:
    timeline = load_timeline(DEFAULT_TIMELINE, profile)
    library = default_library()
    at = {e.key: parse_relative(e.at, profile) for e in timeline.entries}
    by_key = {e.key: e for e in timeline.entries}
    # Masa tenang began on 24 Nov: H-2 says it is under way, H-1 that it is the last day.
    assert by_key["h2-masa-tenang"].message_key == "masa_tenang.berlangsung"
    assert at["h2-masa-tenang"].astimezone(profile.tz).hour < 12
    assert library.get("masa_tenang.mulai").title == "Hari terakhir masa tenang"
    # The H-1 evening money-politics message has its own "serangan fajar" wording.
    assert by_key["h2-politik-uang"].message_key == "politik_uang.tolak"
    assert by_key["h1-serangan-fajar"].message_key == "politik_uang.serangan_fajar"
    # The official-results reminder comes before quick counts circulate (14.00-15.00).
    results = at["h-hasil-resmi"].astimezone(profile.tz)
    assert (
        (results.date(), 14)
        <= (profile.election_day, results.hour)
        <= (
            profile.election_day,
            15,
        )
    )


def test_what_is_sent_after_the_polls_close_never_asks_people_to_go_to_the_tps(
    profile: ElectionProfile,
) -> None:
    timeline = load_timeline(DEFAULT_TIMELINE, profile)
    library = default_library()
    late = [e for e in timeline.entries if parse_relative(e.at, profile) >= profile.polls_close_at]
    assert late, "the timeline has messages after voting"
    for entry in late:
        # marked, so `messages check` applies the rule to it
        assert library.get(entry.message_key).after_voting, entry.key
