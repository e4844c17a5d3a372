from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.harness import Harness, running_kentongan


@pytest.fixture
async def kentongan(tmp_path: Path) -> AsyncIterator[Harness]:
    """The bot running against the local Bot API server (Telegram's limits on), fresh SQLite."""
    async with running_kentongan(tmp_path) as harness:
        yield harness
