"""Coverage: the city's official list of RW and RT against the groups registered with the bot.

The list is imported from a CSV with a header row and three columns (any order, any case):

    kelurahan  (kel, desa, kode_kelurahan)  code 35.73.02.1008 or a name ("Oro-oro Dowo")
    rw                                      the RW number: 1..99 ("03", "RW 03" too)
    rt                                      the RT number, or empty for the RW itself

Comma or semicolon separated (Excel in Indonesian saves ";"). Every RW named by an RT row
counts as listed too. Importing replaces the list of every kelurahan in the file and leaves the
others alone; one bad row and nothing is imported, every bad row reported by its line number.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Group, GroupLevel, Kecamatan, Kelurahan, Neighbourhood
from domain import csv_file
from domain.audit import audit
from domain.regions import Place, match_kelurahan
from scheduler.audience import in_region, region_filter

MAX_BYTES = 2_000_000
MAX_ROWS = 20_000
MAX_NUMBER = 99
_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")
_NUMBER = re.compile(r"^(?:r[wt]\.?\s*)?0*(\d{1,3})$")
_COLUMNS = {
    "kelurahan": ("kelurahan", "kel", "desa", "kode_kelurahan", "kelurahan_desa", "nama_kelurahan"),
    "rw": ("rw", "no_rw", "nomor_rw"),
    "rt": ("rt", "no_rt", "nomor_rt"),
}
HEADER_HELP = "Baris pertama harus judul kolom: kelurahan,rw,rt (rt boleh kosong untuk RW)."


@dataclass(frozen=True)
class RowProblem:
    line: int  # 1-based, as a spreadsheet shows it
    reason: str

    def __str__(self) -> str:
        return f"baris {self.line}: {self.reason}"


class ListRejected(Exception):
    """The file cannot be imported; `problems` lists every bad row."""

    def __init__(self, problems: list[RowProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class NeighbourhoodList:
    """A parsed file: for each kelurahan, its RW and (RW, RT) pairs."""

    rws: dict[str, set[int]]
    rts: dict[str, set[tuple[int, int]]]

    @property
    def kelurahan(self) -> list[str]:
        return sorted(set(self.rws) | set(self.rts))


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252; ListRejected for a file that is not
    text."""
    try:
        return csv_file.decode(data)
    except csv_file.CsvUnreadable as exc:
        raise ListRejected([RowProblem(exc.problem.line, exc.problem.reason)]) from None


def _number(value: str, what: str) -> int:
    match = _NUMBER.match(value.strip().lower())
    if not match or not 1 <= int(match[1]) <= MAX_NUMBER:
        raise ValueError(f"{what} “{value.strip()[:20]}” harus angka 1–{MAX_NUMBER}")
    return int(match[1])


def _kelurahan(value: str, regions: list[Place], cache: dict[str, str]) -> str:
    key = value.strip()
    if key in cache:
        return cache[key]
    if not key:
        raise ValueError("kolom kelurahan kosong")
    if _CODE.match(key):
        if not any(r.code == key for r in regions):
            raise ValueError(f"kode kelurahan {key} tidak ada di Kota Malang")
        code = key
    else:
        matches = match_kelurahan(key, regions)
        if not matches:
            raise ValueError(f"kelurahan “{key[:40]}” tidak dikenal; tulis nama atau kodenya")
        if len(matches) > 1:
            names = ", ".join(m.name for m in matches)
            raise ValueError(f"kelurahan “{key[:40]}” bisa berarti {names}; tulis kodenya")
        code = matches[0].code
    cache[key] = code
    return code


