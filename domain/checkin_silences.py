"""No answer is a signal: after a check-in's deadline, the groups reached whose leaders gave no
answer are listed once (``checkin_silences``) to the officials of their area and the root
admins.

Each official's list is an outbox row (``checkin_silence_notices``) written with the claim and
marked sent only after the send: a crash or a failed send in between leaves it to the next run
(at least once per official), and a row marked sent is never sent again. A send in progress
holds a short lease (``claimed_at``) so two runs never send the same row at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Broadcast,
    BroadcastStatus,
    CheckInSilence,
    CheckInSilenceNotice,
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
    for notice in notices:
        session.add(
            CheckInSilenceNotice(
                broadcast_id=broadcast_id, user_id=notice.user_id, payload=_payload(notice),
                attempts=0,
            )
        )  # fmt: skip
    await session.flush()
    return notices


# -- the outbox ----------------------------------------------------------------------------------

LEASE = timedelta(minutes=5)  # a send not confirmed by then is taken as lost (a crash)
MAX_ATTEMPTS = 5  # transient failures in a row before a notice is given up


def _payload(notice: SilenceNotice) -> dict[str, Any]:
    return {
        "message_key": notice.message_key,
        "deadline": notice.deadline.isoformat(),
        "reached": notice.reached,
        "groups": [[g.group_id, g.title, g.kelurahan_code, g.kelurahan, g.rw, g.rt]
                   for g in notice.groups],
    }  # fmt: skip


def _notice(row: CheckInSilenceNotice) -> SilenceNotice:
    data = row.payload or {}
    return SilenceNotice(
        user_id=row.user_id,
        broadcast_id=row.broadcast_id,
        message_key=data.get("message_key"),
        deadline=datetime.fromisoformat(str(data["deadline"])),
        groups=[SilentGroup(*g) for g in data.get("groups", [])],
        reached=int(data.get("reached", 0)),
    )


def _claimable(now: datetime) -> Any:
    return (
        CheckInSilenceNotice.sent_at.is_(None)
        & CheckInSilenceNotice.failed_at.is_(None)
        & (
            CheckInSilenceNotice.claimed_at.is_(None)
            | (CheckInSilenceNotice.claimed_at < now - LEASE)
        )
    )


async def unsent_notices(session: AsyncSession, now: datetime) -> list[tuple[int, int]]:
    """(broadcast, official) of every notice waiting to be sent (not claimed by a live send)."""
    rows = await session.execute(
        select(CheckInSilenceNotice.broadcast_id, CheckInSilenceNotice.user_id)
        .where(_claimable(now))
        .order_by(CheckInSilenceNotice.broadcast_id, CheckInSilenceNotice.user_id)
    )
    return [(int(b), int(u)) for b, u in rows.all()]


async def claim_notice(
    session: AsyncSession, broadcast_id: int, user_id: int, now: datetime
) -> SilenceNotice | None:
    """Take one notice for sending (None: sent, given up, or another run has it). The update is
    the transaction's first statement, so two runs cannot both win it."""
    result = await session.execute(
        update(CheckInSilenceNotice)
        .where(
            CheckInSilenceNotice.broadcast_id == broadcast_id,
            CheckInSilenceNotice.user_id == user_id,
            _claimable(now),
        )
        .values(claimed_at=now, attempts=CheckInSilenceNotice.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return None
    row = await session.get(CheckInSilenceNotice, (broadcast_id, user_id))
    return _notice(row) if row is not None else None


async def release_claims(session: AsyncSession) -> int:
    """At start: no send of this process is in flight, so every claim left is a crash's."""
    result = await session.execute(
        update(CheckInSilenceNotice)
        .where(CheckInSilenceNotice.sent_at.is_(None), CheckInSilenceNotice.claimed_at.is_not(None))
        .values(claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def notice_sent(
    session: AsyncSession, broadcast_id: int, user_id: int, now: datetime
) -> None:
    row = await session.get(CheckInSilenceNotice, (broadcast_id, user_id))
    if row is not None:
        row.sent_at = now
        row.error = None


async def notice_failed(
    session: AsyncSession,
    broadcast_id: int,
    user_id: int,
    now: datetime,
    error: str,
    *,
    permanent: bool,
) -> bool:
    """A send that failed: retried on the next run, or given up (permanent, or too many
    attempts). Whether it was given up."""
    row = await session.get(CheckInSilenceNotice, (broadcast_id, user_id))
    if row is None:
        return True
    row.error = error[:200]
    row.claimed_at = None
    if permanent or row.attempts >= MAX_ATTEMPTS:
        row.failed_at = now
        return True
    return False
