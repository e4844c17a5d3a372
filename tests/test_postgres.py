"""PostgreSQL by changing one URL: migrations, the map, a broadcast through the engine."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

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
from scheduler.engine import BroadcastEngine
from scheduler.engine_config import EngineConfig
from scheduler.lease import InstanceLease
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


async def _pg_broadcast(sessions: Any, audience: str = "all") -> int:
    async with sessions.begin() as session:
        broadcast = Broadcast(
            source=BroadcastSource.CUSTOM,
            text="<b>TPS sudah buka</b>",
            audience=audience,
            scheduled_at=NOW,
            expires_at=NOW + timedelta(hours=4),
            status=BroadcastStatus.SCHEDULED,
            created_at=NOW,
        )
        session.add(broadcast)
    return broadcast.id


async def test_two_engines_on_postgres_send_each_group_once(pg_url: str) -> None:
    """FOR UPDATE SKIP LOCKED claims: two engines on one PostgreSQL, every group once."""
    engine, sessions = await open_storage(pg_url, frozenset({1}), NOW)
    try:
        chats = await add_groups(
            sessions, 300, start_chat=-1003000000000, kelurahan="35.73.02.1008"
        )
        broadcast_id = await _pg_broadcast(sessions, "kelurahan:35.73.02.1008")
        senders = [RecordingSender(delay=0.002), RecordingSender(delay=0.002)]
        engines = [
            BroadcastEngine(
                sessions,
                sender,
                FixedClock(NOW),
                render=lambda b: b.text or "",
                groups=GROUP_DIRECTORY,
                config=EngineConfig(rate=5000, workers=4, claim_batch=8),
            )
            for sender in senders
        ]
        summaries = await asyncio.gather(*(e.run(broadcast_id) for e in engines))
        sent = senders[0].sent_chats() + senders[1].sent_chats()
        assert sorted(sent) == sorted(chats)
        assert all(s.calls for s in senders)
        assert BroadcastStatus.DONE in {s.status for s in summaries}
    finally:
        await engine.dispose()


async def test_instance_lease_on_postgres(pg_url: str) -> None:
    engine, sessions = await open_storage(pg_url, frozenset({1}), NOW)
    try:
        first = InstanceLease(sessions, "first", name="pg-test")
        second = InstanceLease(sessions, "second", name="pg-test")
        assert await first.try_acquire() is None and first.held
        holder = await second.try_acquire()
        assert holder is not None and holder.holder == "first" and not second.held
        assert await first.renew()
        await first.release()
        assert await second.try_acquire() is None and second.held
        assert not await first.renew()  # someone else's now
    finally:
        await engine.dispose()
