"""The report store as check-ins see it (`domain.checkins.ReportOpener`).

A check-in answer ("Ada masalah", or "Belum" after the deadline) opens a report at once, with
no description; the leader's description comes later and is written into that same report
instead of making a second one. A check-in step whose category the field list does not know
still gets its report, under "lainnya", so an answer is never lost to a typo in a timeline.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import FieldReport
from domain.field import categories
from domain.field.reports import OpenedReport, check_description, open_report

FALLBACK_CATEGORY = "lainnya"


class FieldReports:
    """Opens field reports for check-in answers; a second call with the description fills it."""

    async def open_report(
        self,
        session: AsyncSession,
        *,
        group_id: int,
        reporter_id: int | None,
        category: str,
        description: str | None,
        source: str,
        now: datetime,
        tps: str | None = None,
    ) -> OpenedReport:
        if description is not None:
            waiting = await session.scalar(
                select(FieldReport)
                .where(
                    FieldReport.group_id == group_id,
                    FieldReport.source == source[:40],
                    FieldReport.description.is_(None),
                )
                .order_by(FieldReport.id.desc())
                .limit(1)
            )
            if waiting is not None:
                waiting.description = check_description(description)
                await session.flush()
                return OpenedReport(waiting.id, waiting.case_id, False)
        known = categories.category(category) is not None
        return await open_report(
            session,
            group_id=group_id,
            reporter_id=reporter_id,
            category=category if known else FALLBACK_CATEGORY,
            description=description,
            source=source,
            now=now,
            tps=tps,
        )
