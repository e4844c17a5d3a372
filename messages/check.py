"""The library check: every message renders, fits, is valid Telegram HTML, and is neutral."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from messages.context import PLACEHOLDERS, PROVINCIAL_PLACEHOLDERS, build_context
from messages.library import Library, Message, Problem
from messages.neutrality import TermSet, check_text, guard_for
from messages.render import RenderError, placeholders, render
from messages.telegram_html import utf16_length, validate_html, visible_text

if TYPE_CHECKING:
    from election.profile import ElectionProfile

__all__ = [
    "AFTER_VOTING_SUFFIXES",
    "Problem",
    "check_library",
    "check_message",
    "invites_to_tps",
    "profile_facts",
    "sample_nows",
    "written_out",
]

#: Time variants of a message (``jawab.netral.selesai``) used after the polls close.
AFTER_VOTING_SUFFIXES = (".selesai", ".lalu")

# Asking people to go and vote. Past tense ("yang sudah datang ke TPS") and the queue rule
# ("yang sudah antre … tetap dilayani") are not invitations.
_INVITATIONS = (
    re.compile(r"\b(?:ayo|ayuk|yuk|mari|silakan)\b[^.!?\n]{0,60}\bTPS\b", re.IGNORECASE),
    re.compile(r"(?<!sudah )(?<!telah )\bdatang(?:lah)?\s+ke\s+TPS\b", re.IGNORECASE),
    re.compile(r"\bke\s+TPS\s+(?:pada|pukul|hari ini|sekarang|sebelum)\b", re.IGNORECASE),
    re.compile(r"\bberangkat\b", re.IGNORECASE),
    re.compile(r"\bgunakan(?:lah)?\s+(?:hak\s+pilih|di\s+TPS)", re.IGNORECASE),
    re.compile(r"\bjangan\s+golput\b", re.IGNORECASE),
    re.compile(r"\bbelum\s+mencoblos\b", re.IGNORECASE),
)


# The election's facts a message must take from the profile, never write out: a re-vote or
# the next election is another profile, and the library must follow it.
_FACTS = (
    "election_name",
    "region_name",
    "province_name",
    "province_contest",
    "election_day",
    "election_date",
    "eve_day",
    "tz_label",
    "tps_hours",
    "dpk_hours",
    "masa_tenang_start",
    "masa_tenang_end",
    "masa_tenang_range",
    "pindah_deadline",
    "dpt_check_host",
    "voter_report_host",
    "kpu_name",
    "kpu_province_name",
    "bawaslu_name",
    "government_name",
)


def profile_facts(profile: ElectionProfile) -> dict[str, str]:
    """Each fact of the profile a message could write out literally, by its placeholder."""
    context = build_context(profile, profile.polls_open_at)
    facts = {name: context[name] for name in _FACTS if context[name]}
    results = profile.results
    for name, value in (
        ("recap_start", results.recap_start),
        ("recap_plenary", results.plenary),
        ("results_announcement", results.announcement),
    ):
        if value is not None:
            facts[name] = context[name]
    for contest in profile.contests:
        short = "province_contest" if contest.provincial else "contests"
        facts[f"{short}:{contest.key}"] = contest.short_name
        facts[f"contests_full:{contest.key}"] = contest.name
    return facts


def written_out(text: str, facts: dict[str, str]) -> list[tuple[str, str]]:
    """(placeholder, value) for every profile value the raw text writes instead of naming;
    the longest first, and not again for a value inside it ("Jawa Timur" in "KPU Provinsi
    Jawa Timur")."""
    found: list[tuple[str, str]] = []
    taken: list[range] = []
    for name, value in sorted(facts.items(), key=lambda item: -len(item[1])):
        for match in re.finditer(rf"(?<!\w){re.escape(value)}(?!\w)", text):
            if not any(match.start() in span for span in taken):
                taken.append(range(match.start(), match.end()))
                if (entry := (name.partition(":")[0], value)) not in found:
                    found.append(entry)
    return found


def invites_to_tps(text: str) -> list[str]:
    """The phrases in ``text`` that ask people to go and vote (empty when there are none)."""
    return [m.group(0) for pattern in _INVITATIONS for m in pattern.finditer(text)]


def sample_nows(profile: ElectionProfile) -> list[datetime]:
    """Moments a message is checked at, so every ``{relative_day}`` variant is rendered:
    H-3, H-1, election morning before opening, while open, after closing, and H+1."""
    at = profile.local
    day = profile.election_day
    return [
        at(day - timedelta(days=3), time(9, 0)),
        at(day - timedelta(days=1), time(9, 0)),
        profile.polls_open_at - timedelta(minutes=30),
        profile.polls_open_at + (profile.polls_close_at - profile.polls_open_at) / 2,
        profile.polls_close_at + timedelta(hours=1),
        at(day + timedelta(days=1), time(9, 0)),
    ]


def _sample_params(message: Message) -> dict[str, str]:
    """Stand-ins for the values a caller passes; long enough to make the length check honest.
    A name ending in ``_url`` stands for a link (an ``href`` must be one) on an allowed domain:
    the value is data the caller brings, not the message's own link."""
    return {
        name: f"https://contoh.go.id/{name}" if name.endswith("_url") else f"[contoh {name}]"
        for name in message.params
    }


def check_message(
    message: Message,
    profile: ElectionProfile,
    nows: Iterable[datetime] | None = None,
    terms: TermSet | None = None,
) -> list[Problem]:
    """Every problem with one message, each reason once."""
    reasons: list[str] = []
    if terms is None:  # the profile's own terms ([neutrality] terms_file)
        terms = guard_for(profile).terms

    def add(reason: str) -> None:
        if reason not in reasons:
            reasons.append(reason)

    try:
        names = placeholders(message.text, key=message.key)
    except RenderError as exc:
        return [Problem(message.key, exc.reason)]
    known = set(PLACEHOLDERS) | set(message.params)
    for name in names:
        if name not in known:
            add(f"placeholder {{{name}}} tidak dikenal")
    for name in message.params:
        if name in PLACEHOLDERS:
            add(f"params {name!r} sudah disediakan profil; hapus dari params")
    for name, value in written_out(message.text, profile_facts(profile)):
        add(f"menulis {value!r} langsung; pakai {{{name}}} dari profil")
    provincial = sorted(PROVINCIAL_PLACEHOLDERS & set(names))
    if provincial and profile.provincial_contest is None:
        add(
            f"placeholder {{{provincial[0]}}} menyebut pemilihan provinsi, tetapi profil "
            f"{profile.key} tidak punya pemilihan provinsi (provincial = true)"
        )
    if reasons:
        return [Problem(message.key, r) for r in reasons]

    for finding in check_text(message.title, terms):
        add(f"judul tidak netral: {finding.reason}")
    if message.key.endswith(AFTER_VOTING_SUFFIXES) and not message.after_voting:
        add("varian sesudah pemungutan suara harus bertanda after_voting = true")
    for now in nows if nows is not None else sample_nows(profile):
        try:
            text = render(message, profile, now=now, extra=_sample_params(message))
        except RenderError as exc:  # pragma: no cover - placeholders were checked above
            add(exc.reason)
            continue
        html_problems = validate_html(text) if message.is_html else []
        for reason in html_problems:
            add(f"HTML tidak sah: {reason}")
        if not html_problems:  # text Telegram refuses has no visible text to measure
            visible = visible_text(text) if message.is_html else text
            length = utf16_length(visible)
            if not visible.strip():
                add("teks kosong setelah tag dibuang")
            if length > message.max_length:
                add(
                    f"terlalu panjang: {length} karakter (UTF-16) setelah dirender, "
                    f"batas {message.max_length}"
                )
        for finding in check_text(text, terms):
            add(f"tidak netral: {finding.reason}")
        if message.after_voting:
            invitations = invites_to_tps(visible)
            if invitations:
                add(f"dikirim setelah TPS tutup tetapi mengajak ke TPS: {invitations[0]!r}")
    return [Problem(message.key, r) for r in reasons]


def check_library(
    library: Library,
    profile: ElectionProfile,
    nows: Iterable[datetime] | None = None,
    terms: TermSet | None = None,
) -> list[Problem]:
    """Every problem in the library, message by message, in library order."""
    moments = list(nows) if nows is not None else sample_nows(profile)
    problems: list[Problem] = []
    for message in library:
        problems.extend(check_message(message, profile, moments, terms))
    return problems
