"""Cases nobody acts on: escalated to the kecamatan's officials and the root admins after a
while untaken, listed again in the posko once open too long. Decided from the database alone
(idempotent): whichever job or sweep runs first does it, once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CaseStatus, FieldCase, Official
from domain.audit import audit
from domain.field.events import OPEN

DEFAULT_ESCALATION = timedelta(minutes=15)
RELIST_AFTER = timedelta(hours=2)


async def take_due_escalations(
    session: AsyncSession, now: datetime, after: timedelta = DEFAULT_ESCALATION
) -> list[FieldCase]:
    """New cases untaken for `after`, marked escalated now (the caller sends them)."""
    due = (
        await session.scalars(
            select(FieldCase)
            .where(
                FieldCase.status == CaseStatus.NEW,
                FieldCase.escalated_at.is_(None),
                FieldCase.opened_at <= now - after,
            )
            .order_by(FieldCase.id)
        )
    ).all()
    for case in due:
        case.escalated_at = now
        audit(session, now, None, "case.eskalasi", f"case:{case.id}", kecamatan=case.kecamatan_code)
    await session.flush()
    return list(due)


async def take_due_relists(
    session: AsyncSession, now: datetime, after: timedelta = RELIST_AFTER
) -> dict[int, list[int]]:
    """Open cases older than `after` not listed again yet, by posko chat; marked now."""
    due = (
        await session.scalars(
            select(FieldCase)
            .where(
                FieldCase.status.in_(OPEN),
                FieldCase.relisted_at.is_(None),
                FieldCase.posko_chat_id.is_not(None),
                FieldCase.opened_at <= now - after,
            )
            .order_by(FieldCase.id)
        )
    ).all()
    out: dict[int, list[int]] = {}
    for case in due:
        case.relisted_at = now
        assert case.posko_chat_id is not None
        out.setdefault(case.posko_chat_id, []).append(case.id)
    await session.flush()
    return out


async def recipients(session: AsyncSession, kecamatan_code: str | None) -> list[int]:
    """Who hears of an untaken case: the active officials of its kecamatan and the root admins."""
    rows = (
        await session.scalars(
            select(Official.user_id)
            .where(
                Official.active.is_(True),
                or_(
                    Official.root.is_(True),
                    Official.kecamatan_code == kecamatan_code
                    if kecamatan_code is not None
                    else Official.root.is_(True),
                ),
            )
            .order_by(Official.user_id)
        )
    ).all()
    return list(dict.fromkeys(rows))


def next_due(case: FieldCase, after: timedelta = DEFAULT_ESCALATION) -> datetime | None:
    """When this case next needs a look (escalation, then the second listing), if ever."""
    if case.status not in OPEN:
        return None
    if case.status is CaseStatus.NEW and case.escalated_at is None:
        return case.opened_at + after
    if case.relisted_at is None:
        return case.opened_at + RELIST_AFTER
    return None


async def open_cases(session: AsyncSession) -> list[FieldCase]:
    return list((await session.scalars(select(FieldCase).where(FieldCase.status.in_(OPEN)))).all())
