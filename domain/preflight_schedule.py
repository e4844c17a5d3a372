"""The pre-flight as a scheduled step: at the profile's `[preflight] at` times (H-3 10.00 and
H-1 10.00 by default) every registered group is checked with Telegram (domain.preflight, paced
under Telegram's limits) and the reach goes to the root admins (the city) and to every scoped
official (their kecamatan or kelurahan), with a button that sends the affected groups'
registered admins what to fix (`send_fix_hints`).

A slot is claimed in `preflight_runs` before it runs, and its report is marked sent, so a slot
runs and reports once; one interrupted before it reported runs again at the next start. Each
official told is recorded (`preflight_reports`) right after their message went out: a run
interrupted between two officials tells only the others when it runs again, and one interrupted
after its checks were stored reports those instead of checking every group again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import SessionFactory
from db.models import (
    AuditEntry,
    Group,
    Official,
    PreflightCheck,
    PreflightReport,
    PreflightRun,
    ReachOutcome,
)
from domain.audit import audit
from domain.notices import Button, PrivateNotifier
from domain.officials import Actor, as_actor
from domain.places import area_label, scope_name
from domain.preflight import DEFAULT_RATE, ChatProber, run_preflight
from domain.reach import reach, reach_text
from election.profile import ElectionProfile
from messages.render import render
from scheduler.audience import Audience
from scheduler.ratelimit import PriorityPacer
from scheduler.timeline import parse_relative

log = logging.getLogger(__name__)

# A slot missed while the bot was down still runs if it is at most this late; older, the next
# slot (or /cekgrup) is the better check.
LATE_ENOUGH = timedelta(hours=12)
# What an admin can fix, by what the check found.
FIXABLE = (ReachOutcome.KICKED, ReachOutcome.LEFT, ReachOutcome.CANNOT_SEND, ReachOutcome.NOT_FOUND)


@dataclass(frozen=True)
class Slot:
    key: str  # "H-3 10.00", as the profile writes it
    due_at: datetime


def slots(profile: ElectionProfile) -> list[Slot]:
    """The profile's pre-flight times as UTC datetimes, earliest first."""
    found = [Slot(at, parse_relative(at.upper(), profile)) for at in profile.preflight.at]
    return sorted(found, key=lambda s: s.due_at)


async def pending_slots(
    session: AsyncSession, profile: ElectionProfile, now: datetime
) -> list[Slot]:
    """Slots still to run: not reported yet and not too late (for the jobs made at start)."""
    done = set(
        (
            await session.scalars(
                select(PreflightRun.slot).where(PreflightRun.reported_at.is_not(None))
            )
        ).all()
    )
    return [s for s in slots(profile) if s.key not in done and now - s.due_at <= LATE_ENOUGH]


async def _claim(sessions: SessionFactory, slot: Slot, now: datetime) -> PreflightRun | None:
    """The slot's row, claimed for this run; None when it already ran and reported."""
    async with sessions.begin() as session:
        row = await session.scalar(select(PreflightRun).where(PreflightRun.slot == slot.key))
        if row is None:
            row = PreflightRun(slot=slot.key, due_at=slot.due_at, started_at=now)
            session.add(row)
            await session.flush()
            return row
        if row.reported_at is not None:
            return None
        row.started_at = now  # interrupted before its report: run it again
        return row


async def report_recipients(session: AsyncSession) -> list[Actor]:
    """Root admins (the whole city) and every active official limited to an area."""
    rows = await session.scalars(
        select(Official)
        .where(
            Official.active.is_(True),
            or_(Official.root.is_(True), Official.kecamatan_code.is_not(None)),
        )
        .order_by(Official.user_id)
    )
    return [as_actor(o) for o in rows.all()]


async def report_text(
    session: AsyncSession, profile: ElectionProfile, now: datetime, slot: str, scope: str | None
) -> tuple[str, bool]:
    """The scheduled report for one scope (HTML), and whether it lists a fixable group."""
    result = await reach(session, Audience.of_scope(scope))
    title = render(
        "sistem.preflight_jadwal.judul",
        profile,
        now,
        {"slot": slot, "wilayah": await scope_name(session, scope)},
    )
    fixable = any(p.outcome in FIXABLE for p in result.problems)
    return title + "\n" + reach_text(result, profile, now, limit=40), fixable


