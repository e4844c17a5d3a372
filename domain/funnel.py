"""The onboarding funnel per kelurahan: listed → bot added → registered → acknowledged.

- listed: RW and RT in the city's list (the coverage import, domain/coverage.py);
- bot added: groups placed in the kelurahan that have the bot in them, registered or not (a
  group that stopped with /berhenti still has the bot);
- registered: of those, subscribed (what a broadcast reaches);
- acknowledged: groups where someone pressed "Sudah dibaca" under the latest broadcast that
  went out (or one of its nudges).

A group the bot is in but whose admin never chose a place belongs to no kelurahan yet; the
city-wide count of those is `unplaced`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Broadcast,
    BroadcastSource,
    Delivery,
    Group,
    Kecamatan,
    Kelurahan,
    Neighbourhood,
)
from scheduler.audience import acknowledged_groups, region_filter


@dataclass
class FunnelRow:
    code: str
    name: str
    kecamatan: str
    listed: int = 0
    added: int = 0
    registered: int = 0
    acknowledged: int = 0


@dataclass(frozen=True)
class Funnel:
    rows: list[FunnelRow]
    unplaced: int  # groups with the bot and no place chosen yet
    broadcast_id: int | None  # the latest broadcast that went out, whose acks are counted

    def total(self) -> FunnelRow:
        total = FunnelRow("", "Total", "")
        for r in self.rows:
            total.listed += r.listed
            total.added += r.added
            total.registered += r.registered
            total.acknowledged += r.acknowledged
        return total


async def latest_broadcast_id(session: AsyncSession) -> int | None:
    """The latest broadcast (not a follow-up nudge) that went out to any group."""
    return await session.scalar(
        select(Broadcast.id)
        .where(
            Broadcast.started_at.is_not(None),
            Broadcast.source != BroadcastSource.FOLLOW_UP,
            select(Delivery.id).where(Delivery.broadcast_id == Broadcast.id).exists(),
        )
        .order_by(Broadcast.started_at.desc(), Broadcast.id.desc())
        .limit(1)
    )


async def funnel(session: AsyncSession, kecamatan_code: str | None = None) -> Funnel:
    places = (
        select(Kelurahan.code, Kelurahan.name, Kecamatan.name)
        .join(Kecamatan, Kecamatan.code == Kelurahan.kecamatan_code)
        .order_by(Kecamatan.code, Kelurahan.name)
    )
    if kecamatan_code is not None:
        places = places.where(region_filter(Kelurahan.code, kecamatan_code))
    rows = {code: FunnelRow(code, name, kec) for code, name, kec in (await session.execute(places))}
    listed = select(Neighbourhood.kelurahan_code, func.count()).group_by(
        Neighbourhood.kelurahan_code
    )
    for code, n in await session.execute(listed):
        if code in rows:
            rows[code].listed = n
    in_groups = select(
        Group.kelurahan_code,
        func.count(),
        func.count().filter(Group.subscribed.is_(True)),
    ).where(Group.active.is_(True), Group.kelurahan_code.is_not(None))
    for placed, added, registered in await session.execute(
        in_groups.group_by(Group.kelurahan_code)
    ):
        if placed in rows:
            rows[placed].added, rows[placed].registered = added, registered
    broadcast_id = await latest_broadcast_id(session)
    if broadcast_id is not None:
        acked = (
            select(Group.kelurahan_code, func.count())
            .where(Group.id.in_(acknowledged_groups(broadcast_id)))
            .group_by(Group.kelurahan_code)
        )
        for where, n in await session.execute(acked):
            if where in rows:
                rows[where].acknowledged = n
    unplaced_query = select(func.count()).where(
        and_(Group.active.is_(True), Group.kelurahan_code.is_(None))
    )
    unplaced = 0 if kecamatan_code else int(await session.scalar(unplaced_query) or 0)
    return Funnel(list(rows.values()), unplaced, broadcast_id)
