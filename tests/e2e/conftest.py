from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.harness import Harness, running_kentongan

BACKENDS = ("sqlite", "postgresql")
TRANSPORTS = ("polling", "webhook")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked `both_databases` run once on SQLite and once on PostgreSQL."""
    if "database" in metafunc.fixturenames and metafunc.definition.get_closest_marker(
        "both_databases"
    ):
        metafunc.parametrize("database", BACKENDS, indirect=True)
    if "transport" in metafunc.fixturenames and metafunc.definition.get_closest_marker(
        "both_transports"
    ):
        metafunc.parametrize("transport", TRANSPORTS, indirect=True)


@pytest.fixture
def transport(request: pytest.FixtureRequest) -> str:
    """How updates reach the bot: long polling, or webhooks the local server delivers."""
    return str(getattr(request, "param", "polling"))


@pytest.fixture
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The bot's DATABASE_URL: a fresh SQLite file, or a fresh PostgreSQL database."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'kentongan.db'}"
    return str(request.getfixturevalue("pg_database"))


@pytest.fixture
async def kentongan(tmp_path: Path, database: str, transport: str) -> AsyncIterator[Harness]:
    """The bot running against the local Bot API server (Telegram's limits on), fresh database."""
    async with running_kentongan(tmp_path, database_url=database, transport=transport) as harness:
        yield harness
