"""The scheduled pre-flight's times and the escalation chain are data in the election profile:
validated at load, resolved in the election's zone, and a missed slot runs only while fresh."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.storage import open_storage
from db.models import PreflightRun
from domain.preflight_schedule import pending_slots, slots
from election.profile import DEFAULT_PROFILE, ProfileError, load_profile


def profile_with(tmp_path: Path, extra: str) -> Path:
    base = DEFAULT_PROFILE.read_text(encoding="utf-8")
    cut = base.index("\n[preflight]")
    path = tmp_path / "profile.toml"
    # Relative paths in the profile (terms_file) stay resolvable beside the shipped file.
    path.write_text(
        base[:cut].replace('terms_file = "', f'terms_file = "{DEFAULT_PROFILE.parent}/') + extra,
        encoding="utf-8",
    )
    return path


def test_the_shipped_profile_schedules_h3_and_h1_at_ten_wib() -> None:
    profile = load_profile()
    assert [(s.key, s.due_at) for s in slots(profile)] == [
        ("H-3 10.00", datetime(2024, 11, 24, 3, 0, tzinfo=UTC)),
        ("H-1 10.00", datetime(2024, 11, 26, 3, 0, tzinfo=UTC)),
    ]
    chain = profile.acknowledgement.chain
    assert [(c.after_minutes, c.to) for c in chain] == [
        (60, "grup"),
        (120, "admin"),
        (180, "lurah"),
        (240, "camat"),
    ]
    assert profile.acknowledgement.steps == ["h-tps-buka"]


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ('\n[preflight]\nat = ["besok pagi"]\n', "pre-flight time like 'H-3 10.00'"),
        (
            '\n[acknowledgement]\nchain = [{ after_minutes = 60, to = "bupati" }]\n',
            "use one of grup, admin, lurah, camat",
        ),
        (
            "\n[acknowledgement]\nchain = ["
            '{ after_minutes = 120, to = "grup" }, { after_minutes = 60, to = "admin" }]\n',
            "later one after another",
        ),
    ],
)
def test_a_bad_schedule_or_chain_stops_the_load_naming_it(
    tmp_path: Path, extra: str, says: str
) -> None:
    with pytest.raises(ProfileError, match=says):
        load_profile(profile_with(tmp_path, extra))


async def test_a_missed_slot_runs_while_fresh_and_a_reported_one_never_again(
    tmp_path: Path,
) -> None:
    profile = load_profile()
    h3 = datetime(2024, 11, 24, 3, 0, tzinfo=UTC)
    engine, sessions = await open_storage(
        f"sqlite+aiosqlite:///{tmp_path / 'k.db'}", frozenset(), h3
    )
    try:
        async with sessions() as session:
            later = await pending_slots(session, profile, h3 + timedelta(hours=6))
            stale = await pending_slots(session, profile, h3 + timedelta(hours=13))
        assert [s.key for s in later] == ["H-3 10.00", "H-1 10.00"]
        assert [s.key for s in stale] == ["H-1 10.00"]
        async with sessions.begin() as session:
            session.add(PreflightRun(slot="H-3 10.00", due_at=h3, started_at=h3, reported_at=h3))
        async with sessions() as session:
            assert [s.key for s in await pending_slots(session, profile, h3)] == ["H-1 10.00"]
    finally:
        await engine.dispose()


def test_the_reach_text_fits_one_telegram_message_however_many_groups_fail() -> None:
    from collections import Counter

    from db.models import ReachOutcome
    from domain.reach import MAX_LENGTH, Problem, Reach, reach_text
    from messages.telegram_html import telegram_length, visible_text

    problems = [
        Problem("Lowokwaru", f"Kelurahan {i // 50:02d}", f"RW {i:05d} grup warga", "RW 05",
                ReachOutcome.KICKED, False)
        for i in range(400)
    ]  # fmt: skip
    at = datetime(2024, 11, 24, 3, 0, tzinfo=UTC)
    result = Reach(at, 5000, 4600, Counter({ReachOutcome.KICKED: 400}), 0, 0, problems)
    text = reach_text(result, load_profile(), at, limit=40)
    assert telegram_length(text) <= MAX_LENGTH
    assert "menjangkau 4600 dari 5000 grup; 400 bot dikeluarkan" in visible_text(text)
    assert "grup lain" in visible_text(text)  # the rest is counted, not dropped silently
    everything = reach_text(result, load_profile(), at, limit=10_000, fit=False)
    assert everything.count("RW 05 ·") == 400  # the shell prints every group
