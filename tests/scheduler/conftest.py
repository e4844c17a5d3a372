"""The engine's tests run on SQLite and, where the machine has a server, on PostgreSQL too.

Each PostgreSQL test gets a fresh database on one private cluster for the whole session.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.postgres import postgres_server, require_server, unavailable_reason

_PG_REASON = unavailable_reason()
_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def _pg_cluster() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'kentongan.db'}"
    if _PG_REASON is not None:
        require_server()  # skips here; with CI=true the PostgreSQL run may not vanish: fails
    if request.node.get_closest_marker("sqlite_only"):
        pytest.skip("about SQLite's own locking")
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
    config.addinivalue_line("markers", "sqlite_only: skip the PostgreSQL run of this test")
