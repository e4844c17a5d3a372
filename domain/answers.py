"""Answers to residents: from a recognised intent to the library text, said relative to now.

Pure: no Telegram, no database. Every fact comes from the election profile through the message
library (`jawab.<intent>`); what changes with time (before, on and after election day, masa
tenang, the deadline for moving) is either a time variant of the answer (`jawab.<intent>.hari_h`
on voting day before the polls close, `.selesai` after they close, `.lalu` on later days, in the
past tense) or, when the library has none, a short note from the library put above the answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.intents import Intent
from election.profile import ElectionProfile
from messages.library import Library, default_library
from messages.render import render

# The resident menu: label and the intent it answers, in the order shown.
MENU: tuple[tuple[str, Intent], ...] = (
    ("🗓️ Kapan mencoblos?", Intent.KAPAN),
    ("📍 Di mana TPS saya?", Intent.TPS),
    ("🪪 Apa yang dibawa?", Intent.SYARAT),
    ("🤫 Larangan masa tenang", Intent.MASA_TENANG),
    ("📢 Lapor pelanggaran", Intent.LAPOR),
    ("ℹ️ Bantuan", Intent.BANTUAN),
)


class Phase(StrEnum):
    """Where `now` is relative to voting; the value is the suffix of a time variant."""

    BEFORE = "sebelum"  # before voting day
    VOTING_DAY = "hari_h"  # voting day, polls not yet closed
    CLOSED = "selesai"  # voting day, polls closed
    PAST = "lalu"  # any later day


def phase(profile: ElectionProfile, now: datetime) -> Phase:
    local_day = now.astimezone(profile.tz).date()
    if local_day > profile.election_day:
        return Phase.PAST
    if now >= profile.polls_close_at:
        return Phase.CLOSED
    if local_day == profile.election_day:
        return Phase.VOTING_DAY
    return Phase.BEFORE


# Variants tried, most specific first, before the plain key.
_VARIANTS: dict[Phase, tuple[str, ...]] = {
    Phase.BEFORE: (),
    Phase.VOTING_DAY: ("hari_h",),
    Phase.CLOSED: ("selesai",),
    Phase.PAST: ("lalu", "selesai"),
}

# Answers that are about voting itself: after the polls close they get a note saying so.
_ABOUT_VOTING = frozenset(
    {
        Intent.JAM,
        Intent.TPS,
        Intent.SYARAT,
        Intent.UNDANGAN,
        Intent.DPK,
        Intent.PINDAH,
        Intent.CARA,
        Intent.HAK_PILIH,
        Intent.PENDAMPING,
        Intent.HP,
        Intent.ATRIBUT,
        Intent.DIWAKILKAN,
        Intent.ANTRE,
    }
)
# On election day itself these start with "Pemungutan suara hari ini, TPS buka sampai …".
_ON_THE_DAY = _ABOUT_VOTING | {Intent.MASA_TENANG}


@dataclass(frozen=True)
class Answer:
    intent: Intent
    key: str  # the library message answering it
    html: str
    show_menu: bool  # fallback and help: offer the menu buttons
    offer_officials: bool = False  # the bot does not know: offer to pass it to an official


def answer_key(
    intent: Intent,
    *,
    has_tps_registry: bool = False,
    profile: ElectionProfile | None = None,
    now: datetime | None = None,
    library: Library | None = None,
) -> str:
    """The library message for an intent, in its time variant for `now` when one exists."""
    base = (
        "jawab.tps_tanpa_registri"
        if intent is Intent.TPS and not has_tps_registry
        else f"jawab.{intent.value}"
    )
    if profile is None or now is None:
        return base
    lib = library or default_library()
    for suffix in _VARIANTS[phase(profile, now)]:
        if f"{base}.{suffix}" in lib:
            return f"{base}.{suffix}"
    return base


def note_for(
    intent: Intent, profile: ElectionProfile, now: datetime, *, key: str | None = None
) -> str | None:
    """The library key of a note that puts the answer in time, if one applies now.

    A time variant (``key`` ending in ``.selesai``/``.lalu``/``.hari_h``) already says it.
    """
    if key is not None and key.rsplit(".", 1)[-1] in {p.value for p in Phase}:
        return None
    local = now.astimezone(profile.tz)
    if now >= profile.polls_close_at and intent in _ABOUT_VOTING:
        return "warga.catatan_selesai"
    if local.date() == profile.election_day and intent in _ON_THE_DAY:
        return "warga.catatan_hari_h"
    if intent is Intent.PINDAH and local.date() > profile.election_day - timedelta(days=7):
        return "warga.catatan_pindah_lewat"
    if intent is Intent.MASA_TENANG and profile.in_masa_tenang(now):
        return "warga.catatan_masa_tenang"
    return None


def answer(
    intent: Intent, profile: ElectionProfile, now: datetime, *, has_tps_registry: bool = False
) -> Answer:
    """The full reply to a resident's question of this intent, rendered for `now`."""
    key = answer_key(intent, has_tps_registry=has_tps_registry, profile=profile, now=now)
    body = render(key, profile, now)
    note = note_for(intent, profile, now, key=key)
    html = f"{render(note, profile, now)}\n\n{body}" if note else body
    return Answer(
        intent=intent,
        key=key,
        html=html,
        show_menu=intent in (Intent.UNKNOWN, Intent.BANTUAN),
        offer_officials=intent is Intent.UNKNOWN,
    )


# A NIK is 16 digits; people type it with spaces, dots or dashes between groups.
_NIK = re.compile(r"(?<![\d])(?:\d[\s.\-]?){15}\d(?![\d])")


def looks_like_nik(text: str) -> bool:
    """Whether a message contains something shaped like a 16-digit NIK (never stored)."""
    return any(len(re.sub(r"\D", "", m.group())) == 16 for m in _NIK.finditer(text))
