"""Officials as they would stand after a while: added earlier, by someone else.

The approval rules refuse a second admin the creator added or proposed, and one added in the
last 24 hours; tests that need an ordinary approver set one up the way a real city would have:
an admin added days ago by another official."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Official, OfficialRole

# An earlier admin (no longer active) who added the established officials.
EARLIER_ADMIN_ID = 900999


async def seed_official(
    session: AsyncSession,
    user_id: int,
    role: OfficialRole,
    now: datetime,
    *,
    kecamatan_code: str | None = None,
    age: timedelta = timedelta(days=3),
    added_by: int = EARLIER_ADMIN_ID,
) -> Official:
    """An official added ``age`` before ``now`` by ``added_by`` (an approver since then)."""
    since = now - age
    official = Official(
        user_id=user_id,
        role=role,
        kecamatan_code=kecamatan_code,
        active=True,
        added_at=since,
        added_by=added_by,
        name="",
        approver_since=since if role is OfficialRole.ADMIN else None,
        approver_proposed_by=added_by if role is OfficialRole.ADMIN else None,
    )
    session.add(official)
    await session.flush()
    return official
