"""One active instance: a lease row in the database, held by whoever renews it in time.

Only the holder polls Telegram, runs the scheduler and sends. A second copy of the bot on the
same database finds the lease held and waits as a standby; when the holder dies (kill -9, the
machine gone) its lease runs out and the standby takes it. Plain UPDATEs with a condition, so it
works the same on SQLite and PostgreSQL; times are wall-clock UTC.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from db.engine import SessionFactory
from db.models import InstanceLease as LeaseRow
from db.retry import retrying
from scheduler.clock import Clock, SystemClock

log = logging.getLogger(__name__)

LEASE_NAME = "kentongan"
# Renewed every third of it; a standby looks every STANDBY_POLL: takeover within ttl + poll.
DEFAULT_TTL = 10.0
STANDBY_POLL = 2.0


@dataclass(frozen=True)
class Holder:
    holder: str
    acquired_at: datetime
    heartbeat_at: datetime
    expires_at: datetime


class InstanceLease:
    def __init__(
        self,
        sessions: SessionFactory,
        holder: str,
        *,
        ttl: float = DEFAULT_TTL,
        name: str = LEASE_NAME,
        clock: Clock | None = None,
    ) -> None:
        self.sessions = sessions
        self.holder = holder
        self.ttl = ttl
        self.name = name
        self.clock = clock or SystemClock()
        # For a health endpoint: plain attributes.
        self.held = False
        self.held_since: datetime | None = None
        self.last_renewed: datetime | None = None

    async def try_acquire(self) -> Holder | None:
        """Take the lease if it is free, expired or already ours; else who holds it."""
        return await retrying(self._try_acquire, "taking the instance lease")

    async def _try_acquire(self) -> Holder | None:
        now = self.clock.now()
        until = now + timedelta(seconds=self.ttl)
        async with self.sessions.begin() as session:
            mine = await session.execute(
                update(LeaseRow)
                .where(LeaseRow.name == self.name, LeaseRow.holder == self.holder)
                .values(heartbeat_at=now, expires_at=until)
                .execution_options(synchronize_session=False)
            )
            taken = _rows(mine)
            if not taken:  # not ours: take it if it ran out
                taken = _rows(
                    await session.execute(
                        update(LeaseRow)
                        .where(LeaseRow.name == self.name, LeaseRow.expires_at < now)
                        .values(
                            holder=self.holder, acquired_at=now, heartbeat_at=now, expires_at=until
                        )
                        .execution_options(synchronize_session=False)
                    )
                )
            if not taken:
                dialect = session.get_bind().dialect.name
                insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
                taken = _rows(
                    await session.execute(
                        insert(LeaseRow)
                        .values(
                            name=self.name,
                            holder=self.holder,
                            acquired_at=now,
                            heartbeat_at=now,
                            expires_at=until,
                        )
                        .on_conflict_do_nothing(index_elements=["name"])
                    )
                )
            if taken:
                if not self.held:
                    self.held_since = now
                self.held = True
                self.last_renewed = now
                return None
            row = await session.scalar(select(LeaseRow).where(LeaseRow.name == self.name))
        self.held = False
        assert row is not None
        return Holder(row.holder, row.acquired_at, row.heartbeat_at, row.expires_at)

    async def renew(self) -> bool:
        """Extend our lease; False when it is no longer ours (we stalled and someone took it)."""
        now = self.clock.now()

        async def go() -> int:
            async with self.sessions.begin() as session:
                result = await session.execute(
                    update(LeaseRow)
                    .where(LeaseRow.name == self.name, LeaseRow.holder == self.holder)
                    .values(heartbeat_at=now, expires_at=now + timedelta(seconds=self.ttl))
                    .execution_options(synchronize_session=False)
                )
            return _rows(result)

        renewed = bool(await retrying(go, "renewing the instance lease", give_up_after=self.ttl))
        self.held = renewed
        if renewed:
            self.last_renewed = now
        return renewed

    async def release(self) -> None:
        """Give the lease up at once (a graceful stop): a standby need not wait for it."""

        async def go() -> None:
            async with self.sessions.begin() as session:
                await session.execute(
                    update(LeaseRow)
                    .where(LeaseRow.name == self.name, LeaseRow.holder == self.holder)
                    .values(expires_at=self.clock.now() - timedelta(seconds=1))
                    .execution_options(synchronize_session=False)
                )

        await retrying(go, "releasing the instance lease", give_up_after=5.0)
        self.held = False


def _rows(result: Any) -> int:
    """Rows an UPDATE or INSERT touched (a CursorResult's rowcount)."""
    return int(getattr(result, "rowcount", 0) or 0)
