"""A case's transitions as rows (field_case_events) and audit entries, written together."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CaseStatus, FieldCase, FieldCaseEvent
from domain.audit import audit

OPEN = (CaseStatus.NEW, CaseStatus.HANDLING)


def record_event(
    session: AsyncSession,
    case: FieldCase,
    now: datetime,
    actor_id: int | None,
    before: CaseStatus | None,
    after: CaseStatus,
    note: str | None = None,
) -> None:
    session.add(
        FieldCaseEvent(
            case_id=case.id,
            at=now,
            actor_id=actor_id,
            from_status=before.value if before else None,
            to_status=after.value,
            note=note,
        )
    )
    audit(
        session,
        now,
        actor_id,
        f"case.{after.value}",
        f"case:{case.id}",
        dari=before.value if before else None,
        catatan=note,
    )
