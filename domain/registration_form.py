"""The one-line /daftar form: "rw 5 sumbersari", "rt 3 rw 5 kel. oro-oro dowo", "rt 03/05
tlogomas" read into a registration, a short list of kelurahan to choose from, or what is wrong.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from domain.inputs import InvalidNumber, parse_count
from domain.places import Place
from domain.regions import PlaceMatch, match_kelurahan, normalize_place
from domain.subscriptions import MAX_NUMBER, Registration

# What is read of a typed /daftar: enough for "rt 3 rw 5 kel. oro-oro dowo kec. klojen".
MAX_TYPED = 120
MAX_PLACE_WORDS = 6


@dataclass(frozen=True)
class ParsedRegistration:
    """What a typed /daftar says: a registration, kelurahan to choose from, or what is wrong.

    `error` is Telegram HTML (what the admin typed is escaped in it).
    """

    registration: Registration | None = None
    rw: int | None = None
    rt: int | None = None
    candidates: list[PlaceMatch] = field(default_factory=list)
    error: str | None = None


FORM_HELP = (
    "Contoh: <code>/daftar rw 5 sumbersari</code> atau "
    "<code>/daftar rt 3 rw 5 kel. oro-oro dowo</code>. "
    "Atau ketik /daftar saja dan pilih lewat tombol."
)

# Numbers of any length are taken (then bounded with a message), never silently dropped.
_NUM = r"([0-9]+)(?![0-9])"
_PAIR = re.compile(rf"\brt\s*/\s*rw\s*[.:]?\s*{_NUM}\s*/\s*{_NUM}")
_RT_SLASH = re.compile(rf"\brt\s*[.:]?\s*{_NUM}\s*/\s*(?:rw\s*[.:]?\s*)?{_NUM}")
_RW = re.compile(rf"\brw\s*[.:]?\s*{_NUM}")
_RT = re.compile(rf"\brt\s*[.:]?\s*{_NUM}")
_FILLER = re.compile(r"\b(kel(urahan)?|di|grup|group)\b\.?")
_MARKER = re.compile(r"(\bkec(?:amatan)?\b\.?|\bkel(?:urahan)?\b\.?)")


def _split_kecamatan(text: str) -> tuple[str, str]:
    """'kel. sumbersari kec. lowokwaru' -> ('sumbersari', 'lowokwaru')."""
    kelurahan: list[str] = []
    kecamatan: list[str] = []
    into = kelurahan
    for piece in _MARKER.split(text):
        if _MARKER.fullmatch(piece):
            into = kecamatan if piece.startswith("kec") else kelurahan
        else:
            into.append(piece)
    return " ".join(kelurahan), " ".join(kecamatan)


def _kecamatan_code(text: str, regions: list[Place]) -> str | None:
    wanted = normalize_place(text).replace(" ", "")
    if len(wanted) < 4:
        return None
    for region in regions:
        name = normalize_place(region.kecamatan).replace(" ", "")
        if fuzz.ratio(wanted, name) >= 80:
            return region.kecamatan_code
    return None


def _take(pattern: re.Pattern[str], text: str) -> tuple[re.Match[str] | None, str]:
    match = pattern.search(text)
    if match is None:
        return None, text
    return match, text[: match.start()] + " " + text[match.end() :]


def _kelurahan_from(text: str, regions: list[Place]) -> list[PlaceMatch]:
    """Match the whole remainder first, then ever shorter runs of its words."""
    words = [w for w in re.split(r"\s+", _FILLER.sub(" ", text)) if w.strip(".,;:-")]
    words = words[:MAX_PLACE_WORDS]  # kelurahan names have one to three words
    if not words:
        return []
    for size in range(len(words), 0, -1):
        found: dict[str, PlaceMatch] = {}
        for start in range(len(words) - size + 1):
            span = " ".join(words[start : start + size])
            if len(span.replace(" ", "")) < 4:
                continue
            for m in match_kelurahan(span, regions):
                if m.code not in found or found[m.code].score < m.score:
                    found[m.code] = m
        if found:
            ranked = sorted(found.values(), key=lambda m: -m.score)
            exact = [m for m in ranked if m.score >= 100]
            return exact[:1] if len(exact) == 1 else ranked[:4]
    return []


def parse_registration(text: str, regions: list[Place]) -> ParsedRegistration:
    """Read 'rw 5 sumbersari', 'rt 3 rw 5 kel. oro-oro dowo', 'rt 03/05 tlogomas' and the like."""
    raw = " " + text[:MAX_TYPED].casefold().replace("\u00a0", " ") + " "
    numbers: dict[str, str] = {}
    for pattern in (_PAIR, _RT_SLASH):
        match, raw = _take(pattern, raw)
        if match:
            numbers["RT"], numbers["RW"] = match[1], match[2]
            break
    if "RW" not in numbers:
        match, raw = _take(_RW, raw)
        if match:
            numbers["RW"] = match[1]
    if "RT" not in numbers:
        match, raw = _take(_RT, raw)
        if match:
            numbers["RT"] = match[1]
    try:
        rt = parse_count(numbers["RT"], "RT", maximum=MAX_NUMBER) if "RT" in numbers else None
        rw = parse_count(numbers["RW"], "RW", maximum=MAX_NUMBER) if "RW" in numbers else None
    except InvalidNumber as exc:
        return ParsedRegistration(error=f"{html.escape(str(exc))} {FORM_HELP}")
    if rw is None:
        hint = " Untuk grup RT, sebutkan juga RW-nya." if rt is not None else ""
        return ParsedRegistration(rt=rt, error=f"Nomor RW belum disebut.{hint} {FORM_HELP}")
    rest, kecamatan = _split_kecamatan(raw)
    rest = rest.strip(" .,;:-")
    if not rest:
        return ParsedRegistration(rw=rw, rt=rt, error=f"Nama kelurahan belum disebut. {FORM_HELP}")
    kecamatan_code = _kecamatan_code(kecamatan, regions) if kecamatan.strip() else None
    if kecamatan_code is not None:
        regions = [r for r in regions if r.kecamatan_code == kecamatan_code]
    candidates = _kelurahan_from(rest, regions)
    if not candidates:
        return ParsedRegistration(
            rw=rw,
            rt=rt,
            error=(
                f"Kelurahan “{html.escape(rest[:40])}” tidak ditemukan di Kota Malang. " + FORM_HELP
            ),
        )
    if len(candidates) > 1:
        return ParsedRegistration(rw=rw, rt=rt, candidates=candidates)
    return ParsedRegistration(registration=Registration(candidates[0].code, rw, rt), rw=rw, rt=rt)
