"""A report from the field enters here: placed by its group's registration, grouped into a case.

Reports are never re-broadcast and never refused by the neutrality guard: a report about money
politics must be able to name who gave it. Descriptions are kept as written, with 16-digit
(NIK-shaped) numbers masked; photos are Telegram file ids, never downloaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CaseStatus, FieldCase, FieldReport, Group, Kelurahan
from domain.field import categories
from domain.field.events import OPEN, record_event
from domain.field.posko import posko_for
from domain.places import area_label, place

GROUPING_WINDOW = timedelta(minutes=30)
MAX_DESCRIPTION = 1000  # characters; longer is refused (the reporter shortens it)
MAX_PHOTOS = 5
NIK_MASK = "[NIK disembunyikan]"
_SIXTEEN_DIGITS = re.compile(r"(?<![\d])(?:\d[ .\-]?){15}\d(?![\d])")
_TPS = re.compile(r"[0-9]{1,3}")


def mask_nik(text: str) -> str:
    """Every 16-digit number (grouped with spaces, dots or dashes or not) masked."""
    return _SIXTEEN_DIGITS.sub(NIK_MASK, text)


class Refusal(StrEnum):
    UNKNOWN_GROUP = "unknown_group"
    NOT_REGISTERED = "not_registered"
    UNKNOWN_CATEGORY = "unknown_category"
    TOO_LONG = "too_long"
    BAD_TPS = "bad_tps"
    TOO_MANY_PHOTOS = "too_many_photos"


class ReportRefused(ValueError):
    def __init__(self, reason: Refusal) -> None:
        self.reason = reason
        super().__init__(reason.value)


@dataclass(frozen=True)
class OpenedReport:
    report_id: int
    case_id: int
    new_case: bool
    # The posko the case goes to (None: no posko yet; it is posted once one is made).
    posko_chat_id: int | None = None


def normalise_tps(value: str | None) -> str | None:
    """'07', 'TPS 7', ' 7 ' -> '7'; None or empty -> None; anything else refused."""
    if value is None:
        return None
    cleaned = re.sub(r"(?i)^\s*tps\s*", "", value).strip()
    if not cleaned:
        return None
    if not _TPS.fullmatch(cleaned) or int(cleaned) == 0:
        raise ReportRefused(Refusal.BAD_TPS)
    return str(int(cleaned))


def check_description(description: str | None) -> str | None:
    if description is None:
        return None
    text = description.strip()
    if len(text) > MAX_DESCRIPTION:
        raise ReportRefused(Refusal.TOO_LONG)
    return mask_nik(text) or None


async def open_report(
    session: AsyncSession,
    *,
    group_id: int,
    reporter_id: int | None,
    category: str,
    description: str | None,
    source: str,
    now: datetime,
    tps: str | None = None,
    detail: str | None = None,
    photos: list[str] | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    source_chat_id: int | None = None,
) -> OpenedReport:
    """Record a report of the registered group `group_id` (groups.id, not the chat id) and put
    it in a case: an open case of the same place and category whose last report is at most 30
    minutes old, or a new one. `source_chat_id`: where the reporter is told of changes (the
    group's chat by default). The caller commits."""
    kind = categories.category(category)
    if kind is None or (detail is not None and detail not in kind.details):
        raise ReportRefused(Refusal.UNKNOWN_CATEGORY)
    group = await session.get(Group, group_id)
    if group is None:
        raise ReportRefused(Refusal.UNKNOWN_GROUP)
    if not group.subscribed or group.kelurahan_code is None:
        raise ReportRefused(Refusal.NOT_REGISTERED)
    text = check_description(description)
    number = normalise_tps(tps)
    shots = list(photos or [])
    if len(shots) > MAX_PHOTOS:
        raise ReportRefused(Refusal.TOO_MANY_PHOTOS)
    kecamatan = await session.scalar(
        select(Kelurahan.kecamatan_code).where(Kelurahan.code == group.kelurahan_code)
    )
    case = await _open_case_for(session, group, category, number, now)
    new_case = case is None
    if case is None:
        case = FieldCase(
            kecamatan_code=kecamatan,
            kelurahan_code=group.kelurahan_code,
            rw=group.rw,
            rt=group.rt,
            category=category,
            tps=number,
            status=CaseStatus.NEW,
            report_count=1,
            opened_at=now,
            last_report_at=now,
            updated_at=now,
            posko_chat_id=await posko_for(session, kecamatan),
        )
        session.add(case)
        await session.flush()
    else:
        case.report_count += 1
        case.last_report_at = now
        case.updated_at = now
        case.tps = case.tps or number
    report = FieldReport(
        case_id=case.id,
        group_id=group.id,
        kecamatan_code=kecamatan,
        kelurahan_code=group.kelurahan_code,
        rw=group.rw,
        rt=group.rt,
        category=category,
        detail=detail,
        tps=number,
        description=text,
        photos=shots,
        latitude=latitude,
        longitude=longitude,
        reporter_id=reporter_id,
        source_chat_id=source_chat_id if source_chat_id is not None else group.chat_id,
        source=source[:40],
        created_at=now,
    )
    session.add(report)
    await session.flush()
    if new_case:
        record_event(session, case, now, reporter_id, None, CaseStatus.NEW, f"report:{report.id}")
    return OpenedReport(report.id, case.id, new_case, case.posko_chat_id)


async def _open_case_for(
    session: AsyncSession, group: Group, category: str, tps: str | None, now: datetime
) -> FieldCase | None:
    candidates = (
        await session.scalars(
            select(FieldCase)
            .where(
                FieldCase.kelurahan_code == group.kelurahan_code,
                FieldCase.rw.is_(None) if group.rw is None else FieldCase.rw == group.rw,
                FieldCase.rt.is_(None) if group.rt is None else FieldCase.rt == group.rt,
                FieldCase.category == category,
                FieldCase.status.in_(OPEN),
                FieldCase.last_report_at >= now - GROUPING_WINDOW,
            )
            .order_by(FieldCase.last_report_at.desc())
        )
    ).all()
    for case in candidates:
        # Two different TPS numbers are two problems, even in one RW.
        if tps is None or case.tps is None or case.tps == tps:
            return case
    return None


async def reports_of(session: AsyncSession, case_id: int) -> list[FieldReport]:
    return list(
        (
            await session.scalars(
                select(FieldReport).where(FieldReport.case_id == case_id).order_by(FieldReport.id)
            )
        ).all()
    )


async def groups_led_by(session: AsyncSession, user_id: int) -> list[Group]:
    """Registered groups this user registered (the bot knows they lead them), by title."""
    return list(
        (
            await session.scalars(
                select(Group)
                .where(
                    Group.subscribed_by == user_id,
                    Group.subscribed.is_(True),
                    Group.active.is_(True),
                    Group.kelurahan_code.is_not(None),
                )
                .order_by(Group.title, Group.id)
            )
        ).all()
    )


def registered(group: Group | None) -> bool:
    return group is not None and group.subscribed and group.kelurahan_code is not None


async def place_label(
    session: AsyncSession, kelurahan_code: str | None, rw: int | None, rt: int | None
) -> str:
    """'RT 01 / RW 05, Kel. Oro-oro Dowo, Kec. Klojen' (plain text)."""
    parts: list[str] = []
    if rw is not None:
        parts.append(area_label(rw, rt))
    where = await place(session, kelurahan_code) if kelurahan_code else None
    if where is not None:
        parts += [f"Kel. {where.name}", f"Kec. {where.kecamatan}"]
    elif kelurahan_code:
        parts.append(kelurahan_code)
    return ", ".join(parts)
