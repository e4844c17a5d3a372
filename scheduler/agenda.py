"""Agendas: named programmes of broadcasts, as data, materialised into broadcast rows.

An agenda is read from its file by ``scheduler.agenda_file.parse_agenda`` (the format is
described there); its times use the grammar of ``scheduler.recurrence``.

Times are wall-clock in the city's zone. A recurring step is materialised a bounded window ahead
(``RECUR_WINDOW``), one broadcast per occurrence keyed ``<agenda>:<step>:<date>``; an anchored
step is keyed ``<agenda>:<step>`` — for the election agenda (built from the timeline file) that is
exactly the timeline's ``<profile key>:<entry key>``, so nothing is duplicated or changed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Broadcast, BroadcastSource, BroadcastStatus
from election.profile import ElectionProfile
from scheduler.audience import Audience
from scheduler.checkin import CheckIn, resolved_json
from scheduler.recurrence import Recurrence, parse_duration, relative_at
from scheduler.timeline import Timeline

ELECTION_ANCHOR = "pemilihan"
RECUR_WINDOW = timedelta(days=35)  # a monthly step always has its next occurrence planned
DEFAULT_RECURRING_VALIDITY = timedelta(hours=12)
PAUSED_REASON = "agenda dijeda"
REMOVED_REASON = "langkah dihapus dari agenda"


@dataclass(frozen=True)
class AnchorDate:
    day: date
    label: str


@dataclass(frozen=True)
class Step:
    key: str
    audience: str
    priority: int = 0
    message_key: str | None = None
    text: str | None = None
    at: str | None = None  # anchored: "H-2 08.00"
    anchor: str | None = None
    every: Recurrence | None = None
    expires: str | None = None  # "H-2 21.00" (anchored) or a duration ("12 jam")
    first_day: date | None = None
    last_day: date | None = None
    checkin: CheckIn | None = None  # a question answered with buttons (scheduler.checkin)
    # Groups must acknowledge it: the profile's escalation chain follows their silence.
    ack: bool = False


@dataclass(frozen=True)
class Agenda:
    name: str
    title: str
    topic: str
    tz: ZoneInfo
    steps: tuple[Step, ...]
    anchors: Mapping[str, AnchorDate] = field(default_factory=dict)
    source: str = ""  # the file's text; empty for the election agenda built from the timeline

    def step_keys(self) -> set[str]:
        return {s.key for s in self.steps}


@dataclass(frozen=True)
class Planned:
    """One broadcast an agenda wants, before it is a row."""

    key: str
    step: str
    scheduled_at: datetime
    expires_at: datetime | None
    message_key: str | None
    text: str | None
    audience: str
    priority: int
    checkin: dict[str, object] | None = None  # Broadcast.checkin: resolved, plain JSON
    ack: bool = False  # Broadcast.ack_chain


def _expiry(agenda: Agenda, step: Step, start: datetime, anchor: date | None) -> datetime | None:
    if step.expires is None:
        return start + DEFAULT_RECURRING_VALIDITY if step.every is not None else None
    duration = parse_duration(step.expires)
    if duration is not None:
        return start + duration
    assert anchor is not None  # validated: an H-form expiry only on an anchored step
    return relative_at(step.expires, anchor, agenda.tz)


def materialise(agenda: Agenda, now: datetime, window: timedelta = RECUR_WINDOW) -> list[Planned]:
    """Every broadcast the agenda wants: anchored steps always, recurring ones up to `window`."""
    planned: list[Planned] = []

    def add(step: Step, key: str, start: datetime, anchor: date | None) -> None:
        planned.append(
            Planned(
                key=key,
                step=step.key,
                scheduled_at=start,
                expires_at=_expiry(agenda, step, start, anchor),
                message_key=step.message_key,
                text=step.text,
                audience=step.audience,
                priority=step.priority,
                checkin=resolved_json(step.checkin, start, step.expires, anchor, agenda.tz),
                ack=step.ack,
            )
        )

    for step in agenda.steps:
        if step.every is None:
            assert step.at is not None and step.anchor is not None
            anchor = agenda.anchors[step.anchor].day
            add(step, f"{agenda.name}:{step.key}", relative_at(step.at, anchor, agenda.tz), anchor)
            continue
        today = now.astimezone(agenda.tz).date()
        day = max(step.first_day or today, today - timedelta(days=1))
        last = (now + window).astimezone(agenda.tz).date()
        if step.last_day is not None:
            last = min(last, step.last_day)
        while day <= last:
            if step.every.matches(day):
                start = datetime.combine(day, step.every.at, agenda.tz)
                expires = _expiry(agenda, step, start, None)
                if start <= now + window and (expires or start) > now:
                    add(step, f"{agenda.name}:{step.key}:{day.isoformat()}", start, None)
            day += timedelta(days=1)
    planned.sort(key=lambda p: (p.scheduled_at, p.key))
    return planned


def election_agenda(timeline: Timeline, profile: ElectionProfile) -> Agenda:
    """The election timeline as one agenda: same keys, times, audiences and priorities."""
    steps = tuple(
        Step(
            key=e.key,
            audience=Audience.parse(e.audience).spec(),
            priority=e.priority,
            message_key=e.message_key,
            at=e.at,
            anchor="H",
            expires=e.expires,
            checkin=e.checkin,
        )
        for e in timeline.entries
    )
    return Agenda(
        name=profile.key,
        title=profile.name,
        topic=ELECTION_ANCHOR,
        tz=profile.tz,
        steps=steps,
        anchors={"H": AnchorDate(profile.election_day, "hari pemungutan suara")},
    )


# -- into the database -------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncReport:
    created: int
    updated: int
    unchanged: int


async def sync_agendas(
    session: AsyncSession,
    agendas: Sequence[Agenda],
    now: datetime,
    *,
    paused: Collection[str] = (),
    window: timedelta = RECUR_WINDOW,
) -> SyncReport:
    """One broadcast row per planned step; re-running never duplicates.

    An edited step updates its broadcast only while that broadcast has not started: what went
    out is history and stays as it was. A paused agenda gets no new rows (pausing set its
    waiting ones aside); a step removed from its agenda has its waiting broadcasts cancelled.
    """
    existing = {
        b.timeline_key: b
        for b in (
            await session.scalars(
                select(Broadcast).where(Broadcast.source == BroadcastSource.TIMELINE)
            )
        ).all()
    }
    created = updated = unchanged = 0
    for agenda in agendas:
        keys = agenda.step_keys()
        for row in existing.values():
            step = (row.timeline_key or "").split(":")
            if (
                row.agenda == agenda.name
                and row.status is BroadcastStatus.SCHEDULED
                and len(step) > 1
                and step[1] not in keys
            ):
                row.status = BroadcastStatus.CANCELLED
                row.status_reason = REMOVED_REASON
                updated += 1
        if agenda.name in paused:
            continue
        for plan in materialise(agenda, now, window):
            values: dict[str, object] = {
                "message_key": plan.message_key,
                "text": plan.text,
                "audience": plan.audience,
                "scheduled_at": plan.scheduled_at,
                "expires_at": plan.expires_at,
                "priority": plan.priority,
                "agenda": agenda.name,
                "topic": agenda.topic,
                "checkin": plan.checkin,
            }
            if plan.ack:  # never unset here: an admin's /eskalasi on a waiting one stays
                values["ack_chain"] = True
            broadcast = existing.get(plan.key)
            if broadcast is None:
                new = Broadcast(
                    source=BroadcastSource.TIMELINE,
                    timeline_key=plan.key,
                    status=BroadcastStatus.SCHEDULED,
                    created_at=now,
                    **values,
                )
                session.add(new)
                existing[plan.key] = new
                created += 1
            elif broadcast.status is BroadcastStatus.SCHEDULED and any(
                getattr(broadcast, name) != value for name, value in values.items()
            ):
                for name, value in values.items():
                    setattr(broadcast, name, value)
                updated += 1
            else:
                unchanged += 1
    await session.flush()
    return SyncReport(created, updated, unchanged)
