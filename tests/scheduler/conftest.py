"""The engine's tests run on SQLite and, where the machine has a server, on PostgreSQL too.

Each PostgreSQL test gets a fresh database on one private cluster for the whole session.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.postgres import postgres_server, require_server

_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def _pg_cluster() -> Iterator[str]:
    with postgres_server() as url:
        yield url


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every engine test on both databases; one marked ``sqlite_only`` (about SQLite's own
    locking) is not generated for PostgreSQL at all, so the suite shows no skip for it."""
    if "db_url" in metafunc.fixturenames:
        sqlite_only = metafunc.definition.get_closest_marker("sqlite_only") is not None
        backends = ["sqlite"] if sqlite_only else ["sqlite", "postgresql"]
        metafunc.parametrize("db_url", backends, indirect=True)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'kentongan.db'}"
    require_server()  # skips, saying why; with CI=true a missing server fails instead
    import asyncio

    import asyncpg

    base: str = request.getfixturevalue("_pg_cluster")
    name = f"engine_{next(_numbers)}"
    dsn = base.replace("postgresql+asyncpg://", "postgresql://")

    async def create() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    return base.rsplit("/", 1)[0] + f"/{name}"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: no PostgreSQL run of this test")
