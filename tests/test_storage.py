"""Migrations, models and the map on a real SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage import open_storage
from db import migrate
from db.engine import SessionFactory
from db.models import (
    Acknowledgement,
    Broadcast,
    BroadcastSource,
    BroadcastStatus,
    Delivery,
    DeliveryStatus,
    Group,
    GroupLevel,
    Kecamatan,
    Kelurahan,
    Official,
    OfficialRole,
)
from domain.regions import sync_regions
from tests.conftest import ADMIN_ID

NOW = datetime(2024, 11, 25, 1, 0, tzinfo=UTC)


async def _schema(engine: AsyncEngine) -> dict[str, list[str]]:
    def _read(conn):  # type: ignore[no-untyped-def]
        insp = inspect(conn)
        return {t: sorted(c["name"] for c in insp.get_columns(t)) for t in insp.get_table_names()}

    async with engine.connect() as conn:
        return await conn.run_sync(_read)


async def test_migrations_create_schema_then_change_nothing(db_url: str) -> None:
    engine, _ = await open_storage(db_url, frozenset(), NOW)
    first = await _schema(engine)
    assert {"groups", "broadcasts", "deliveries", "acknowledgements", "audit_log"} <= set(first)
    assert "chat_id" in first["groups"]
    assert await migrate.current_revision(engine) == migrate.head_revision()
    await engine.dispose()

    engine, _ = await open_storage(db_url, frozenset(), NOW)
    assert await _schema(engine) == first
    assert await migrate.current_revision(engine) == migrate.head_revision()
    await engine.dispose()


async def test_sqlite_pragmas(storage: tuple[AsyncEngine, SessionFactory]) -> None:
    engine, _ = storage
    async with engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == 10000


async def test_map_loaded_once(sessions: SessionFactory) -> None:
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Kecamatan)) == 5
        assert await session.scalar(select(func.count()).select_from(Kelurahan)) == 57
        oro = await session.get(Kelurahan, "35.73.02.1008")
        assert oro is not None and "Oro Oro Dowo" in oro.alt_names.split(";")
    async with sessions.begin() as session:
        assert await sync_regions(session) == 0


async def test_admin_ids_seeded_as_admins(sessions: SessionFactory) -> None:
    async with sessions() as session:
        official = await session.get(Official, ADMIN_ID)
        assert official is not None and official.role is OfficialRole.ADMIN


async def _group(sessions: SessionFactory, chat_id: int) -> int:
    async with sessions.begin() as session:
        group = Group(
            chat_id=chat_id,
            title="RW 05 Sumbersari",
            level=GroupLevel.RW,
            kelurahan_code="35.73.05.1005",
            rw=5,
            subscribed=True,
            subscribed_by=42,
            subscribed_at=NOW,
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(group)
        await session.flush()
        return group.id


async def test_big_chat_ids_and_utc_round_trip(sessions: SessionFactory) -> None:
    chat_id = -1001234567890123
    group_id = await _group(sessions, chat_id)
    async with sessions() as session:
        group = await session.get(Group, group_id)
        assert group is not None
        assert group.chat_id == chat_id
        assert group.subscribed_at == NOW and group.subscribed_at.tzinfo is not None


async def test_naive_datetime_refused(sessions: SessionFactory) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        async with sessions.begin() as session:
            session.add(Kecamatan(code="x", name="x"))
            session.add(
                Official(user_id=1, role=OfficialRole.OPERATOR, added_at=datetime(2024, 1, 1))
            )


async def test_delivery_and_acknowledgement_are_unique(sessions: SessionFactory) -> None:
    group_id = await _group(sessions, -100500)
    async with sessions.begin() as session:
        broadcast = Broadcast(
            source=BroadcastSource.TIMELINE,
            timeline_key="p:h-07",
            message_key="h.tps_buka",
            audience="all",
            scheduled_at=NOW,
            expires_at=NOW + timedelta(hours=6),
            status=BroadcastStatus.SCHEDULED,
            created_at=NOW,
        )
        session.add(broadcast)
        await session.flush()
        delivery = Delivery(
            broadcast_id=broadcast.id,
            group_id=group_id,
            status=DeliveryStatus.PENDING,
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(delivery)
        await session.flush()
        session.add(Acknowledgement(delivery_id=delivery.id, user_id=7, created_at=NOW))
        broadcast_id, delivery_id = broadcast.id, delivery.id

    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            session.add(
                Delivery(
                    broadcast_id=broadcast_id,
                    group_id=group_id,
                    status=DeliveryStatus.PENDING,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            session.add(Acknowledgement(delivery_id=delivery_id, user_id=7, created_at=NOW))


async def test_foreign_keys_enforced(sessions: SessionFactory) -> None:
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            session.add(
                Group(
                    chat_id=-1,
                    kelurahan_code="99.99",
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
