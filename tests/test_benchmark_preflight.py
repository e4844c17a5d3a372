"""The pre-flight benchmark's cell works at a small size (the figures come from running it)."""

from __future__ import annotations

from benchmarks.preflight import cell
from db.models import ReachOutcome


async def test_preflight_cell_paces_under_the_read_limit() -> None:
    result = await cell("smoke", groups=120, rate=200, limit=400)
    assert result.too_many == 0
    assert result.outcomes == {
        ReachOutcome.OK: 115,  # with the two migrated groups, followed and found fine
        ReachOutcome.KICKED: 3,
        ReachOutcome.CANNOT_SEND: 2,
    }
    assert result.calls >= 2 * 115


async def test_the_scheduled_step_cell_reports_once_and_stays_under_the_limit() -> None:
    result = await cell("smoke", groups=120, rate=200, limit=400, scheduled=True)
    assert result.too_many == 0
    assert result.reported_to == 1  # the root admin, once
    assert result.outcomes[ReachOutcome.KICKED] == 3
    assert result.floor_at_rate == (result.calls - result.too_many) / 200
