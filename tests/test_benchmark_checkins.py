"""The check-in benchmark at toy size, so it cannot rot unnoticed (figures: run the script)."""

from __future__ import annotations

import pytest

from benchmarks.checkins import run


async def test_the_check_in_benchmark_answers_and_records_every_press(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Counts only: the p99 target is the full-size script's (a loaded test machine is no measure).
    assert await run(groups=20, window=1.0, seed=3, timed=False)
    printed = capsys.readouterr().out
    assert "baseline" in printed and "check-in" in printed
    assert "all answered and recorded" in printed
