"""Start-up of storage: engine, migrations, the map and the first officials."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from db import migrate
from db.engine import SessionFactory, create_engine, create_session_factory
from domain.officials import assert_root_admins
from domain.regions import sync_regions


async def open_storage(
    url: str, admin_ids: frozenset[int], now: datetime
) -> tuple[AsyncEngine, SessionFactory]:
    """Create the engine, migrate, load the map, re-assert ADMIN_IDS as root admins; idempotent."""
    engine = create_engine(url)
    await migrate.upgrade(engine)
    sessions = create_session_factory(engine)
    async with sessions.begin() as session:
        await sync_regions(session)
        # Root admins are re-asserted at every start: a demoted or moved one is restored.
        await assert_root_admins(session, admin_ids, now)
    return engine, sessions
