"""Keeps benchmarks/field.py from rotting: a small run meets its own targets."""

from __future__ import annotations

import pytest

from benchmarks.field import busiest_minute, run


def test_busiest_minute() -> None:
    assert busiest_minute([0.0, 10.0, 59.9, 60.0, 61.0]) == 4
    assert busiest_minute([]) == 0


async def test_a_small_field_benchmark_meets_its_targets(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await run(12, 1.0) == 0
    out = capsys.readouterr().out
    assert "targets (0 × 429, all recorded and shown once, ≤ 20 a minute, board < 2 s): met" in out
