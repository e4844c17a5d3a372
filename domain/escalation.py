"""Acknowledgement escalation chains, as data (profile `[acknowledgement]`).

A broadcast of an agenda step listed in `steps` must be acknowledged ("✅ Sudah dibaca"). Each
link of the `chain` is due `after_minutes` after the broadcast started, and is taken only for
the groups still silent at that moment:

- `grup`: the reminder in the group (a FOLLOW_UP broadcast to `unacked:<id>`, as /belum's);
- `admin`: a private message to the group's registered admin (when they started the bot);
- `lurah` / `camat`: one list of the silent groups to each official of the kelurahan, then to
  each official of the kecamatan (kecamatan-wide only: the lurah already had theirs).

Rows in `escalation_steps` (one per broadcast, step and group) are written before anything is
sent, and an audit entry marks the step taken, so each step runs once, even across restarts.
Who a step reaches, and the messages they get: domain.escalation_notices.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import SessionFactory
from db.models import (
    AuditEntry,
    Broadcast,
    BroadcastSource,
    BroadcastStatus,
    EscalationStep,
    Group,
)
from domain.audit import audit
from domain.escalation_notices import silent_groups, tell_admins, tell_officials, when_sent
from domain.notices import PrivateNotifier
from domain.nudges import MESSAGE_KEY, nudge_text
from domain.officials import Actor
from domain.reports import broadcast_title
from election.profile import ChainStep, ElectionProfile
from messages.render import render
from scheduler.audience import Audience, addressed_within, region_filter

MARK = "escalation.step"  # the audit action that marks a step taken


@dataclass(frozen=True)
class PendingStep:
    broadcast_id: int
    step: int  # index in the chain
    action: str
    due_at: datetime


@dataclass
class StepResult:
    broadcast_id: int
    step: int
    action: str
    groups: int  # silent groups this step was taken for
    notified: int  # people (or the nudge's groups) told
    nudge_id: int | None = None  # the grup step's follow-up, for the caller to schedule
    officials: list[int] = field(default_factory=list)


def requires_ack(broadcast: Broadcast, profile: ElectionProfile) -> bool:
    """Whether an official asked for it (/eskalasi), or the broadcast's agenda step is one the
    profile says must be acknowledged."""
    if broadcast.ack_chain and broadcast.source is not BroadcastSource.FOLLOW_UP:
        return True
    if broadcast.source is not BroadcastSource.TIMELINE or not broadcast.timeline_key:
        return False
    parts = broadcast.timeline_key.split(":")
    return len(parts) > 1 and parts[1] in profile.acknowledgement.steps


def _due(broadcast: Broadcast, link: ChainStep) -> datetime:
    start = broadcast.started_at or broadcast.scheduled_at
    return start + timedelta(minutes=link.after_minutes)


async def _taken(session: AsyncSession, broadcast_id: int) -> set[int]:
    details = (
        await session.scalars(
            select(AuditEntry.detail).where(
                AuditEntry.action == MARK, AuditEntry.target == f"broadcast:{broadcast_id}"
            )
        )
    ).all()
    return {int(json.loads(d)["step"]) for d in details if d}


async def pending_steps(session: AsyncSession, profile: ElectionProfile) -> list[PendingStep]:
    """Every chain step not yet taken, of every finished broadcast that requires acknowledgement."""
    chain = profile.acknowledgement.chain
    if not chain:
        return []
    chained = Broadcast.ack_chain.is_(True) & (Broadcast.source != BroadcastSource.FOLLOW_UP)
    if profile.acknowledgement.steps:
        chained = chained | (
            (Broadcast.source == BroadcastSource.TIMELINE) & Broadcast.timeline_key.is_not(None)
        )
    broadcasts = (
        await session.scalars(
            select(Broadcast).where(Broadcast.status == BroadcastStatus.DONE, chained)
        )
    ).all()
    pending: list[PendingStep] = []
    for broadcast in broadcasts:
        if not requires_ack(broadcast, profile):
            continue
        taken = await _taken(session, broadcast.id)
        pending += [
            PendingStep(broadcast.id, i, link.to, _due(broadcast, link))
            for i, link in enumerate(chain)
            if i not in taken
        ]
    return sorted(pending, key=lambda p: (p.due_at, p.broadcast_id, p.step))


async def run_step(
    sessions: SessionFactory,
    notifier: PrivateNotifier,
    profile: ElectionProfile,
    now: datetime,
    broadcast_id: int,
    step: int,
) -> StepResult | None:
    """Take one chain step for the groups still silent; None if taken before (or not a step)."""
    chain = profile.acknowledgement.chain
    if not 0 <= step < len(chain):
        return None
    link = chain[step]
    async with sessions.begin() as session:
        broadcast = await session.get(Broadcast, broadcast_id)
        if broadcast is None or not requires_ack(broadcast, profile):
            return None
        if step in await _taken(session, broadcast_id) or now < _due(broadcast, link):
            return None
        silent = await silent_groups(session, broadcast_id, step)
        # Claimed before anything is sent: a crash mid-step never repeats it.
        rows = [
            EscalationStep(
                broadcast_id=broadcast_id, step=step, action=link.to, group_id=g.id, at=now
            )
            for g in silent
        ]
        session.add_all(rows)
        result = StepResult(broadcast_id, step, link.to, len(silent), 0)
        if link.to == "grup" and silent:
            result.nudge_id = await _nudge(session, broadcast, profile, now)
            result.notified = len(silent)
            for row in rows:
                row.notified = 1
        audit(
            session,
            now,
            None,
            MARK,
            f"broadcast:{broadcast_id}",
            step=step,
            to=link.to,
            groups=len(silent),
            follow_up=result.nudge_id,
        )
        title = broadcast_title(broadcast, limit=80)
        sent_at = when_sent(broadcast, profile)
    if link.to == "admin":
        await tell_admins(sessions, notifier, profile, now, silent, rows, title, sent_at)
        result.notified = sum(r.notified for r in rows)
    elif link.to in ("lurah", "camat"):
        result.officials = await tell_officials(
            sessions, notifier, profile, now, link.to, broadcast_id, silent, rows, title
        )
        result.notified = len(result.officials)
    return result


async def _nudge(
    session: AsyncSession, parent: Broadcast, profile: ElectionProfile, now: datetime
) -> int:
    """The reminder in the silent groups: a follow-up the engine resolves when it sends."""
    nudge = Broadcast(
        source=BroadcastSource.FOLLOW_UP,
        parent_id=parent.id,
        message_key=MESSAGE_KEY,
        text=nudge_text(parent, profile),
        audience=Audience(unacked_of=parent.id).spec(),
        scheduled_at=now,
        expires_at=parent.expires_at,
        priority=parent.priority,
        status=BroadcastStatus.SCHEDULED,
        created_at=now,  # created_by None: the system, as the profile's chain asks
    )
    session.add(nudge)
    await session.flush()
    return nudge.id


async def run_due(
    sessions: SessionFactory,
    notifier: PrivateNotifier,
    profile: ElectionProfile,
    now: datetime,
    on_nudge: Callable[[int], Awaitable[None]] | None = None,
) -> list[StepResult]:
    """Every step whose time has come, in order (what the jobs do; tests call it directly)."""
    async with sessions() as session:
        due = [p for p in await pending_steps(session, profile) if p.due_at <= now]
    results: list[StepResult] = []
    for pending in due:
        result = await run_step(
            sessions, notifier, profile, now, pending.broadcast_id, pending.step
        )
        if result is None:
            continue
        results.append(result)
        if result.nudge_id is not None and on_nudge is not None:
            await on_nudge(result.nudge_id)
    return results


async def summary(
    session: AsyncSession,
    broadcast_id: int,
    profile: ElectionProfile,
    now: datetime,
    scope: str | None = None,
) -> str:
    """For /belum: the steps taken so far, when, for how many groups of the scope ('' when
    none)."""
    rows = (
        await session.execute(
            select(
                EscalationStep.step,
                EscalationStep.action,
                func.min(EscalationStep.at),
                func.count(),
                func.sum(EscalationStep.notified),
            )
            .join(Group, Group.id == EscalationStep.group_id)
            .where(
                EscalationStep.broadcast_id == broadcast_id,
                region_filter(Group.kelurahan_code, scope),
            )
            .group_by(EscalationStep.step, EscalationStep.action)
            .order_by(EscalationStep.step)
        )
    ).all()
    if not rows:
        return ""
    parts = []
    for _step, action, at, groups, _notified in rows:
        label = render(STEP_KEYS[action], profile, now)
        local = at.astimezone(profile.tz)
        parts.append(f"{label} {local:%H.%M} ({groups} grup)")
    return render("sistem.eskalasi.ringkasan", profile, now, {"langkah": "; ".join(parts)})


class EscalationRefused(Exception):
    """Why /eskalasi changes nothing: a library key and its parameters."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


