"""The TPS registry: officials import it from a CSV (residents look it up in domain/tps.py).

The CSV has a header row; columns (case-insensitive, in any order; aliases in brackets):

    kelurahan  (kel, desa)           code 35.73.05.1005 or a name ("Sumbersari", "Oro-oro Dowo")
    tps        (no_tps, nomor_tps)    the TPS number within the kelurahan: 1..999
    alamat     (lokasi, tempat)       where it is, up to 255 characters
    rw                                the RW(s) it serves: "5", "5;6", "1-3"
    rt         (optional)             the RT(s) of that one RW: "1-4;7"; empty = the whole RW
    peta       (map, maps, link)      optional http(s) link to a map

The delimiter is a comma or a semicolon (Excel in Indonesian saves ";"); lists inside a cell
may use ";", ",", "/" or spaces. A TPS may take several rows (RT 1-4 of RW 5 and RT 1-2 of
RW 6); its address must then be the same on each.

Import replaces the registry of every kelurahan named in the file, and leaves the others as
they were, so a kecamatan can send just its own file. One bad row and nothing is imported;
every bad row is reported with its line number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Tps, TpsArea
from domain import csv_file
from domain.audit import audit
from domain.regions import Place, match_kelurahan

MAX_BYTES = 2_000_000
MAX_ROWS = 10_000
MAX_TPS_NUMBER = 999
MAX_AREA_NUMBER = 99

_COLUMNS = {
    "kelurahan": ("kelurahan", "kel", "desa", "kode_kelurahan", "kelurahan_desa"),
    "tps": ("tps", "no_tps", "nomor_tps", "nomor", "no"),
    "alamat": ("alamat", "lokasi", "tempat", "alamat_tps", "lokasi_tps"),
    "rw": ("rw",),
    "rt": ("rt",),
    "peta": ("peta", "map", "maps", "link", "link_peta", "url"),
}
_REQUIRED = ("kelurahan", "tps", "alamat", "rw")
_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")

HEADER_HELP = (
    "Baris pertama harus judul kolom: kelurahan,tps,alamat,rw,rt,peta (rt dan peta boleh kosong)."
)


@dataclass(frozen=True)
class RowProblem:
    line: int  # 1-based line in the file (the header is line 1)
    reason: str

    def __str__(self) -> str:
        return f"baris {self.line}: {self.reason}"


@dataclass
class TpsEntry:
    kelurahan_code: str
    number: int
    address: str
    map_url: str | None
    areas: set[tuple[int, int | None]] = field(default_factory=set)
    first_line: int = 0


@dataclass(frozen=True)
class ParsedRegistry:
    entries: list[TpsEntry]
    problems: list[RowProblem]

    @property
    def kelurahan_codes(self) -> list[str]:
        return sorted({e.kelurahan_code for e in self.entries})


class RegistryRejected(Exception):
    """The file was not imported; ``problems`` says why, line by line."""

    def __init__(self, problems: list[RowProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252; csv_file.CsvUnreadable for a file that
    is not text."""
    return csv_file.decode(data)


def parse_numbers(text: str, limit: int = MAX_AREA_NUMBER) -> list[int]:
    """'1-4;7' -> [1, 2, 3, 4, 7]; ValueError with an Indonesian reason if it is not that."""
    numbers: list[int] = []
    compact = re.sub(r"\s*[-–]\s*", "-", text.strip())
    for part in (p for p in re.split(r"[;,/\s]+", compact) if p):
        span = re.fullmatch(r"0*(\d{1,3})(?:\s*[-–]\s*0*(\d{1,3}))?", part)
        if span is None:
            raise ValueError(f"“{part}” bukan nomor atau rentang nomor (contoh: 5 atau 1-4)")
        low = int(span[1])
        high = int(span[2]) if span[2] else low
        if low < 1 or high > limit or high < low:
            raise ValueError(f"“{part}” di luar 1–{limit}")
        numbers.extend(range(low, high + 1))
    return sorted(set(numbers))


def _header_map(header: list[str]) -> tuple[dict[str, int], str | None]:
    index: dict[str, int] = {}
    for position, raw in enumerate(header):
        name = re.sub(r"[^a-z_]", "", raw.strip().casefold().replace(" ", "_"))
        for column, aliases in _COLUMNS.items():
            if name in aliases and column not in index:
                index[column] = position
    missing = [c for c in _REQUIRED if c not in index]
    if missing:
        return index, f"kolom {', '.join(missing)} tidak ada. {HEADER_HELP}"
    return index, None


def _resolve_kelurahan(value: str, regions: list[Place]) -> str:
    text = value.strip()
    if _CODE.match(text):
        if any(r.code == text for r in regions):
            return text
        raise ValueError(f"kode kelurahan {text} tidak ada di Kota Malang")
    matches = match_kelurahan(text, regions)
    if len(matches) == 1:
        return matches[0].code
    if not matches:
        raise ValueError(f"kelurahan “{text[:40]}” tidak dikenal")
    names = ", ".join(m.name for m in matches)
    raise ValueError(f"kelurahan “{text[:40]}” bisa berarti {names}; tulis kodenya")


