"""Agendas officials run: stored, loaded, paused and resumed, listed with their next steps.

The election agenda is built from the timeline file (``TIMELINE_FILE``), so edits there flow
through; every other agenda is a file validated by ``scheduler.agenda_file.parse_agenda`` and
kept in the ``agendas`` table (the database is the source of truth). Bundled files under
``data/agendas/`` are installed at start and refreshed when they change, unless an official has
since loaded their own version of that agenda.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Agenda as AgendaRow
from db.models import Broadcast, BroadcastStatus
from domain.audit import audit
from domain.officials import Actor, PermissionDenied, scope_contains
from domain.reports import AD_HOC_AGENDA
from election.profile import ElectionProfile
from messages.library import Library
from scheduler.agenda import PAUSED_REASON, Agenda, SyncReport, election_agenda, sync_agendas
from scheduler.agenda_file import AgendaProblem, AgendaRejected, parse_agenda
from scheduler.audience import Audience
from scheduler.timeline import Timeline

log = logging.getLogger(__name__)

# An agenda that is not in the table: an official's one-off broadcasts (agenda column NULL).
AD_HOC = AD_HOC_AGENDA
AD_HOC_TITLE = "Siaran langsung petugas"


class AgendaNotFound(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(
            f"Agenda “{name}” tidak ada. Lihat daftar agenda dengan /agenda "
            "atau python -m bot agenda list."
        )


async def _row(session: AsyncSession, name: str) -> AgendaRow:
    row = await session.get(AgendaRow, name)
    if row is None:
        raise AgendaNotFound(name)
    return row


def read_bundled(directory: Path) -> list[tuple[str, str]]:
    """(file name, text) of every agenda file shipped in `directory`, by name."""
    if not directory.is_dir():
        return []
    return [(p.name, p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*.toml"))]


async def install_bundled(
    session: AsyncSession,
    files: Sequence[tuple[str, str]],
    profile: ElectionProfile,
    now: datetime,
) -> list[str]:
    """Store the shipped agenda files (see read_bundled); a broken one stops start-up, by name."""
    installed: list[str] = []
    for file_name, text in files:
        try:
            agenda = parse_agenda(text, profile)
        except AgendaRejected as exc:
            raise AgendaRejected(
                [AgendaProblem(p.line, f"{file_name}: {p.reason}") for p in exc.problems]
            ) from None
        row = await session.get(AgendaRow, agenda.name)
        if row is None:
            session.add(
                AgendaRow(
                    name=agenda.name,
                    title=agenda.title,
                    topic=agenda.topic,
                    source=text,
                    origin="file",
                    paused=False,
                    updated_at=now,
                )
            )
            installed.append(agenda.name)
        elif row.origin == "file" and row.source != text:
            row.title, row.topic, row.source, row.updated_at = (
                agenda.title,
                agenda.topic,
                text,
                now,
            )
            installed.append(agenda.name)
    await session.flush()
    return installed


async def _ensure_election_row(session: AsyncSession, agenda: Agenda, now: datetime) -> AgendaRow:
    row = await session.get(AgendaRow, agenda.name)
    if row is None:
        row = AgendaRow(
            name=agenda.name,
            title=agenda.title,
            topic=agenda.topic,
            source="",
            origin="timeline",
            paused=False,
            updated_at=now,
        )
        session.add(row)
        await session.flush()
    return row


async def load_all(
    session: AsyncSession,
    profile: ElectionProfile,
    timeline: Timeline,
    now: datetime,
    library: Library | None = None,
) -> tuple[list[Agenda], set[str]]:
    """Every agenda (the election's first) and the names of the paused ones."""
    election = election_agenda(timeline, profile)
    await _ensure_election_row(session, election, now)
    agendas = [election]
    paused: set[str] = set()
    for row in (await session.scalars(select(AgendaRow).order_by(AgendaRow.name))).all():
        if row.paused:
            paused.add(row.name)
        if row.origin == "timeline":
            continue
        try:
            agendas.append(parse_agenda(row.source, profile, library))
        except AgendaRejected as exc:
            # A library key removed since the agenda was loaded: say so, keep the rest running.
            log.error("agenda %s no longer loads: %s", row.name, exc)
    return agendas, paused


async def sync_all(
    session: AsyncSession,
    profile: ElectionProfile,
    timeline: Timeline,
    now: datetime,
    library: Library | None = None,
) -> SyncReport:
    """Broadcast rows for every agenda that runs (the bot at start and hourly; `plan`)."""
    agendas, paused = await load_all(session, profile, timeline, now, library)
    return await sync_agendas(session, agendas, now, paused=paused)


async def add_agenda(
    session: AsyncSession,
    actor: Actor | None,
    text: str,
    profile: ElectionProfile,
    timeline: Timeline,
    now: datetime,
    library: Library | None = None,
) -> tuple[Agenda, bool]:
    """Load a new or changed agenda file (whole or not at all); True when it is new.

    `actor` None is the shell (whoever runs it holds the server). The election agenda itself is
    edited in its timeline file, not here.
    """
    if actor is not None:
        _require_admin(actor)
    agenda = parse_agenda(text, profile, library)
    if agenda.name == profile.key:
        raise PermissionDenied(
            f"Agenda {agenda.name} adalah jadwal pemilihan; ubah berkas jadwalnya (TIMELINE_FILE)."
        )
    row = await session.get(AgendaRow, agenda.name)
    created = row is None
    if row is None:
        row = AgendaRow(name=agenda.name, paused=False)
        session.add(row)
    row.title, row.topic, row.source = agenda.title, agenda.topic, text
    row.origin, row.updated_at = "official", now
    row.updated_by = actor.user_id if actor else None
    # Custom texts pass the neutrality guard, and a second admin reads them, as for /siaran.
    # (The shell is the server's operator, who answers for what they load.)
    row.awaiting_approval = actor is not None and any(s.text for s in agenda.steps)
    await session.flush()
    if row.awaiting_approval:
        await pause(session, None, agenda.name, now)
    audit(
        session,
        now,
        actor.user_id if actor else None,
        "agenda.add" if created else "agenda.update",
        f"agenda:{agenda.name}",
        steps=len(agenda.steps),
        topic=agenda.topic,
    )
    await sync_all(session, profile, timeline, now, library)
    return agenda, created


async def approve_agenda(
    session: AsyncSession,
    actor: Actor,
    name: str,
    profile: ElectionProfile,
    timeline: Timeline,
    now: datetime,
) -> int:
    """A second city-wide admin approves an agenda's custom texts; it then runs."""
    _require_admin(actor)
    row = await _row(session, name)
    if not row.awaiting_approval:
        raise PermissionDenied(f"Agenda {name} tidak menunggu persetujuan.")
    if row.updated_by == actor.user_id:
        raise PermissionDenied(
            "Agenda yang Anda muat sendiri harus disetujui admin lain (petugas kedua)."
        )
    row.awaiting_approval = False
    audit(session, now, actor.user_id, "agenda.approve", f"agenda:{name}")
    return await resume(session, actor, name, profile, timeline, now)


def _require_admin(actor: Actor) -> None:
    if not (actor.is_admin and actor.citywide):
        raise PermissionDenied(
            "Hanya admin tingkat kota yang dapat memuat, menjeda atau melanjutkan agenda."
        )


async def pause(session: AsyncSession, actor: Actor | None, name: str, now: datetime) -> int:
    """Stop an agenda: its waiting broadcasts are set aside (how many); a running one finishes."""
    if actor is not None:
        _require_admin(actor)
    row = await _row(session, name)
    row.paused, row.updated_at = True, now
    result = await session.execute(
        update(Broadcast)
        .where(Broadcast.agenda == name, Broadcast.status == BroadcastStatus.SCHEDULED)
        .values(status=BroadcastStatus.CANCELLED, status_reason=PAUSED_REASON)
    )
    audit(session, now, actor.user_id if actor else None, "agenda.pause", f"agenda:{name}")
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def resume(
    session: AsyncSession,
    actor: Actor | None,
    name: str,
    profile: ElectionProfile,
    timeline: Timeline,
    now: datetime,
) -> int:
    """Run a paused agenda again: what pausing set aside and has not expired waits again."""
    if actor is not None:
        _require_admin(actor)
    row = await _row(session, name)
    if row.awaiting_approval:
        raise PermissionDenied(
            f"Agenda {name} berisi teks sendiri dan menunggu persetujuan admin kedua."
        )
    row.paused, row.updated_at = False, now
    set_aside = (
        await session.scalars(
            select(Broadcast).where(
                Broadcast.agenda == name,
                Broadcast.status == BroadcastStatus.CANCELLED,
                Broadcast.status_reason == PAUSED_REASON,
            )
        )
    ).all()
    back = 0
    for broadcast in set_aside:
        if broadcast.expires_at is None or broadcast.expires_at > now:
            broadcast.status, broadcast.status_reason = BroadcastStatus.SCHEDULED, None
            back += 1
    audit(session, now, actor.user_id if actor else None, "agenda.resume", f"agenda:{name}")
    await session.flush()
    await sync_all(session, profile, timeline, now)
    return back


@dataclass(frozen=True)
class NextStep:
    broadcast_id: int
    scheduled_at: datetime
    title: str
    audience: str
    recipients: int


@dataclass(frozen=True)
class AgendaLine:
    name: str
    title: str
    topic: str
    paused: bool
    next_steps: list[NextStep]
    awaiting_approval: bool = False
    loaded_by: int | None = None


def _scoped(actor: Actor | None, spec: str) -> Audience | None:
    """The part of an audience an official sees: all of it, their area's part (a city-wide step,
    or a lurah's kelurahan of a kecamatan-wide one), or none."""
    audience = Audience.parse(spec)
    if actor is None or actor.citywide:
        return audience
    scope = actor.scope or ""
    if audience.within_kecamatan(scope):
        return audience
    area = audience.kelurahan_code or audience.kecamatan_code
    if audience.unacked_of is None and scope_contains(area, scope):
        return Audience.of_scope(scope, level=audience.level)
    return None


async def overview(
    session: AsyncSession, actor: Actor | None, now: datetime, per_agenda: int = 3
) -> list[AgendaLine]:
    """Agendas with their next waiting broadcasts, as far as this official's scope reaches."""
    lines: list[AgendaLine] = []
    for row in (await session.scalars(select(AgendaRow).order_by(AgendaRow.name))).all():
        upcoming = (
            await session.scalars(
                select(Broadcast)
                .where(
                    Broadcast.agenda == row.name,
                    Broadcast.status.in_((BroadcastStatus.SCHEDULED, BroadcastStatus.RUNNING)),
                )
                .order_by(Broadcast.scheduled_at, Broadcast.id)
            )
        ).all()
        steps: list[NextStep] = []
        for b in upcoming:
            if b.expires_at is not None and b.expires_at <= now:
                continue
            audience = _scoped(actor, b.audience)
            if audience is None:
                continue
            steps.append(
                NextStep(
                    broadcast_id=b.id,
                    scheduled_at=b.scheduled_at,
                    title=b.message_key or "teks sendiri",
                    audience=await audience.describe(session),
                    recipients=await audience.count(session, b.topic),
                )
            )
            if len(steps) >= per_agenda:
                break
        lines.append(
            AgendaLine(
                row.name,
                row.title,
                row.topic,
                row.paused,
                steps,
                awaiting_approval=row.awaiting_approval,
                loaded_by=row.updated_by,
            )
        )
    return lines


async def first_waiting(session: AsyncSession, name: str) -> Broadcast | None:
    """The agenda's next broadcast (for a preview), or None."""
    await _row(session, name)
    return await session.scalar(
        select(Broadcast)
        .where(Broadcast.agenda == name, Broadcast.status == BroadcastStatus.SCHEDULED)
        .order_by(Broadcast.scheduled_at, Broadcast.id)
        .limit(1)
    )


__all__ = [
    "AD_HOC",
    "AD_HOC_TITLE",
    "AgendaLine",
    "AgendaNotFound",
    "NextStep",
    "add_agenda",
    "approve_agenda",
    "first_waiting",
    "install_bundled",
    "load_all",
    "overview",
    "pause",
    "read_bundled",
    "resume",
    "sync_all",
]
