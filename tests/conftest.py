"""Shared fixtures: a real SQLite file per test, migrated, with Kota Malang's map loaded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage import open_storage
from db.engine import SessionFactory
from election.profile import ElectionProfile, load_profile
from scheduler.clock import FixedClock

ADMIN_ID = 900001


@pytest.fixture
def profile() -> ElectionProfile:
    return load_profile()


@pytest.fixture
def clock() -> FixedClock:
    # Monday 25 November 2024, 08.00 WIB: H-2.
    return FixedClock(datetime(2024, 11, 25, 1, 0, tzinfo=UTC))


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'kentongan.db'}"


@pytest.fixture
async def storage(
    db_url: str, clock: FixedClock
) -> AsyncIterator[tuple[AsyncEngine, SessionFactory]]:
    engine, sessions = await open_storage(db_url, frozenset({ADMIN_ID}), clock.now())
    yield engine, sessions
    await engine.dispose()


@pytest.fixture
def sessions(storage: tuple[AsyncEngine, SessionFactory]) -> SessionFactory:
    return storage[1]
