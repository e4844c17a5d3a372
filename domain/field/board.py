"""The field board (/lapangan, `python -m bot report field`): open cases per kecamatan and
kelurahan, by category and age, for an official's scope; text (library sentences), CSV.

Check-ins (the other part of issue 13) add their counts through `CHECKIN_SOURCES`: each source
returns, per kelurahan code, answers by kind (e.g. {"sudah": 3, "belum": 1, "masalah": 0,
"tanpa_jawaban": 2}); the board shows them under the kelurahan and in the CSV.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CaseStatus, FieldCase, Kecamatan, Kelurahan
from domain.checkin_counts import latest_checkin_by_kelurahan
from domain.field import categories
from domain.field.events import OPEN
from election.profile import ElectionProfile
from messages.render import Safe, render

CheckinSource = Callable[[AsyncSession, str | None, datetime], Awaitable[dict[str, dict[str, int]]]]
# Where the check-ins' counts come from (see the module docstring): the latest check-in's
# answers per kelurahan.
CHECKIN_SOURCES: list[CheckinSource] = [latest_checkin_by_kelurahan]

# Age buckets of an open case, as the board groups them.
AGES: tuple[tuple[timedelta | None, str], ...] = (
    (timedelta(minutes=30), "<30m"),
    (timedelta(hours=2), "30m-2j"),
    (None, ">2j"),
)


def age_bucket(age: timedelta) -> str:
    for limit, name in AGES:
        if limit is None or age < limit:
            return name
    return AGES[-1][1]


def age_label(age: timedelta) -> str:
    minutes = max(0, int(age.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} menit"
    hours, rest = divmod(minutes, 60)
    return f"{hours} jam {rest} menit" if rest else f"{hours} jam"


@dataclass(frozen=True)
class BoardCase:
    id: int
    kecamatan_code: str | None
    kecamatan: str
    kelurahan_code: str | None
    kelurahan: str
    rw: int | None
    rt: int | None
    category: str
    status: CaseStatus
    tps: str | None
    opened_at: datetime
    age: timedelta
    report_count: int
    assigned_to: int | None


@dataclass
class FieldBoard:
    scope: str | None
    at: datetime
    open_cases: list[BoardCase]
    closed: int
    checkins: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def new(self) -> int:
        return sum(1 for c in self.open_cases if c.status is CaseStatus.NEW)

    @property
    def handling(self) -> int:
        return sum(1 for c in self.open_cases if c.status is CaseStatus.HANDLING)

    def by_place(self) -> dict[str, dict[str, list[BoardCase]]]:
        """kecamatan name -> kelurahan name -> open cases (oldest first)."""
        out: dict[str, dict[str, list[BoardCase]]] = {}
        for case in sorted(self.open_cases, key=lambda c: (c.kecamatan, c.kelurahan, c.opened_at)):
            out.setdefault(case.kecamatan, {}).setdefault(case.kelurahan, []).append(case)
        return out

    def by_category_and_age(self) -> dict[str, Counter[str]]:
        """category -> age bucket -> open cases (for the chart)."""
        out: dict[str, Counter[str]] = {}
        for case in self.open_cases:
            out.setdefault(case.category, Counter())[age_bucket(case.age)] += 1
        return out


async def field_board(session: AsyncSession, scope: str | None, now: datetime) -> FieldBoard:
    """Open cases in `scope` (a kecamatan code, None for the city) and how many were closed."""
    names = dict((await session.execute(select(Kecamatan.code, Kecamatan.name))).all())
    kelurahan = dict((await session.execute(select(Kelurahan.code, Kelurahan.name))).all())
    query = select(FieldCase).where(FieldCase.status.in_(OPEN))
    closed = select(func.count()).select_from(FieldCase).where(FieldCase.status.not_in(OPEN))
    if scope is not None:
        query = query.where(FieldCase.kecamatan_code == scope)
        closed = closed.where(FieldCase.kecamatan_code == scope)
    rows = (await session.scalars(query.order_by(FieldCase.opened_at))).all()
    cases = [
        BoardCase(
            id=c.id,
            kecamatan_code=c.kecamatan_code,
            kecamatan=names.get(c.kecamatan_code or "", "-"),
            kelurahan_code=c.kelurahan_code,
            kelurahan=kelurahan.get(c.kelurahan_code or "", "-"),
            rw=c.rw,
            rt=c.rt,
            category=c.category,
            status=c.status,
            tps=c.tps,
            opened_at=c.opened_at,
            age=now - c.opened_at,
            report_count=c.report_count,
            assigned_to=c.assigned_to,
        )
        for c in rows
    ]
    board = FieldBoard(scope, now, cases, int(await session.scalar(closed) or 0))
    for source in CHECKIN_SOURCES:
        for code, counts in (await source(session, scope, now)).items():
            board.checkins.setdefault(code, {}).update(counts)
    return board


def _category_name(profile: ElectionProfile, now: datetime, key: str) -> str:
    kind = categories.category(key)
    return render(kind.label, profile, now) if kind else key


def board_text(
    board: FieldBoard, profile: ElectionProfile, scope_name: str, *, max_chars: int = 3800
) -> str:
    """The board as Telegram HTML: totals, then per kecamatan and kelurahan the open cases by
    category and the oldest's age (cut with a pointer to the CSV when too long)."""
    now = board.at

    def t(key: str, **params: object) -> str:
        return render(key, profile, now, params or None)

    local = board.at.astimezone(profile.tz)
    lines = [
        t(
            "ui.lapangan.judul",
            wilayah=scope_name,
            waktu=f"{local:%d/%m %H.%M} {profile.timezone_label}",
            jumlah=len(board.open_cases),
            baru=board.new,
            ditangani=board.handling,
            ditutup=board.closed,
        )
    ]
    if not board.open_cases and not board.checkins:
        lines.append(t("ui.lapangan.kosong"))
        return "\n".join(lines)
    for kecamatan, places in board.by_place().items():
        lines.append(
            t("ui.lapangan.kecamatan", nama=kecamatan, jumlah=sum(len(v) for v in places.values()))
        )
        for kelurahan, cases in places.items():
            counts = Counter(c.category for c in cases)
            parts = [f"{_category_name(profile, now, k)} ×{n}" for k, n in counts.most_common()]
            oldest = max(cases, key=lambda c: c.age)
            detail = ", ".join(parts) + " · " + t("ui.lapangan.umur", umur=age_label(oldest.age))
            lines.append(t("ui.lapangan.kelurahan", nama=kelurahan, rincian=Safe(_esc(detail))))
            code = cases[0].kelurahan_code or ""
            if code in board.checkins:
                lines.append(_checkin_line(t, board.checkins[code]))
        if len("\n".join(lines)) > max_chars:
            lines.append(t("ui.lapangan.keterangan_csv"))
            break
    return "\n".join(lines)


