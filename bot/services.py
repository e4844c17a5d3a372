"""What the handlers and jobs share: built in post_init, closed in post_shutdown."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import Settings
from db.engine import SessionFactory
from election.profile import ElectionProfile
from scheduler.clock import Clock
from scheduler.engine import BroadcastEngine


@dataclass
class Services:
    settings: Settings
    profile: ElectionProfile
    clock: Clock
    engine: AsyncEngine
    sessions: SessionFactory
    broadcasts: BroadcastEngine
    # Closed in post_shutdown, in reverse order.
    closers: list[Callable[[], Awaitable[object]]] = field(default_factory=list)
