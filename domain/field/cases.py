"""A field case's life: baru → ditangani → selesai, or dirujuk (not the city's to handle).

Only officials in scope act on a case: city-wide officials on every case, a kecamatan's
officials on that kecamatan's. Every transition is a `FieldCaseEvent` and an audit entry, in
the same transaction; the caller learns whom to tell (every chat a report of the case came
from) and sends it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CaseStatus, FieldCase, FieldCaseEvent, FieldReport, Official
from domain.field.events import OPEN, record_event
from domain.field.reports import place_label, reports_of
from domain.officials import Actor, scope_contains

MAX_NOTE = 500


class Action(StrEnum):
    TAKE = "take"  # "Saya tangani": assigns the presser
    DONE = "done"  # "Selesai", with a short note
    REFER = "refer"  # "Bukan kewenangan Pemkot": closed, the reporter told the right channel


_TARGET = {
    Action.TAKE: CaseStatus.HANDLING,
    Action.DONE: CaseStatus.DONE,
    Action.REFER: CaseStatus.REFERRED,
}


class CaseRefusal(StrEnum):
    GONE = "gone"
    OUT_OF_SCOPE = "out_of_scope"
    CLOSED = "closed"  # already selesai or dirujuk
    TAKEN = "taken"  # someone else is handling it
    NOTE_TOO_LONG = "note_too_long"


class CaseRefused(ValueError):
    def __init__(self, reason: CaseRefusal, by: int | None = None) -> None:
        self.reason = reason
        self.by = by  # for TAKEN: who has it
        super().__init__(reason.value)


@dataclass(frozen=True)
class Changed:
    case_id: int
    status: CaseStatus
    actor_id: int
    category: str
    note: str | None
    # Chats to tell (the reports' source chats, each once) with the report ids from there.
    tell: tuple[tuple[int, tuple[int, ...]], ...]


def in_scope(actor: Actor, case: FieldCase) -> bool:
    return scope_contains(actor.scope, case.kecamatan_code)


async def change(
    session: AsyncSession,
    actor: Actor,
    case_id: int,
    action: Action,
    now: datetime,
    note: str | None = None,
) -> Changed:
    """Apply an official's action to a case, or refuse (CaseRefused) changing nothing."""
    case = await session.get(FieldCase, case_id)
    if case is None:
        raise CaseRefused(CaseRefusal.GONE)
    if not in_scope(actor, case):
        raise CaseRefused(CaseRefusal.OUT_OF_SCOPE)
    if case.status not in OPEN:
        raise CaseRefused(CaseRefusal.CLOSED)
    if action is Action.TAKE and case.status is CaseStatus.HANDLING:
        raise CaseRefused(CaseRefusal.TAKEN, case.assigned_to)
    text = " ".join(note.split()) if note else None
    if text is not None and len(text) > MAX_NOTE:
        raise CaseRefused(CaseRefusal.NOTE_TOO_LONG)
    before, after = case.status, _TARGET[action]
    case.status = after
    case.updated_at = now
    if action is Action.TAKE or case.assigned_to is None:
        case.assigned_to = actor.user_id
    if after in (CaseStatus.DONE, CaseStatus.REFERRED):
        case.closed_at = now
        case.note = text
    record_event(session, case, now, actor.user_id, before, after, text)
    await session.flush()
    return Changed(case.id, after, actor.user_id, case.category, text, await _tell(session, case))


async def _tell(session: AsyncSession, case: FieldCase) -> tuple[tuple[int, tuple[int, ...]], ...]:
    rows = (
        await session.execute(
            select(FieldReport.source_chat_id, FieldReport.id)
            .where(FieldReport.case_id == case.id, FieldReport.source_chat_id.is_not(None))
            .order_by(FieldReport.id)
        )
    ).all()
    chats: dict[int, list[int]] = {}
    for chat_id, report_id in rows:
        if chat_id is not None:
            chats.setdefault(int(chat_id), []).append(int(report_id))
    return tuple((chat, tuple(ids)) for chat, ids in chats.items())


async def events_of(session: AsyncSession, case_id: int) -> list[FieldCaseEvent]:
    return list(
        (
            await session.scalars(
                select(FieldCaseEvent)
                .where(FieldCaseEvent.case_id == case_id)
                .order_by(FieldCaseEvent.id)
            )
        ).all()
    )


@dataclass(frozen=True)
class CaseView:
    """What the posko shows of a case: its first report's words, its photos, and its state."""

    id: int
    status: CaseStatus
    category: str
    detail: str | None
    place: str
    kecamatan_code: str | None
    tps: str | None
    opened_at: datetime
    description: str | None
    report_count: int
    photo: str | None  # the first photo's Telegram file id
    photo_count: int
    location: tuple[float, float] | None
    assigned_to: int | None
    assigned_name: str
    note: str | None
    posko_chat_id: int | None
    posko_message_id: int | None
    posko_digest: bool
    photos: tuple[str, ...] = ()  # every photo of every report, oldest first (file ids)

    @property
    def open(self) -> bool:
        return self.status in OPEN


def _location(report: FieldReport | None) -> tuple[float, float] | None:
    if report is None or report.latitude is None or report.longitude is None:
        return None
    return (report.latitude, report.longitude)


async def case_view(session: AsyncSession, case_id: int) -> CaseView | None:
    case = await session.get(FieldCase, case_id)
    if case is None:
        return None
    rows = await reports_of(session, case_id)
    first = rows[0] if rows else None
    photos = [p for r in rows for p in (r.photos or [])]
    located = next((r for r in rows if r.latitude is not None and r.longitude is not None), None)
    described = next((r for r in rows if r.description), None)
    name = ""
    if case.assigned_to is not None:
        official = await session.get(Official, case.assigned_to)
        name = (official.name if official is not None else "") or str(case.assigned_to)
    return CaseView(
        id=case.id,
        status=case.status,
        category=case.category,
        detail=first.detail if first else None,
        place=await place_label(session, case.kelurahan_code, case.rw, case.rt),
        kecamatan_code=case.kecamatan_code,
        tps=case.tps,
        opened_at=case.opened_at,
        description=described.description if described else None,
        report_count=case.report_count,
        photo=photos[0] if photos else None,
        photo_count=len(photos),
        location=_location(located),
        assigned_to=case.assigned_to,
        assigned_name=name,
        note=case.note,
        posko_chat_id=case.posko_chat_id,
        posko_message_id=case.posko_message_id,
        posko_digest=case.posko_digest,
        photos=tuple(photos),
    )
