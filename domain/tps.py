"""Residents look their TPS up by kelurahan, RW and RT in the registry officials imported
(the CSV format and the import: domain/tps_registry.py).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Tps, TpsArea
from domain.places import area_label


@dataclass(frozen=True)
class TpsInfo:
    kelurahan_code: str
    number: int
    address: str
    map_url: str | None
    serves: str  # 'RW 05' or 'RT 01–04 / RW 05' — what the registry says it serves


async def has_registry(session: AsyncSession) -> bool:
    return bool(await session.scalar(select(func.count()).select_from(Tps)))


async def kelurahan_with_registry(session: AsyncSession) -> set[str]:
    return set((await session.scalars(select(Tps.kelurahan_code).distinct())).all())


async def rws_of(session: AsyncSession, kelurahan_code: str) -> list[int]:
    rows = await session.scalars(
        select(TpsArea.rw)
        .join(Tps, TpsArea.tps_id == Tps.id)
        .where(Tps.kelurahan_code == kelurahan_code)
        .distinct()
    )
    return sorted(rows.all())


async def rts_of(session: AsyncSession, kelurahan_code: str, rw: int) -> list[int]:
    """The RTs of an RW the registry names one by one (empty: the RW is served as a whole)."""
    rows = await session.scalars(
        select(TpsArea.rt)
        .join(Tps, TpsArea.tps_id == Tps.id)
        .where(Tps.kelurahan_code == kelurahan_code, TpsArea.rw == rw, TpsArea.rt.is_not(None))
        .distinct()
    )
    return sorted(rt for rt in rows.all() if rt is not None)


def _serves(areas: list[TpsArea]) -> str:
    by_rw: dict[int, list[int]] = defaultdict(list)
    whole: set[int] = set()
    for area in areas:
        if area.rt is None:
            whole.add(area.rw)
        else:
            by_rw[area.rw].append(area.rt)
    parts = [area_label(rw) for rw in sorted(whole)]
    for rw in sorted(set(by_rw) - whole):
        parts.append(f"RT {_ranges(by_rw[rw])} / RW {rw:02d}")
    return "; ".join(parts)


def _ranges(numbers: list[int]) -> str:
    """[1, 2, 3, 4, 7] -> '01–04, 07'."""
    out: list[str] = []
    values = sorted(set(numbers))
    start = prev = values[0]
    for n in [*values[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        out.append(f"{start:02d}" if start == prev else f"{start:02d}–{prev:02d}")
        if n is not None:
            start = prev = n
    return ", ".join(out)


async def find_tps(
    session: AsyncSession, kelurahan_code: str, rw: int, rt: int | None
) -> list[TpsInfo]:
    """The TPS serving an RT (or the whole RW); for an unknown RT, every TPS of the RW."""
    query = (
        select(Tps, TpsArea)
        .join(TpsArea, TpsArea.tps_id == Tps.id)
        .where(Tps.kelurahan_code == kelurahan_code, TpsArea.rw == rw)
    )
    rows = (await session.execute(query)).all()
    exact = {t.id for t, a in rows if rt is not None and a.rt == rt}
    whole = {t.id for t, a in rows if a.rt is None}
    # An RT the registry does not name: the TPS of the whole RW, else all of the RW's TPS.
    wanted = (exact or whole) if rt is not None else set()
    if not wanted:
        wanted = {t.id for t, _ in rows}
    found = sorted({t.id: t for t, _ in rows if t.id in wanted}.values(), key=lambda t: t.number)
    areas: dict[int, list[TpsArea]] = defaultdict(list)
    for area in await session.scalars(select(TpsArea).where(TpsArea.tps_id.in_(wanted))):
        areas[area.tps_id].append(area)
    return [
        TpsInfo(t.kelurahan_code, t.number, t.address, t.map_url, _serves(areas[t.id]))
        for t in found
    ]
