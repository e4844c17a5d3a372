"""The schedule officials see (/jadwal, `broadcast list`): upcoming and recent broadcasts with
their delivery counts, paged, limited to what an official's kecamatan addresses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Broadcast, BroadcastStatus, Delivery, DeliveryStatus
from scheduler.audience import addressed_within


@dataclass(frozen=True)
class BroadcastLine:
    id: int
    title: str
    audience: str
    scheduled_at: datetime
    status: BroadcastStatus
    counts: dict[str, int]


async def list_broadcasts(
    session: AsyncSession,
    now: datetime,
    *,
    recent: timedelta = timedelta(days=2),
    limit: int = 30,
    scope: str | None = None,
) -> list[BroadcastLine]:
    """Upcoming broadcasts and those of the last days, with delivery counts; ``scope``: only
    those addressed inside that kecamatan (what an official limited to it may see)."""
    shown = await broadcast_page(session, now, page=1, per_page=limit, recent=recent, scope=scope)
    return shown.lines


@dataclass(frozen=True)
class BroadcastPage:
    lines: list[BroadcastLine]
    page: int  # 1-based, clamped to the pages there are
    pages: int
    total: int


async def broadcast_page(
    session: AsyncSession,
    now: datetime,
    *,
    page: int,
    per_page: int,
    recent: timedelta = timedelta(days=2),
    scope: str | None = None,
) -> BroadcastPage:
    """One page of the schedule (upcoming and recent broadcasts, in time order), nothing cut:
    the other pages are a press away."""
    query = select(Broadcast).where(Broadcast.scheduled_at >= now - recent)
    if scope is None:
        total = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
        pages = max(1, -(-total // per_page))
        page = min(max(page, 1), pages)
        broadcasts = list(
            (
                await session.scalars(
                    query.order_by(Broadcast.scheduled_at, Broadcast.id)
                    .offset((page - 1) * per_page)
                    .limit(per_page)
                )
            ).all()
        )
    else:
        every = [
            b
            for b in (
                await session.scalars(query.order_by(Broadcast.scheduled_at, Broadcast.id))
            ).all()
            if addressed_within(b.audience, scope)
        ]
        total = len(every)
        pages = max(1, -(-total // per_page))
        page = min(max(page, 1), pages)
        broadcasts = every[(page - 1) * per_page : page * per_page]
    ids = [b.id for b in broadcasts]
    counts: dict[int, dict[str, int]] = {i: {} for i in ids}
    if ids:
        for bid, status, n in (
            await session.execute(
                select(Delivery.broadcast_id, Delivery.status, func.count())
                .where(Delivery.broadcast_id.in_(ids))
                .group_by(Delivery.broadcast_id, Delivery.status)
            )
        ).all():
            counts[bid][DeliveryStatus(status).value] = n
    lines = [
        BroadcastLine(
            id=b.id,
            title=b.message_key or "teks sendiri",
            audience=b.audience,
            scheduled_at=b.scheduled_at,
            status=b.status,
            counts=counts[b.id],
        )
        for b in broadcasts
    ]
    return BroadcastPage(lines, page, pages, total)
