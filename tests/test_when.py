"""Officials' times, read in the election's zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from election.profile import ElectionProfile
from scheduler.when import WhenError, parse_when

NOW = datetime(2024, 11, 25, 3, 0, tzinfo=UTC)  # Monday 25 Nov, 10.00 WIB


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sekarang", NOW),
        ("26/11 19.00", datetime(2024, 11, 26, 12, 0, tzinfo=UTC)),
        ("26-11-2024 19:00", datetime(2024, 11, 26, 12, 0, tzinfo=UTC)),
        ("besok 07.00", datetime(2024, 11, 26, 0, 0, tzinfo=UTC)),
        ("Besok jam 07.00 WIB", datetime(2024, 11, 26, 0, 0, tzinfo=UTC)),
        ("lusa 07.00", datetime(2024, 11, 27, 0, 0, tzinfo=UTC)),
        ("H-1 19.00", datetime(2024, 11, 26, 12, 0, tzinfo=UTC)),
        ("h 07.00", datetime(2024, 11, 27, 0, 0, tzinfo=UTC)),
        ("15.30", datetime(2024, 11, 25, 8, 30, tzinfo=UTC)),
    ],
)
def test_times_people_write(profile: ElectionProfile, text: str, expected: datetime) -> None:
    assert parse_when(text, profile, NOW) == expected


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("kemarin", "tidak dikenali"),
        ("25/11 08.00", "sudah lewat"),
        ("31/11 08.00", "tidak ada"),
        ("besok 25.00", "tidak ada"),
        ("H-5 08.00", "sudah lewat"),
        ("Hx 08.00", "tidak dikenali"),
    ],
)
def test_refusals_say_what_to_write(profile: ElectionProfile, text: str, needle: str) -> None:
    with pytest.raises(WhenError, match=needle) as info:
        parse_when(text, profile, NOW)
    assert "26/11 19.00" in str(info.value)
