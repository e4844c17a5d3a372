"""PostgreSQL by changing one URL: migrations, the map, a broadcast through the engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.storage import open_storage
from db import migrate
from db.models import (
    Broadcast,
    BroadcastSource,
    BroadcastStatus,
    Delivery,
    DeliveryStatus,
    Kelurahan,
)
from domain.groups import GROUP_DIRECTORY
from scheduler.clock import FixedClock
from scheduler.engine import BroadcastEngine, EngineConfig
from tests.scheduler.fakes import RecordingSender, add_groups

NOW = datetime(2024, 11, 27, 0, 0, tzinfo=UTC)


@pytest.fixture
def pg_url(pg_database: str) -> str:
    # Skipped without a server, failed with CI=true (tests/conftest.py, tests/postgres.py).
    return pg_database


async def test_same_schema_and_engine_on_postgres(pg_url: str) -> None:
    engine, sessions = await open_storage(pg_url, frozenset({1}), NOW)
    try:
        assert await migrate.current_revision(engine) == migrate.head_revision()
        again, _ = await open_storage(pg_url, frozenset({1}), NOW)  # a second start: no change
        await again.dispose()
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Kelurahan)) == 57
        # Chat ids beyond 32 bits, as supergroups have.
        chats = await add_groups(sessions, 30, start_chat=-1002000000000)
        async with sessions.begin() as session:
            broadcast = Broadcast(
                source=BroadcastSource.CUSTOM,
                text="<b>TPS sudah buka</b>",
                audience="kecamatan:35.73.05",
                scheduled_at=NOW,
                expires_at=NOW + timedelta(hours=4),
                status=BroadcastStatus.SCHEDULED,
                created_at=NOW,
            )
            session.add(broadcast)
        sender = RecordingSender()
        summary = await BroadcastEngine(
            sessions,
            sender,
            FixedClock(NOW),
            render=lambda b: b.text or "",
            groups=GROUP_DIRECTORY,
            config=EngineConfig(rate=5000, workers=8),
        ).run(broadcast.id)
        assert summary.status is BroadcastStatus.DONE and summary.sent == 30
        assert sorted(sender.sent_chats()) == sorted(chats)
        async with sessions() as session:
            statuses = set((await session.scalars(select(Delivery.status))).all())
        assert statuses == {DeliveryStatus.SENT}
    finally:
        await engine.dispose()


def test_a_missing_server_fails_on_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests import postgres

    monkeypatch.setattr(postgres, "_pg_bin", lambda _name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true but no PostgreSQL server"):
        postgres.require_server()
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception, match="no PostgreSQL server binaries"):
        postgres.require_server()
