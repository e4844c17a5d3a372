"""The field-day benchmark at toy size, so it cannot rot unnoticed: the counts, never the
timings (figures: ``python -m benchmarks field_day``)."""

from __future__ import annotations

import pytest

from benchmarks.field_day import run


async def test_the_field_day_answers_records_and_posts_everything(
    capsys: pytest.CaptureFixture[str],
) -> None:
    day = await run(groups=20, reports=8, window=2.0, baseline=1.0, seed=3)
    assert day.checkin is not None and day.baseline is not None
    assert day.presses >= 20  # every leader, and some members
    assert day.checkin.answered == day.answer_rows == day.presses
    assert day.baseline.answered == day.baseline.presses > 0
    assert day.reports_opened == day.reports_wanted
    # Each group has its own place: every report is its own case, and every case was posted.
    assert day.cases == 8 + day.reports_opened
    assert day.unposted == 0
    assert day.posko_messages > 0 and day.posko_429s == 0 and day.all_429s == 0
    assert day.board_parts == 3  # /lapangan: text, CSV and chart
    assert day.counts_ok
    printed = capsys.readouterr().out
    assert "ack baseline" in printed and "posko busiest minute" in printed
