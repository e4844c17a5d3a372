"""Getting the bot into RW/RT groups: the startgroup deep link, its payload, the invitation text.

The payload rides on `https://t.me/<bot>?startgroup=<payload>`; Telegram hands it back as
`/start <payload>` in the group the admin picked. It is a hint only: several clients drop or
mangle it, so registration works without it and the admin always confirms the place.

    daftar                 registration, no place chosen (the city-wide poster, old links)
    daftar-3573051005      registration with kelurahan 35.73.05.1005 chosen
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from domain import places
from domain.places import Place
from domain.regions import match_kelurahan
from election.profile import ElectionProfile
from messages.render import render

PREFIX = "daftar"
# Telegram's rule for start parameters.
PAYLOAD_RULE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_PAYLOAD = re.compile(r"^daftar(?:[-_](?P<digits>\d{10}))?$", re.IGNORECASE)
_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")


class UnknownPlace(ValueError):
    """A kelurahan name or code that names nothing on the map (the message says what to do)."""


@dataclass(frozen=True)
class StartHint:
    """What a registration link carried: the kelurahan to start with, if any."""

    kelurahan_code: str | None = None


def start_payload(kelurahan_code: str | None = None) -> str:
    """The startgroup payload for a poster: `daftar` or `daftar-<code without dots>`."""
    if kelurahan_code is None:
        return PREFIX
    if not _CODE.fullmatch(kelurahan_code):
        raise ValueError(f"not a kelurahan code: {kelurahan_code!r}")
    payload = f"{PREFIX}-{kelurahan_code.replace('.', '')}"
    assert PAYLOAD_RULE.fullmatch(payload), payload
    return payload


def parse_start_payload(payload: str | None) -> StartHint | None:
    """The hint in `/start <payload>`; None when it is not a registration link at all.

    A registration payload whose place is mangled still starts registration (no place chosen):
    the link's intent is clear even when its detail is not.
    """
    text = (payload or "").strip()
    if not text.lower().startswith(PREFIX):
        return None
    match = _PAYLOAD.fullmatch(text)
    if match is None or match["digits"] is None:
        return StartHint()
    d = match["digits"]
    return StartHint(f"{d[:2]}.{d[2:4]}.{d[4:6]}.{d[6:]}")


async def registration_hint(session: AsyncSession, payload: str | None) -> StartHint | None:
    """`parse_start_payload`, with a kelurahan that is not on the map dropped (plain flow)."""
    hint = parse_start_payload(payload)
    if hint is None or hint.kelurahan_code is None:
        return hint
    if await places.place(session, hint.kelurahan_code) is None:
        return StartHint()
    return hint


def startgroup_link(bot_username: str, payload: str = PREFIX) -> str:
    if not PAYLOAD_RULE.fullmatch(payload):
        raise ValueError(f"payload breaks Telegram's rule: {payload!r}")
    return f"https://t.me/{bot_username}?startgroup={payload}"


def link_for(bot_username: str, place: Place | None) -> str:
    return startgroup_link(bot_username, start_payload(place.code if place else None))


async def find_place(session: AsyncSession, name_or_code: str) -> Place:
    """A kelurahan by its Kemendagri code (35.73.05.1005 or 3573051005) or its name."""
    text = name_or_code.strip()
    digits = text.replace(".", "")
    if digits.isdigit() and len(digits) == 10:
        found = await places.place(
            session, f"{digits[:2]}.{digits[2:4]}.{digits[4:6]}.{digits[6:]}"
        )
        if found is not None:
            return found
        raise UnknownPlace(f"Kode kelurahan {text} tidak ada di peta. Contoh: 35.73.05.1005.")
    matches = match_kelurahan(text, await places.load_regions(session))
    if len(matches) == 1:
        found = await places.place(session, matches[0].code)
        assert found is not None
        return found
    if matches:
        names = ", ".join(m.name for m in matches)
        raise UnknownPlace(f"'{text}' bisa berarti: {names}. Tulis lebih lengkap atau pakai kode.")
    raise UnknownPlace(f"Kelurahan '{text}' tidak dikenal. Tulis namanya atau kodenya.")


@dataclass(frozen=True)
class PosterText:
    """Everything a poster says, rendered from the library (plain text)."""

    title: str
    place: str
    steps: tuple[str, str, str]
    footer: str


def poster_text(
    profile: ElectionProfile, now: datetime, bot_name: str, bot_username: str, place: Place | None
) -> PosterText:
    extra = {
        "bot_name": bot_name,
        "bot_username": bot_username,
        "kelurahan": place.name if place else "",
        "kecamatan": place.kecamatan if place else "",
    }

    def text(key: str) -> str:
        return render(f"sistem.onboarding.{key}", profile, now, extra)

    steps = text("poster_langkah").splitlines()
    if len(steps) != 3:
        raise ValueError("sistem.onboarding.poster_langkah must have exactly three lines")
    return PosterText(
        title=text("poster_judul"),
        place=text("poster_kelurahan" if place else "poster_kota"),
        steps=(steps[0], steps[1], steps[2]),
        footer=text("poster_kaki"),
    )


def invitation(
    profile: ElectionProfile, now: datetime, bot_name: str, bot_username: str, place: Place | None
) -> str:
    """The message officials forward to WhatsApp groups of RW leaders (plain text, with link)."""
    extra = {
        "bot_name": bot_name,
        "bot_username": bot_username,
        "link": link_for(bot_username, place),
        "kelurahan": place.name if place else "",
        "kecamatan": place.kecamatan if place else "",
    }
    key = "undangan_kelurahan" if place else "undangan_kota"
    return render(f"sistem.onboarding.{key}", profile, now, extra)
