"""Residents' personal data: what is kept about a person, for how long, and erasing it.

UU 27/2022 (Pelindungan Data Pribadi): keep only what a purpose needs, no longer than it needs,
and let a person have theirs deleted. What the bot holds about a resident is listed in
PERSONAL_DATA (a table, the column with the person's Telegram id, the column with the time);
a feature that stores something new about a person adds its table there, and both the
retention job and /hapusdata then cover it.

Not listed, on purpose: officials (their role is a public duty, removed by an admin), group
registrations (about a chat, not a person) and the audit log (accountability of officials and
of these deletions themselves).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from db.models import (
    Acknowledgement,
    CheckInAnswer,
    CheckInFollowUp,
    FieldReport,
    FlowState,
    ResidentQuestion,
)
from domain.audit import audit
from election.profile import ElectionProfile

DEFAULT_RETENTION_DAYS = 90


@dataclass(frozen=True)
class PersonalData:
    """One table holding data about a person."""

    name: str  # what /hapusdata and the audit call it
    label: str  # in Indonesian, for the person
    user: InstrumentedAttribute[int] | InstrumentedAttribute[int | None]
    at: InstrumentedAttribute[datetime]


PERSONAL_DATA: list[PersonalData] = [
    PersonalData(
        "acknowledgements",
        "tanda “Sudah dibaca” yang Anda tekan",
        Acknowledgement.user_id,
        Acknowledgement.created_at,
    ),
    PersonalData(
        "checkin_answers",
        "jawaban cek-in yang Anda tekan (misalnya “Sudah tiba”)",
        CheckInAnswer.user_id,
        CheckInAnswer.pressed_at,
    ),
    PersonalData(
        "checkin_followups",
        "laporan masalah dari jawaban cek-in Anda, dengan uraiannya",
        CheckInFollowUp.reporter_id,
        CheckInFollowUp.opened_at,
    ),
    PersonalData(
        "resident_questions",
        "pertanyaan yang Anda ajukan kepada petugas",
        ResidentQuestion.resident_id,
        ResidentQuestion.asked_at,
    ),
    PersonalData(
        "flow_states",
        "langkah perintah yang sedang Anda isi (misalnya /siaran)",
        FlowState.user_id,
        FlowState.updated_at,
    ),
    # Field reports (/lapor) name their reporter; the case they joined stays, as the posko's
    # record of what was handled, without them.
    PersonalData(
        "field_reports",
        "laporan lapangan yang Anda kirim (/lapor)",
        FieldReport.reporter_id,
        FieldReport.created_at,
    ),
]


def retention_cutoff(profile: ElectionProfile, days: int) -> datetime:
    """The end of keeping: 00.00 local time, `days` days after the election day (UTC)."""
    local = datetime.combine(profile.election_day + timedelta(days=days), time(0), profile.tz)
    return local.astimezone(UTC)


async def purge_expired(
    session: AsyncSession, profile: ElectionProfile, days: int, now: datetime
) -> dict[str, int]:
    """Once the retention period is over, delete what was stored before its end; audited.

    Returns rows deleted per table (empty before the cut-off). Running it again deletes
    nothing more, so a daily job may run it as often as it likes.
    """
    cutoff = retention_cutoff(profile, days)
    if now < cutoff:
        return {}
    deleted: dict[str, int] = {}
    for item in PERSONAL_DATA:
        table = item.user.class_
        result = await session.execute(delete(table).where(item.at < cutoff))
        deleted[item.name] = int(getattr(result, "rowcount", 0) or 0)
    if any(deleted.values()):
        audit(session, now, None, "privacy.retention", f"before {cutoff.isoformat()}", **deleted)
    return deleted


async def held_about(session: AsyncSession, user_id: int) -> dict[str, int]:
    """How many rows of each kind the bot holds about `user_id`."""
    counts: dict[str, int] = {}
    for item in PERSONAL_DATA:
        table = item.user.class_
        counts[item.name] = int(
            await session.scalar(
                select(func.count()).select_from(table).where(item.user == user_id)
            )
            or 0
        )
    return counts


async def erase_person(session: AsyncSession, user_id: int, now: datetime) -> dict[str, int]:
    """Delete everything PERSONAL_DATA holds about `user_id`; the erasure itself is audited
    (that it happened and how much, which the person may ask to be shown)."""
    deleted: dict[str, int] = {}
    for item in PERSONAL_DATA:
        table = item.user.class_
        result = await session.execute(delete(table).where(item.user == user_id))
        deleted[item.name] = int(getattr(result, "rowcount", 0) or 0)
    audit(session, now, user_id, "privacy.erase", "", **deleted)
    return deleted
