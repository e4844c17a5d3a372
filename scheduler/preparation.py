"""A broadcast's life in the database: prepared (audience → delivery rows), finished, summed up.

The engine's run loop sends what these functions prepare; they hold no state of their own, so
two engines (or a restarted one) agree on a broadcast by reading and writing its rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Broadcast, BroadcastStatus, Delivery, DeliveryStatus, Group
from scheduler.audience import Audience
from scheduler.checkin import ResolvedCheckIn

TERMINAL = (BroadcastStatus.DONE, BroadcastStatus.CANCELLED, BroadcastStatus.SKIPPED)
NOT_APPROVED = (BroadcastStatus.DRAFT, BroadcastStatus.AWAITING_APPROVAL)

Renderer = Callable[[Broadcast], str]
# What a prepared broadcast is sent with: its text, priority, expiry and a check-in's answers
# as (key, label) (empty: an ordinary broadcast with the ack button).
Prepared = tuple[str, int, datetime | None, tuple[tuple[str, str], ...]]


@dataclass
class BroadcastSummary:
    broadcast_id: int
    status: BroadcastStatus
    reason: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    # Whether this run ended the broadcast (another engine may have ended it first).
    finished_here: bool = field(default=False, compare=False, repr=False)

    @property
    def sent(self) -> int:
        return self.counts.get(DeliveryStatus.SENT.value, 0)

    @property
    def failed(self) -> int:
        return self.counts.get(DeliveryStatus.FAILED.value, 0)

    @property
    def skipped(self) -> int:
        return self.counts.get(DeliveryStatus.SKIPPED.value, 0)


async def prepare(
    session: AsyncSession, broadcast_id: int, now: datetime, render: Renderer
) -> BroadcastSummary | Prepared:
    """Start (or resume) a broadcast: a summary when there is nothing to send."""
    # Locked (PostgreSQL; SQLite has one writer anyway): two engines starting the same
    # broadcast at once take turns, and the second finds it RUNNING.
    broadcast = await session.get(
        Broadcast, broadcast_id, with_for_update=True, populate_existing=True
    )
    if broadcast is None:
        raise LookupError(f"broadcast {broadcast_id} does not exist")
    if broadcast.status in TERMINAL or broadcast.status in NOT_APPROVED:
        return await summarize(session, broadcast)
    expired = broadcast.expires_at is not None and now >= broadcast.expires_at
    if broadcast.status is BroadcastStatus.SCHEDULED:
        if expired:
            broadcast.status = BroadcastStatus.SKIPPED
            broadcast.status_reason = expired_reason(broadcast, "before it could start")
            broadcast.finished_at = now
            return await summarize(session, broadcast)
        if broadcast.text is None:
            broadcast.text = render(broadcast)
        await create_deliveries(session, broadcast, now)
        broadcast.status = BroadcastStatus.RUNNING
        broadcast.started_at = now
    elif expired:  # RUNNING, resumed after its expiry: the rest is no longer useful
        await skip_remaining(
            session, broadcast_id, expired_reason(broadcast, "while resuming"), now
        )
        return await finish_in(session, broadcast, now)
    # RUNNING and not expired: resuming, here or in a second engine. Rows another engine
    # claimed are left alone; those whose claim ran out (a crash) are claimed again.
    checkin = ResolvedCheckIn.from_json(broadcast.checkin)
    answers = tuple((a.key, a.label) for a in checkin.answers) if checkin else ()
    return broadcast.text or "", broadcast.priority, broadcast.expires_at, answers


async def create_deliveries(session: AsyncSession, broadcast: Broadcast, now: datetime) -> None:
    # One INSERT … SELECT: the audience never travels through Python (100,000 groups
    # in a fraction of a second instead of seconds of per-row parameter binding).
    table = Delivery.__table__
    audience = Audience.parse(broadcast.audience)
    groups = audience.groups_query(broadcast.topic).with_only_columns(
        literal(broadcast.id, table.c.broadcast_id.type),
        Group.id,
        literal(DeliveryStatus.PENDING, table.c.status.type),
        literal(0, table.c.attempts.type),
        literal(now, table.c.created_at.type),
        literal(now, table.c.updated_at.type),
    )
    already = select(Delivery.id).where(
        Delivery.broadcast_id == broadcast.id, Delivery.group_id == Group.id
    )
    await session.execute(
        insert(Delivery).from_select(
            ["broadcast_id", "group_id", "status", "attempts", "created_at", "updated_at"],
            groups.where(~already.exists()).order_by(Group.id),
        )
    )


async def skip_remaining(
    session: AsyncSession, broadcast_id: int, reason: str, now: datetime
) -> None:
    await _end_remaining(session, broadcast_id, DeliveryStatus.SKIPPED, reason, now)


async def fail_remaining(
    session: AsyncSession, broadcast_id: int, reason: str, now: datetime
) -> None:
    await _end_remaining(session, broadcast_id, DeliveryStatus.FAILED, reason, now)


async def _end_remaining(
    session: AsyncSession,
    broadcast_id: int,
    status: DeliveryStatus,
    reason: str,
    now: datetime,
) -> None:
    await session.execute(
        update(Delivery)
        .where(
            Delivery.broadcast_id == broadcast_id,
            Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING)),
        )
        .values(status=status, last_error=reason[:255], updated_at=now)
    )


async def finish_in(session: AsyncSession, broadcast: Broadcast, now: datetime) -> BroadcastSummary:
    """Mark a RUNNING broadcast DONE once no delivery is open; say whether this call did."""
    summary = await summarize(session, broadcast)
    summary.finished_here = False
    open_ = summary.counts.get("pending", 0) + summary.counts.get("sending", 0)
    if open_ == 0 and broadcast.status is BroadcastStatus.RUNNING:
        reason = broadcast.status_reason
        if summary.skipped and not reason:
            reason = f"{summary.skipped} grup dilewati (kedaluwarsa)"
        # Compare-and-set: when two engines finish together, one of them says so.
        done = await session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast.id, Broadcast.status == BroadcastStatus.RUNNING)
            .values(status=BroadcastStatus.DONE, finished_at=now, status_reason=reason)
            .execution_options(synchronize_session=False)
        )
        await session.refresh(broadcast)
        summary.finished_here = bool(done.rowcount)  # type: ignore[attr-defined]
        summary.status = broadcast.status
        summary.reason = broadcast.status_reason
    return summary


async def summarize(session: AsyncSession, broadcast: Broadcast) -> BroadcastSummary:
    rows = (
        await session.execute(
            select(Delivery.status, func.count())
            .where(Delivery.broadcast_id == broadcast.id)
            .group_by(Delivery.status)
        )
    ).all()
    return BroadcastSummary(
        broadcast_id=broadcast.id,
        status=broadcast.status,
        reason=broadcast.status_reason,
        counts={DeliveryStatus(s).value: n for s, n in rows},
    )


def expired_reason(broadcast: Broadcast, when: str) -> str:
    return f"kedaluwarsa {when}: berlaku sampai {broadcast.expires_at:%Y-%m-%d %H:%M} UTC"
