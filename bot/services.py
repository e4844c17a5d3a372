"""What the handlers and jobs share: built in post_init, closed in post_shutdown."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.clock import Clock
from bot.core.election import ElectionProfile
from bot.settings import Settings
from db.engine import SessionFactory


@dataclass
class Services:
    settings: Settings
    profile: ElectionProfile
    clock: Clock
    engine: AsyncEngine
    sessions: SessionFactory