STEP_KEYS = {
    "grup": "sistem.eskalasi.grup",
    "admin": "sistem.eskalasi.langkah_admin",
    "lurah": "sistem.eskalasi.lurah",
    "camat": "sistem.eskalasi.camat",
}


def chain_text(profile: ElectionProfile, now: datetime) -> str:
    """'pengingat di grup (+60 menit), pesan ke admin grup (+120 menit), …'."""
    return ", ".join(
        render(
            "sistem.eskalasi.menit",
            profile,
            now,
            {"langkah": render(STEP_KEYS[c.to], profile, now), "menit": c.after_minutes},
        )
        for c in profile.acknowledgement.chain
    )


async def require_acknowledgement(
    session: AsyncSession, actor: Actor, broadcast_id: int, profile: ElectionProfile, now: datetime
) -> Broadcast:
    """An admin asks for the chain on one broadcast of their area (/eskalasi); audited."""
    if not actor.is_admin:
        raise EscalationRefused("sistem.eskalasi.hanya_admin")
    if not profile.acknowledgement.chain:
        raise EscalationRefused("sistem.eskalasi.rantai_kosong")
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise EscalationRefused("sistem.eskalasi.tidak_ditemukan", broadcast_id=broadcast_id)
    if broadcast.source is BroadcastSource.FOLLOW_UP or broadcast.status in (
        BroadcastStatus.CANCELLED,
        BroadcastStatus.SKIPPED,
    ):
        raise EscalationRefused("sistem.eskalasi.bukan_siaran_asal", broadcast_id=broadcast_id)
    if not actor.citywide and not addressed_within(broadcast.audience, actor.scope or ""):
        raise EscalationRefused("sistem.eskalasi.di_luar_wilayah", broadcast_id=broadcast_id)
    if requires_ack(broadcast, profile):
        raise EscalationRefused("sistem.eskalasi.sudah", broadcast_id=broadcast_id)
    broadcast.ack_chain = True
    audit(session, now, actor.user_id, "broadcast.ack_chain", f"broadcast:{broadcast_id}")
    return broadcast
