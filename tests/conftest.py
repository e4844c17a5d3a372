"""Shared fixtures: a real SQLite file per test, migrated, with Kota Malang's map loaded."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage import open_storage
from db.engine import SessionFactory
from election.profile import ElectionProfile, load_profile
from scheduler.clock import FixedClock
from tests.postgres import postgres_server, require_server

ADMIN_ID = 900001


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `long` run first: on the parallel run (`-n`) a long test started last
    would leave one worker busy alone at the end. The order within each part is kept."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


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


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """One private PostgreSQL cluster for the session (skip, or fail with CI=true, without)."""
    require_server()
    with postgres_server() as url:
        yield url


_databases = itertools.count(1)


@pytest.fixture
async def pg_database(pg_server: str) -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database on the session's cluster, dropped afterwards."""
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(pg_server)
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"test_{next(_databases)}"
    connection = await asyncpg.connect(admin)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    yield url.set(database=name).render_as_string(hide_password=False)
    connection = await asyncpg.connect(admin)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()