async def run_slot(
    sessions: SessionFactory,
    prober: ChatProber,
    notifier: PrivateNotifier,
    profile: ElectionProfile,
    now: Callable[[], datetime],
    slot: Slot,
    *,
    button: Callable[[int], Button],
    rate: float | None = None,
    pacer: PriorityPacer | None = None,
) -> PreflightRun | None:
    """Run one slot and report it once; None when it had already run and reported."""
    row = await _claim(sessions, slot, now())
    if row is None:
        return None
    if row.run_at is None:  # else: checked before an interruption; report what it found
        run = await run_preflight(sessions, prober, now, rate=rate or DEFAULT_RATE, pacer=pacer)
        async with sessions.begin() as session:
            stored = await session.get(PreflightRun, row.id)
            assert stored is not None
            stored.run_at, stored.groups = run.run_at, len(run.findings)
            stored.calls, stored.retry_after = run.calls, run.retry_after
    async with sessions() as session:
        told = await _told(session, row.id)
        recipients = [a for a in await report_recipients(session) if a.user_id not in told]
        texts: list[tuple[Actor, str, bool]] = []
        for actor in recipients:
            body, fixable = await report_text(session, profile, now(), slot.key, actor.scope)
            texts.append((actor, body, fixable))
    for actor, text, fixable in texts:
        delivered = await notifier.tell(actor.user_id, text, button(row.id) if fixable else None)
        async with sessions.begin() as session:  # after the send: at most this one again
            session.add(
                PreflightReport(run_id=row.id, user_id=actor.user_id, delivered=delivered, at=now())
            )
    async with sessions.begin() as session:
        stored = await session.get(PreflightRun, row.id)
        assert stored is not None
        sent = sum((await _told(session, row.id)).values())
        stored.reported_to, stored.reported_at = sent, now()
        audit(
            session,
            now(),
            None,
            "preflight.scheduled",
            f"preflight_run:{row.id}",
            slot=slot.key,
            groups=stored.groups,
            calls=stored.calls,
            retry_after=stored.retry_after,
            reported_to=sent,
            told_before=len(told),
        )
        await session.flush()
        session.expunge(stored)
    log.info(
        "pre-flight %s: %d groups, %d calls, %d x 429, reported to %d official(s)"
        " (%d told before an interruption)",
        slot.key,
        stored.groups,
        stored.calls,
        stored.retry_after,
        sent,
        len(told),
    )
    return stored


async def _told(session: AsyncSession, run_id: int) -> dict[int, bool]:
    """The officials this run's report already went to (user id -> delivered)."""
    rows = await session.execute(
        select(PreflightReport.user_id, PreflightReport.delivered).where(
            PreflightReport.run_id == run_id
        )
    )
    return {user_id: delivered for user_id, delivered in rows.all()}


@dataclass(frozen=True)
class HintResult:
    admins: int  # distinct registered admins of the affected groups
    sent: int
    not_started: int  # could not be reached: never started the bot
    no_admin: int  # affected groups with no registered admin
    before: int  # groups already hinted for this run


def _fix_text(profile: ElectionProfile, now: datetime, group: Group, outcome: ReachOutcome) -> str:
    where = f"{area_label(group.rw, group.rt)} · " if group.rw is not None else ""
    return render(
        "sistem.preflight_jadwal.petunjuk_admin",
        profile,
        now,
        {
            "grup": where + group.title,
            "masalah": render(f"sistem.preflight.{outcome.value}", profile, now),
            "perbaikan": render(f"sistem.preflight_jadwal.perbaikan_{outcome.value}", profile, now),
        },
    )


async def send_fix_hints(
    sessions: SessionFactory,
    notifier: PrivateNotifier,
    profile: ElectionProfile,
    actor: Actor,
    run_id: int,
    now: datetime,
) -> HintResult | None:
    """Message the registered admins of the run's fixable groups in the actor's scope, once per
    group and run; None when there is nothing to fix there."""
    async with sessions() as session:
        run = await session.get(PreflightRun, run_id)
        if run is None or run.run_at is None:
            return None
        rows = (
            await session.execute(
                select(PreflightCheck, Group)
                .join(Group, PreflightCheck.group_id == Group.id)
                .where(
                    PreflightCheck.run_at == run.run_at,
                    PreflightCheck.outcome.in_(FIXABLE),
                    Group.subscribed.is_(True),
                )
                .order_by(Group.id)
            )
        ).all()
        hinted = await _hinted_groups(session, run_id)
    affected = [(c, g) for c, g in rows if _in_area(g, actor.scope)]
    if not affected:
        return None
    fresh = [(c, g) for c, g in affected if g.id not in hinted]
    by_admin: dict[int, list[tuple[PreflightCheck, Group]]] = {}
    no_admin = 0
    for check, group in fresh:
        if group.subscribed_by is None:
            no_admin += 1
        else:
            by_admin.setdefault(group.subscribed_by, []).append((check, group))
    sent = not_started = 0
    for admin_id, items in by_admin.items():
        text = "\n\n".join(_fix_text(profile, now, g, c.outcome) for c, g in items)
        if await notifier.tell(admin_id, text):
            sent += 1
        else:
            not_started += 1
    async with sessions.begin() as session:
        audit(
            session,
            now,
            actor.user_id,
            "preflight.hints",
            f"preflight_run:{run_id}",
            groups=[g.id for _, g in fresh],
            admins=len(by_admin),
            sent=sent,
            not_started=not_started,
        )
    return HintResult(len(by_admin), sent, not_started, no_admin, len(affected) - len(fresh))


def _in_area(group: Group, scope: str | None) -> bool:
    """Whether a group (active or not: a kicked bot's group is inactive) lies in the scope."""
    if scope is None:
        return True
    code = group.kelurahan_code or ""
    return code == scope or code.startswith(scope + ".")


async def _hinted_groups(session: AsyncSession, run_id: int) -> set[int]:
    details = (
        await session.scalars(
            select(AuditEntry.detail).where(
                AuditEntry.action == "preflight.hints",
                AuditEntry.target == f"preflight_run:{run_id}",
            )
        )
    ).all()
    found: set[int] = set()
    for detail in details:
        try:
            found.update(int(g) for g in json.loads(detail or "{}").get("groups", []))
        except (ValueError, TypeError, AttributeError):
            continue
    return found
