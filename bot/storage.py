"""Start-up of storage: engine, migrations, the map and the first officials; and the one way
the shell commands run a job on it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from db import migrate
from db.engine import SessionFactory, create_engine, create_session_factory
from domain.officials import assert_root_admins
from domain.regions import sync_regions
from election.profile import ElectionProfile, load_profile
from scheduler.clock import SystemClock

if TYPE_CHECKING:
    from bot.settings import Settings

T = TypeVar("T")


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


def run_job(
    settings: Settings, job: Callable[[SessionFactory, ElectionProfile], Awaitable[T]]
) -> T:
    """Run one shell command's job on the configured database and election, then close it."""

    async def go() -> T:
        engine, sessions = await open_storage(
            settings.database_url, settings.admin_ids, SystemClock().now()
        )
        try:
            return await job(sessions, load_profile(settings.election_profile))
        finally:
            await engine.dispose()

    return asyncio.run(go())
