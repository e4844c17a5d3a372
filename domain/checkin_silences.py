"""No answer is a signal: after a check-in's deadline, the groups reached whose leaders gave no
answer are listed once (``checkin_silences``) to the officials of their area and the root
admins."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Broadcast,
    BroadcastStatus,
    CheckInSilence,
    Delivery,
    DeliveryStatus,
    Group,
    Official,
)
from domain.checkin_counts import place_names
from domain.checkins import group_answers
from domain.officials import scope_contains, scope_of
from scheduler.checkin import ResolvedCheckIn


@dataclass(frozen=True)
class SilentGroup:
    group_id: int
    title: str
    kelurahan_code: str | None
    kelurahan: str
    rw: int | None
    rt: int | None


@dataclass(frozen=True)
class SilenceNotice:
    """What one official is told about one check-in: the silent groups in their area."""

    user_id: int
    broadcast_id: int
    message_key: str | None
    deadline: datetime
    groups: list[SilentGroup]
    reached: int


async def due_silences(session: AsyncSession, now: datetime) -> list[int]:
    """Check-ins past their deadline whose no-answer list has not been sent yet."""
    listed = select(CheckInSilence.broadcast_id)
    ids = []
    for broadcast in (
        await session.scalars(
            select(Broadcast).where(
                Broadcast.checkin.is_not(None),
                Broadcast.started_at.is_not(None),
                Broadcast.id.not_in(listed),
            )
        )
    ).all():
        checkin = ResolvedCheckIn.from_json(broadcast.checkin)
        if checkin is not None and checkin.deadline <= now:
            ids.append(broadcast.id)
    return sorted(ids)


async def upcoming_deadlines(session: AsyncSession) -> list[tuple[int, datetime]]:
    """(broadcast id, deadline) of every check-in whose list is still to be sent (for jobs)."""
    listed = select(CheckInSilence.broadcast_id)
    rows = (
        await session.scalars(
            select(Broadcast).where(
                Broadcast.checkin.is_not(None),
                Broadcast.id.not_in(listed),
                # Set aside before it ever went out: nobody was asked, so nobody is silent.
                Broadcast.status.not_in((BroadcastStatus.CANCELLED, BroadcastStatus.SKIPPED))
                | Broadcast.started_at.is_not(None),
            )
        )
    ).all()
    result = []
    for broadcast in rows:
        checkin = ResolvedCheckIn.from_json(broadcast.checkin)
        if checkin is not None:
            result.append((broadcast.id, checkin.deadline))
    return sorted(result, key=lambda r: r[1])


async def take_silence(
    session: AsyncSession, broadcast_id: int, now: datetime, root_ids: Iterable[int]
) -> list[SilenceNotice] | None:
    """Claim a check-in's no-answer list (None: already sent) and say who is told what.

    Officials scoped to a kecamatan or kelurahan get the silent groups inside it; root admins
    get all of them. Recorded in the same transaction as the claim: sent once.
    """
    if await session.get(CheckInSilence, broadcast_id) is not None:
        return None
    broadcast = await session.get(Broadcast, broadcast_id)
    checkin = ResolvedCheckIn.from_json(broadcast.checkin if broadcast else None)
    if broadcast is None or checkin is None:
        return None
    answered = await group_answers(session, broadcast_id)
    kelurahan, _ = await place_names(session)
    reached = await session.execute(
        select(Group)
        .join(Delivery, Delivery.group_id == Group.id)
        .where(Delivery.broadcast_id == broadcast_id, Delivery.status == DeliveryStatus.SENT)
        .order_by(Group.kelurahan_code, Group.rw, Group.rt, Group.id)
    )
    groups = list(reached.scalars().all())
    silent = [
        SilentGroup(
            g.id,
            g.title,
            g.kelurahan_code,
            kelurahan.get(g.kelurahan_code or "", (g.kelurahan_code or "-", ""))[0],
            g.rw,
            g.rt,
        )
        for g in groups
        if g.id not in answered
    ]
    roots = set(root_ids)
    officials = (
        await session.scalars(
            select(Official).where(
                Official.active.is_(True),
                Official.kecamatan_code.is_not(None)
                | Official.root.is_(True)
                | Official.user_id.in_(roots),
            )
        )
    ).all()
    notices: list[SilenceNotice] = []
    for official in sorted(officials, key=lambda o: o.user_id):
        # A lurah's staff get their kelurahan's groups, a camat's their kecamatan's.
        scope = None if official.root or official.user_id in roots else scope_of(official)
        mine = [s for s in silent if scope_contains(scope, s.kelurahan_code)]
        total = sum(1 for g in groups if scope_contains(scope, g.kelurahan_code))
        if mine:
            notices.append(
                SilenceNotice(
                    official.user_id,
                    broadcast_id,
                    broadcast.message_key,
                    checkin.deadline,
                    mine,
                    total,
                )
            )
    session.add(
        CheckInSilence(
            broadcast_id=broadcast_id,
            silent_groups=len(silent),
            recipients=len(notices),
            listed_at=now,
        )
    )
    await session.flush()
    return notices
