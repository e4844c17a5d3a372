"""The audit log: who did what, when. Written in the same transaction as the change."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Protocol

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEntry, Broadcast, Official
from domain.errors import PermissionDenied
from scheduler.audience import addressed_within


class AuditViewer(Protocol):
    """Who reads the log (a ``domain.officials.Actor``)."""

    @property
    def user_id(self) -> int: ...
    @property
    def is_admin(self) -> bool: ...
    @property
    def scope(self) -> str | None: ...


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


# --- reading the log (/audit) ---------------------------------------------------------------------


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor_id: int | None
    action: str
    target: str
    detail: str


def _scoped_targets(officials: Iterable[int], broadcasts: Iterable[int]) -> list[str]:
    return [f"user:{u}" for u in officials] + [f"broadcast:{b}" for b in broadcasts]


async def audit_entries(
    session: AsyncSession,
    viewer: AuditViewer,
    *,
    official_id: int | None = None,
    broadcast_id: int | None = None,
    limit: int = 50,
    before_id: int | None = None,
) -> list[AuditRow]:
    """Recent actions, newest first, for an admin: all of them for a city-wide admin; for a
    scoped admin those by or about officials in their scope and about broadcasts to it.
    ``official_id``: actions by or about that official; ``broadcast_id``: about that
    broadcast; ``before_id``: the next page (the last row's id)."""
    if not viewer.is_admin:
        raise PermissionDenied.of("otoritas.audit.hanya_admin")
    query = select(AuditEntry)
    if official_id is not None:
        query = query.where(
            or_(AuditEntry.actor_id == official_id, AuditEntry.target == f"user:{official_id}")
        )
    if broadcast_id is not None:
        query = query.where(AuditEntry.target == f"broadcast:{broadcast_id}")
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    if viewer.scope is not None:
        scope = viewer.scope
        members = (
            await session.scalars(
                select(Official.user_id).where(
                    or_(
                        Official.kelurahan_code == scope,
                        Official.kecamatan_code == scope,
                        Official.kecamatan_code.like(scope + ".%"),
                    )
                )
            )
        ).all()
        own = set(members) | {viewer.user_id}
        broadcasts = [
            b.id
            for b in (await session.execute(select(Broadcast.id, Broadcast.audience))).all()
            if addressed_within(b.audience, scope)
        ]
        query = query.where(
            or_(
                AuditEntry.actor_id.in_(own),
                AuditEntry.target.in_(_scoped_targets(own, broadcasts)),
            )
        )
    rows = (
        await session.scalars(query.order_by(AuditEntry.id.desc()).limit(max(1, min(limit, 1000))))
    ).all()
    return [AuditRow(r.id, r.at, r.actor_id, r.action, r.target, r.detail) for r in rows]


async def audit_batches(
    session: AsyncSession, viewer: AuditViewer, *, batch: int = 1000, **filters: Any
) -> AsyncIterator[list[AuditRow]]:
    """Every entry of a selection (the filters of ``audit_entries``), newest first, in batches:
    an export of all of them never holds more than one batch."""
    before_id = filters.pop("before_id", None)
    while True:
        rows = await audit_entries(session, viewer, limit=batch, before_id=before_id, **filters)
        if not rows:
            return
        yield rows
        if len(rows) < batch:
            return
        before_id = rows[-1].id


def audit_csv(rows: Iterable[AuditRow], zone: tzinfo | None = None, *, header: bool = True) -> str:
    """The rows as CSV (UTF-8 text, header first unless ``header`` is False), times in ``zone``
    (UTC when None)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(["id", "waktu", "petugas", "tindakan", "sasaran", "rincian"])
    for row in rows:
        at = row.at.astimezone(zone) if zone else row.at
        writer.writerow(
            [row.id, at.isoformat(timespec="seconds"), row.actor_id or "sistem", row.action,
             row.target, _safe_cell(row.detail)]
        )  # fmt: skip
    return out.getvalue()


def _safe_cell(value: str) -> str:
    """A spreadsheet never runs a cell as a formula ("=HYPERLINK(...)" typed into a name)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
