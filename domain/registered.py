"""Registered groups counted and listed per kelurahan: what /grup shows (domain.group_report
turns it into text)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Group, GroupLevel
from domain.places import Place, all_places, place
from domain.subscriptions import GroupStatus, registration_of
from scheduler.audience import in_region


@dataclass(frozen=True)
class GroupCount:
    """Registered (subscribed and active) groups of one kelurahan."""

    where: Place
    rw_groups: int
    rt_groups: int

    @property
    def total(self) -> int:
        return self.rw_groups + self.rt_groups


async def group_counts(
    session: AsyncSession, kecamatan_code: str | None = None
) -> list[GroupCount]:
    """Every kelurahan (of one kecamatan, or the city) with its registered group counts."""
    counts: dict[tuple[str, GroupLevel], int] = {}
    rows = await session.execute(
        select(Group.kelurahan_code, Group.level, func.count())
        .where(Group.subscribed.is_(True), Group.active.is_(True))
        .group_by(Group.kelurahan_code, Group.level)
    )
    for code, level, count in rows.all():
        if code is not None and level is not None:
            counts[(code, level)] = int(count)
    return [
        GroupCount(
            p,
            counts.get((p.code, GroupLevel.RW), 0),
            counts.get((p.code, GroupLevel.RT), 0),
        )
        for p in await all_places(session)
        if in_region(p.code, kecamatan_code)  # a kecamatan, or (a lurah) one kelurahan
    ]


async def groups_in(session: AsyncSession, kelurahan_code: str) -> list[GroupStatus]:
    """Every group ever registered in a kelurahan, registered ones first, by RW and RT."""
    where = await place(session, kelurahan_code)
    groups = (
        await session.scalars(select(Group).where(Group.kelurahan_code == kelurahan_code))
    ).all()
    out = [
        GroupStatus(
            g.chat_id,
            g.title,
            g.active,
            g.subscribed,
            registration_of(g),
            where,
            g.subscribed_at,
        )
        for g in groups
    ]
    return sorted(
        out,
        key=lambda s: (
            not (s.subscribed and s.active),
            s.registration.rw if s.registration else 0,
            (s.registration.rt or 0) if s.registration else 0,
            s.title,
        ),
    )