def parse_registry(text: str, regions: list[Place]) -> ParsedRegistry:
    """Every TPS the file describes, and every problem with its line number."""
    problems: list[RowProblem] = []
    try:
        rows = csv_file.read_rows(text, max_rows=MAX_ROWS)
    except csv_file.CsvUnreadable as exc:
        return ParsedRegistry([], [RowProblem(exc.problem.line, exc.problem.reason)])
    if not rows:
        return ParsedRegistry([], [RowProblem(1, f"berkas kosong. {HEADER_HELP}")])
    header_line, header = rows[0]
    index, header_problem = _header_map(header)
    if header_problem:
        return ParsedRegistry([], [RowProblem(header_line, header_problem)])

    entries: dict[tuple[str, int], TpsEntry] = {}
    for line, row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue

        def cell(column: str, row: list[str] = row) -> str:
            position = index.get(column)
            return row[position].strip() if position is not None and position < len(row) else ""

        reasons: list[str] = []
        code = ""
        try:
            code = _resolve_kelurahan(cell("kelurahan"), regions) if cell("kelurahan") else ""
            if not code:
                reasons.append("kelurahan kosong")
        except ValueError as exc:
            reasons.append(str(exc))
        number = 0
        raw_number = cell("tps").upper().removeprefix("TPS").strip()
        if (
            not re.fullmatch(r"[0-9]{1,4}", raw_number)
            or not 1 <= int(raw_number) <= MAX_TPS_NUMBER
        ):
            reasons.append(f"nomor TPS “{cell('tps')[:20]}” harus angka 1–{MAX_TPS_NUMBER}")
        else:
            number = int(raw_number)
        address = " ".join(cell("alamat").split())
        if not address:
            reasons.append("alamat kosong")
        elif len(address) > 255:
            reasons.append("alamat lebih dari 255 karakter")
        rws: list[int] = []
        rts: list[int] = []
        try:
            rws = parse_numbers(cell("rw"))
            if not rws:
                reasons.append("rw kosong")
        except ValueError as exc:
            reasons.append(f"rw: {exc}")
        try:
            rts = parse_numbers(cell("rt"))
        except ValueError as exc:
            reasons.append(f"rt: {exc}")
        if rts and len(rws) > 1:
            reasons.append("bila rt diisi, rw harus satu saja (pisahkan per baris)")
        map_url = cell("peta") or None
        if map_url and (
            not map_url.startswith(("https://", "http://")) or len(map_url) > 255 or " " in map_url
        ):
            reasons.append("peta harus tautan http(s) tanpa spasi, paling panjang 255 karakter")
        if reasons:
            problems.append(RowProblem(line, "; ".join(reasons)))
            continue
        entry = entries.get((code, number))
        if entry is None:
            entry = TpsEntry(code, number, address, map_url, first_line=line)
            entries[(code, number)] = entry
        else:
            if entry.address.casefold() != address.casefold():
                problems.append(
                    RowProblem(
                        line,
                        f"TPS {number} sudah tertulis di baris {entry.first_line} "
                        "dengan alamat lain",
                    )
                )
                continue
            entry.map_url = entry.map_url or map_url
        if rts:
            entry.areas.update((rws[0], rt) for rt in rts)
        else:
            entry.areas.update((rw, None) for rw in rws)
    if not entries and not problems:
        problems.append(RowProblem(2, f"tidak ada baris TPS di bawah judul kolom. {HEADER_HELP}"))
    return ParsedRegistry(list(entries.values()), problems)


@dataclass(frozen=True)
class ImportReport:
    kelurahan: int
    tps: int
    areas: int
    replaced: int  # TPS rows that were there before for those kelurahan


async def import_registry(
    session: AsyncSession,
    data: bytes,
    regions: list[Place],
    actor_id: int | None,
    now: datetime,
    *,
    source: str = "",
) -> ImportReport:
    """Replace the registry of every kelurahan in the file; RegistryRejected if any row is bad.

    The caller's transaction holds it all: on RegistryRejected nothing has been changed.
    """
    if len(data) > MAX_BYTES:
        raise RegistryRejected(
            [RowProblem(1, f"berkas lebih dari {MAX_BYTES // 1_000_000} MB; bagi per kecamatan")]
        )
    try:
        text = decode(data)
    except csv_file.CsvUnreadable as exc:
        raise RegistryRejected([RowProblem(exc.problem.line, exc.problem.reason)]) from None
    parsed = parse_registry(text, regions)
    if parsed.problems:
        raise RegistryRejected(parsed.problems)
    codes = parsed.kelurahan_codes
    old_ids = (await session.scalars(select(Tps.id).where(Tps.kelurahan_code.in_(codes)))).all()
    if old_ids:
        await session.execute(delete(TpsArea).where(TpsArea.tps_id.in_(old_ids)))
        await session.execute(delete(Tps).where(Tps.id.in_(old_ids)))
    areas = 0
    for entry in sorted(parsed.entries, key=lambda e: (e.kelurahan_code, e.number)):
        tps = Tps(
            kelurahan_code=entry.kelurahan_code,
            number=entry.number,
            address=entry.address,
            map_url=entry.map_url,
        )
        tps.areas = [TpsArea(rw=rw, rt=rt) for rw, rt in sorted(entry.areas, key=_area_key)]
        areas += len(tps.areas)
        session.add(tps)
    await session.flush()
    report = ImportReport(len(codes), len(parsed.entries), areas, len(old_ids))
    audit(
        session,
        now,
        actor_id,
        "tps.import",
        source[:120],
        kelurahan=codes,
        tps=report.tps,
        areas=report.areas,
        replaced=report.replaced,
    )
    return report


def _area_key(area: tuple[int, int | None]) -> tuple[int, int]:
    return area[0], area[1] or 0