def parse_list(
    text: str, regions: list[Place], kecamatan_code: str | None = None
) -> NeighbourhoodList:
    """Every row checked; ListRejected with all problems, or the whole list."""
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    try:
        rows = csv_file.read_rows(text, max_rows=MAX_ROWS, delimiter=delimiter)
    except csv_file.CsvUnreadable as exc:
        raise ListRejected([RowProblem(exc.problem.line, exc.problem.reason)]) from None
    if not rows or not any(cell.strip() for cell in rows[0][1]):
        raise ListRejected([RowProblem(1, "berkas kosong. " + HEADER_HELP)])
    header = [re.sub(r"\s+", "_", c.strip().lower()) for c in rows[0][1]]
    columns: dict[str, int] = {}
    for name, aliases in _COLUMNS.items():
        for index, cell in enumerate(header):
            if cell in aliases:
                columns[name] = index
                break
    if "kelurahan" not in columns or "rw" not in columns:
        raise ListRejected([RowProblem(1, "judul kolom tidak dikenali. " + HEADER_HELP)])
    in_scope = {r.code for r in regions if in_region(r.code, kecamatan_code)}
    problems: list[RowProblem] = []
    cache: dict[str, str] = {}
    rws: dict[str, set[int]] = defaultdict(set)
    rts: dict[str, set[tuple[int, int]]] = defaultdict(set)
    for line, row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue

        def value(name: str, row: list[str] = row) -> str:
            index = columns.get(name)
            return row[index] if index is not None and index < len(row) else ""

        try:
            code = _kelurahan(value("kelurahan"), regions, cache)
            if kecamatan_code is not None and code not in in_scope:
                raise ValueError("kelurahan ini di luar wilayah Anda")
            rw = _number(value("rw"), "RW")
            rt = _number(value("rt"), "RT") if value("rt").strip() else None
        except ValueError as exc:
            problems.append(RowProblem(line, str(exc)))
            continue
        rws[code].add(rw)
        if rt is not None:
            rts[code].add((rw, rt))
    if problems:
        raise ListRejected(problems)
    if not rws:
        raise ListRejected([RowProblem(2, "tidak ada baris data di bawah judul kolom")])
    return NeighbourhoodList(dict(rws), dict(rts))


@dataclass(frozen=True)
class ImportSummary:
    kelurahan: int
    rw: int
    rt: int
    replaced: int  # rows of the old list for those kelurahan


async def import_list(
    session: AsyncSession,
    parsed: NeighbourhoodList,
    actor_id: int | None,
    now: datetime,
) -> ImportSummary:
    """Replace the list of every kelurahan in the file, in the caller's transaction."""
    codes = parsed.kelurahan
    old = Neighbourhood.kelurahan_code.in_(codes)
    replaced = await session.scalar(select(func.count()).select_from(Neighbourhood).where(old))
    await session.execute(delete(Neighbourhood).where(old))
    rows = [
        {"kelurahan_code": code, "rw": rw, "rt": None}
        for code in codes
        for rw in sorted(parsed.rws.get(code, ()))
    ] + [
        {"kelurahan_code": code, "rw": rw, "rt": rt}
        for code in codes
        for rw, rt in sorted(parsed.rts.get(code, ()))
    ]
    await session.execute(insert(Neighbourhood), rows)
    summary = ImportSummary(
        kelurahan=len(codes),
        rw=sum(len(v) for v in parsed.rws.values()),
        rt=sum(len(v) for v in parsed.rts.values()),
        replaced=int(replaced or 0),
    )
    audit(
        session,
        now,
        actor_id,
        "coverage.import",
        "neighbourhoods",
        kelurahan=summary.kelurahan,
        rw=summary.rw,
        rt=summary.rt,
        replaced=summary.replaced,
    )
    return summary


@dataclass
class KelurahanCoverage:
    code: str
    name: str
    kecamatan_code: str
    kecamatan: str
    rw_listed: int = 0
    rw_covered: int = 0
    rt_listed: int = 0
    rt_covered: int = 0
    # Without a registered group, as (rw, rt); rt None: the RW's own group.
    missing: list[tuple[int, int | None]] = field(default_factory=list)
    groups: int = 0  # registered groups in the kelurahan, listed or not

    @property
    def listed(self) -> int:
        return self.rw_listed + self.rt_listed

    @property
    def covered(self) -> int:
        return self.rw_covered + self.rt_covered

    @property
    def rate(self) -> float:
        return self.covered / self.listed if self.listed else 0.0


@dataclass(frozen=True)
class CoverageLine:
    """One listed RW or RT: one CSV row."""

    kecamatan: str
    kelurahan: str
    rw: int
    rt: int | None
    group_title: str | None
    # The funnel (domain/funnel.py) for this RW/RT: a group placed here has the bot (registered
    # or not), and a registered one acknowledged the latest broadcast.
    bot_added: bool = False
    acknowledged: bool = False


@dataclass(frozen=True)
class NeighbourhoodCoverage:
    kelurahan: list[KelurahanCoverage]
    lines: list[CoverageLine]

    @property
    def has_list(self) -> bool:
        return any(k.listed for k in self.kelurahan)