def _checkin_line(t: Callable[..., str], counts: dict[str, int]) -> str:
    detail = " · ".join(f"{k} {v}" for k, v in counts.items())
    return t("ui.lapangan.checkin", rincian=detail)


def _esc(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def board_csv(board: FieldBoard, profile: ElectionProfile) -> bytes:
    """One row per open case (UTF-8 with BOM, as spreadsheets want), times in the election's
    zone; check-in counts, when any, one row per kelurahan after them."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["kasus", "kecamatan", "kelurahan", "rw", "rt", "kategori", "status", "tps",
         "dibuka", "umur_menit", "kelompok_umur", "laporan", "petugas"]
    )  # fmt: skip
    for case in sorted(board.open_cases, key=lambda c: (c.kecamatan, c.kelurahan, c.id)):
        writer.writerow(
            [
                case.id, case.kecamatan, case.kelurahan, case.rw or "", case.rt or "",
                case.category, case.status.value, case.tps or "",
                case.opened_at.astimezone(profile.tz).strftime("%Y-%m-%d %H:%M"),
                int(case.age.total_seconds() // 60), age_bucket(case.age), case.report_count,
                case.assigned_to or "",
            ]
        )  # fmt: skip
    for code, counts in sorted(board.checkins.items()):
        writer.writerow(["checkin", "", code, "", "", "", *(f"{k}={v}" for k, v in counts.items())])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
