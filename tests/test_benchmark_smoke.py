"""The broadcast benchmark's engine cell at toy size, so the benchmark cannot rot unnoticed."""

from __future__ import annotations

from pathlib import Path

from benchmarks.broadcast import Options, engine_sender
from benchmarks.sandbox_process import Setup, in_process, tally
from sandbox import Limits


async def test_engine_cell_reaches_every_group_once(tmp_path: Path) -> None:
    # Telegram's limits on: at 29.5/s the 60 groups take about two seconds.
    async with in_process(Setup(groups=60, limits=Limits(), latency_ms=5)) as (server, target):
        result = await engine_sender(target, Options(), db_dir=tmp_path)
        seen = tally(server, target.chat_ids)
    assert (seen.lost, seen.duplicated, seen.too_many) == (0, 0, 0)
    assert seen.delivered == 60 and result.ledger == {"sent": 60}
    assert result.prepare is not None and result.cpu > 0
