"""The city's map as the flows show it: kecamatan, their kelurahan, and labels for an RW or RT."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Kecamatan, Kelurahan
from domain.regions import Place
from scheduler.audience import is_kelurahan_code

__all__ = [
    "Place",
    "all_places",
    "area_label",
    "kecamatan_list",
    "kecamatan_name",
    "kelurahan_in",
    "scope_name",
]


async def load_regions(session: AsyncSession) -> list[Place]:
    """The map as stored (loaded from the shipped map CSV at start-up), for matching."""
    rows = (
        await session.execute(
            select(Kelurahan, Kecamatan.name)
            .join(Kecamatan, Kelurahan.kecamatan_code == Kecamatan.code)
            .order_by(Kelurahan.code)
        )
    ).all()
    return [
        Place(
            code=kel.code,
            name=kel.name,
            kecamatan_code=kel.kecamatan_code,
            kecamatan=kec_name,
            alt_names=tuple(a for a in kel.alt_names.split(";") if a),
        )
        for kel, kec_name in rows
    ]


async def kecamatan_list(session: AsyncSession) -> list[tuple[str, str]]:
    """(code, name) of every kecamatan, by code."""
    rows = await session.execute(select(Kecamatan.code, Kecamatan.name).order_by(Kecamatan.code))
    return [(code, name) for code, name in rows.all()]


async def kelurahan_in(session: AsyncSession, kecamatan_code: str) -> list[Place]:
    """The kelurahan of one kecamatan, by name."""
    return [p for p in await all_places(session) if p.kecamatan_code == kecamatan_code]


async def all_places(session: AsyncSession) -> list[Place]:
    """Every kelurahan with its kecamatan, by kecamatan code and then kelurahan name."""
    rows = (
        await session.execute(
            select(Kelurahan.code, Kelurahan.name, Kecamatan.code, Kecamatan.name)
            .join(Kecamatan, Kelurahan.kecamatan_code == Kecamatan.code)
            .order_by(Kecamatan.code, Kelurahan.name)
        )
    ).all()
    return [Place(*row) for row in rows]


async def place(session: AsyncSession, kelurahan_code: str) -> Place | None:
    row = (
        await session.execute(
            select(Kelurahan.code, Kelurahan.name, Kecamatan.code, Kecamatan.name)
            .join(Kecamatan, Kelurahan.kecamatan_code == Kecamatan.code)
            .where(Kelurahan.code == kelurahan_code)
        )
    ).first()
    return Place(*row) if row else None


async def kecamatan_name(session: AsyncSession, code: str) -> str | None:
    kec = await session.get(Kecamatan, code)
    return kec.name if kec else None


async def scope_name(session: AsyncSession, scope: str | None) -> str:
    """An official's scope as every view names it: 'se-Kota Malang', 'Kecamatan Klojen' or (a
    lurah's) 'Kelurahan Sumbersari'. Pass ``Actor.scope``, never its ``kecamatan_code``: a
    lurah's staff also carry their kecamatan."""
    if scope is None:
        return "se-Kota Malang"
    if is_kelurahan_code(scope):
        kelurahan = await session.get(Kelurahan, scope)
        return f"Kelurahan {kelurahan.name if kelurahan else scope}"
    kecamatan = await session.get(Kecamatan, scope)
    return f"Kecamatan {kecamatan.name if kecamatan else scope}"


def area_label(rw: int, rt: int | None = None) -> str:
    """'RW 05' or 'RT 03 / RW 05', the way residents write them."""
    return f"RT {rt:02d} / RW {rw:02d}" if rt is not None else f"RW {rw:02d}"
