"""Start-up of storage: engine, migrations, the map and the first officials."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from db import migrate
from db.engine import SessionFactory, create_engine, create_session_factory
from db.models import Official, OfficialRole
from domain.regions import sync_regions


async def open_storage(
    url: str, admin_ids: frozenset[int], now: datetime
) -> tuple[AsyncEngine, SessionFactory]:
    """Create the engine, migrate, load the map and seed ADMIN_IDS as admins; idempotent."""
    engine = create_engine(url)
    await migrate.upgrade(engine)
    sessions = create_session_factory(engine)
    async with sessions.begin() as session:
        await sync_regions(session)
        known = set((await session.scalars(select(Official.user_id))).all())
        for user_id in sorted(admin_ids - known):
            session.add(Official(user_id=user_id, role=OfficialRole.ADMIN, added_at=now, name=""))
    return engine, sessions