async def neighbourhood_coverage(
    session: AsyncSession, kecamatan_code: str | None = None
) -> NeighbourhoodCoverage:
    """Per kelurahan: listed RW and RT, which have a registered (subscribed, active) group."""
    registered = and_(Group.subscribed.is_(True), Group.active.is_(True))
    match = and_(
        Group.kelurahan_code == Neighbourhood.kelurahan_code,
        Group.rw == Neighbourhood.rw,
        registered,
    )
    rw_match = and_(match, Group.level == GroupLevel.RW, Neighbourhood.rt.is_(None))
    rt_match = and_(match, Group.level == GroupLevel.RT, Group.rt == Neighbourhood.rt)
    places = (
        select(Kelurahan.code, Kelurahan.name, Kecamatan.code, Kecamatan.name)
        .join(Kecamatan, Kecamatan.code == Kelurahan.kecamatan_code)
        .order_by(Kecamatan.code, Kelurahan.name)
    )
    listed = (
        select(
            Neighbourhood.kelurahan_code,
            Neighbourhood.rw,
            Neighbourhood.rt,
            Group.title,
        )
        .join(Kelurahan, Kelurahan.code == Neighbourhood.kelurahan_code)
        .outerjoin(Group, (rw_match) | (rt_match))
        .order_by(
            Neighbourhood.kelurahan_code, Neighbourhood.rw, Neighbourhood.rt.is_not(None),
            Neighbourhood.rt, Group.id,
        )
    )  # fmt: skip
    groups = (
        select(Group.kelurahan_code, Group.id)
        .join(Kelurahan, Kelurahan.code == Group.kelurahan_code)
        .where(registered)
    )
    if kecamatan_code is not None:
        places = places.where(region_filter(Kelurahan.code, kecamatan_code))
        listed = listed.where(region_filter(Kelurahan.code, kecamatan_code))
        groups = groups.where(region_filter(Kelurahan.code, kecamatan_code))
    by_code: dict[str, KelurahanCoverage] = {
        code: KelurahanCoverage(code, name, kec_code, kec_name)
        for code, name, kec_code, kec_name in (await session.execute(places)).all()
    }
    for kel_code, _ in (await session.execute(groups)).all():
        if kel_code in by_code:
            by_code[kel_code].groups += 1
    added, acked = await _funnel_keys(session)
    lines: list[CoverageLine] = []
    seen: set[tuple[str, int, int | None]] = set()
    for kel_code, rw, rt, title in (await session.execute(listed)).all():
        if (kel_code, rw, rt) in seen:  # two groups for one RT: one line is enough
            continue
        seen.add((kel_code, rw, rt))
        kel = by_code[kel_code]
        covered = title is not None
        if rt is None:
            kel.rw_listed += 1
            kel.rw_covered += covered
        else:
            kel.rt_listed += 1
            kel.rt_covered += covered
        if not covered:
            kel.missing.append((rw, rt))
        key = (kel_code, rw, rt)
        lines.append(
            CoverageLine(kel.kecamatan, kel.name, rw, rt, title, key in added, key in acked)
        )
    return NeighbourhoodCoverage(list(by_code.values()), lines)


async def _funnel_keys(
    session: AsyncSession,
) -> tuple[set[tuple[str, int, int | None]], set[tuple[str, int, int | None]]]:
    """(kelurahan, rw, rt) with the bot in a group placed there; and acknowledged the latest."""
    from domain.funnel import latest_broadcast_id
    from scheduler.audience import acknowledged_groups

    latest = await latest_broadcast_id(session)
    acked_ids = set((await session.scalars(acknowledged_groups(latest))).all()) if latest else set()
    rows = await session.execute(
        select(
            Group.id, Group.kelurahan_code, Group.level, Group.rw, Group.rt, Group.subscribed
        ).where(Group.active.is_(True), Group.kelurahan_code.is_not(None), Group.rw.is_not(None))
    )
    added: set[tuple[str, int, int | None]] = set()
    acked: set[tuple[str, int, int | None]] = set()
    for gid, kel, level, rw, rt, subscribed in rows.all():
        if kel is None or rw is None:  # the query asks for placed groups only
            continue
        key = (kel, rw, rt if level == GroupLevel.RT else None)
        added.add(key)
        if subscribed and gid in acked_ids:
            acked.add(key)
    return added, acked


def coverage_csv(report: NeighbourhoodCoverage) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        (
            "kecamatan", "kelurahan", "tingkat", "rw", "rt", "ada_grup", "nama_grup",
            "bot_di_grup", "konfirmasi_siaran_terakhir",
        )
    )  # fmt: skip
    for line in report.lines:
        writer.writerow(
            (
                line.kecamatan,
                line.kelurahan,
                "RW" if line.rt is None else "RT",
                line.rw,
                "" if line.rt is None else line.rt,
                "ya" if line.group_title is not None else "tidak",
                line.group_title or "",
                "ya" if line.bot_added else "tidak",
                "ya" if line.acknowledged else "tidak",
            )
        )
    return out.getvalue().encode("utf-8-sig")
