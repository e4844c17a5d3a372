"""Start-up of storage: engine, migrations, the map and the first officials; and the one way
the shell commands run a job on it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import SettingsError
from db import migrate
from db.engine import SessionFactory, create_engine, create_session_factory
from domain.officials import assert_root_admins
from domain.regions import sync_regions
from election.profile import ElectionProfile, load_profile
from scheduler.clock import SystemClock

if TYPE_CHECKING:
    from bot.settings import Settings

T = TypeVar("T")


class StorageUnavailable(SettingsError):
    """The database cannot be opened; the message is one line naming it and what to do. A
    SettingsError (DATABASE_URL names it), so the CLI prints it as one line and exits 2."""


def _where(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    return parsed.render_as_string(hide_password=True)


def _unavailable(url: str, exc: BaseException) -> StorageUnavailable:
    reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:120]
    return StorageUnavailable(
        f"database {_where(url)} cannot be opened ({reason}); restore it from a backup, "
        "or move it away to start with an empty one, then start again"
    )


async def open_storage(
    url: str, admin_ids: frozenset[int], now: datetime
) -> tuple[AsyncEngine, SessionFactory]:
    """Create the engine, migrate, load the map, re-assert ADMIN_IDS as root admins; idempotent."""
    try:
        engine = create_engine(url)
    except OSError as exc:  # the folder cannot be made
        raise _unavailable(url, exc) from None
    try:
        await migrate.upgrade(engine)
        sessions = create_session_factory(engine)
        async with sessions.begin() as session:
            await sync_regions(session)
            # Root admins are re-asserted at every start: a demoted or moved one is restored.
            await assert_root_admins(session, admin_ids, now)
    except (DatabaseError, OperationalError, OSError) as exc:
        await engine.dispose()
        raise _unavailable(url, exc) from None
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
