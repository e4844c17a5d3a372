"""Kota Malang's map: kecamatan and kelurahan, loaded from data, matched from what people type."""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Kecamatan, Kelurahan

REGIONS_CSV = Path(__file__).resolve().parents[1] / "data" / "kota-malang-wilayah.csv"


@dataclass(frozen=True)
class Place:
    """One kelurahan with its kecamatan, plain data; `alt_names` are other spellings people
    use (loaded for matching what they type, empty where only display is needed)."""

    code: str
    name: str
    kecamatan_code: str
    kecamatan: str
    alt_names: tuple[str, ...] = ()


def read_regions(path: Path = REGIONS_CSV) -> list[Place]:
    """The city's map from data/kota-malang-wilayah.csv."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            Place(
                code=row["kode_kelurahan"].strip(),
                name=row["kelurahan"].strip(),
                kecamatan_code=row["kode_kecamatan"].strip(),
                kecamatan=row["kecamatan"].strip(),
                alt_names=tuple(a.strip() for a in row.get("ejaan_lain", "").split(";") if a),
            )
            for row in csv.DictReader(handle)
        ]


async def sync_regions(session: AsyncSession, path: Path = REGIONS_CSV) -> int:
    """Insert or update the map; running it twice changes nothing. Returns rows changed."""
    regions = read_regions(path)
    kecamatan = {k.code: k for k in (await session.scalars(select(Kecamatan))).all()}
    kelurahan = {k.code: k for k in (await session.scalars(select(Kelurahan))).all()}
    changed = 0
    for region in regions:
        kec = kecamatan.get(region.kecamatan_code)
        if kec is None:
            kec = Kecamatan(code=region.kecamatan_code, name=region.kecamatan)
            session.add(kec)
            kecamatan[kec.code] = kec
            changed += 1
        elif kec.name != region.kecamatan:
            kec.name = region.kecamatan
            changed += 1
        alt = ";".join(region.alt_names)
        kel = kelurahan.get(region.code)
        if kel is None:
            session.add(
                Kelurahan(
                    code=region.code,
                    name=region.name,
                    kecamatan_code=region.kecamatan_code,
                    alt_names=alt,
                )
            )
            changed += 1
        elif (kel.name, kel.kecamatan_code, kel.alt_names) != (
            region.name,
            region.kecamatan_code,
            alt,
        ):
            kel.name, kel.kecamatan_code, kel.alt_names = (
                region.name,
                region.kecamatan_code,
                alt,
            )
            changed += 1
    await session.flush()
    return changed


_PREFIX = re.compile(r"^(kel(urahan)?|kec(amatan)?|desa|ds)\.?\s+")


def normalize_place(text: str) -> str:
    """'Kel. Oro-oro  Dowo' -> 'orooro dowo' -> compared without spaces too."""
    text = unicodedata.normalize("NFKC", text).casefold().strip()
    text = _PREFIX.sub("", text)
    text = re.sub(r"[^a-z0-9 ]+", "", text.replace("-", ""))
    return re.sub(r"\s+", " ", text).strip()


def _squash(text: str) -> str:
    return normalize_place(text).replace(" ", "")


@dataclass(frozen=True)
class PlaceMatch:
    code: str
    name: str
    score: float


def match_kelurahan(text: str, regions: list[Place], limit: int = 3) -> list[PlaceMatch]:
    """Kelurahan that `text` may mean, best first: exact spellings, then small typos.

    One result means a confident match; several mean the bot must ask which one.
    """
    query = _squash(text)
    if not query:
        return []
    names: dict[str, tuple[str, str]] = {}
    for region in regions:
        for spelling in (region.name, *region.alt_names):
            names[_squash(spelling)] = (region.code, region.name)
    if query in names:
        code, name = names[query]
        return [PlaceMatch(code, name, 100.0)]
    found = process.extract(query, list(names), scorer=fuzz.ratio, limit=limit * 2)
    best: dict[str, PlaceMatch] = {}
    for candidate, score, _ in found:
        if score < 75:
            continue
        code, name = names[candidate]
        if code not in best or best[code].score < score:
            best[code] = PlaceMatch(code, name, float(score))
    ranked = sorted(best.values(), key=lambda m: -m.score)
    # A clear winner (no other within 8 points) is taken as the answer.
    if len(ranked) > 1 and ranked[0].score - ranked[1].score >= 8:
        return ranked[:1]
    return ranked[:limit]
