"""The audit log: who did what, when. Written in the same transaction as the change."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEntry


def audit(
    session: AsyncSession,
    now: datetime,
    actor_id: int | None,
    action: str,
    target: str = "",
    **detail: Any,
) -> None:
    session.add(
        AuditEntry(
            at=now,
            actor_id=actor_id,
            action=action,
            target=target,
            detail=json.dumps(detail, ensure_ascii=False, default=str) if detail else "",
        )
    )
