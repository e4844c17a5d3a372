"""The library check: every message renders, fits, is valid Telegram HTML, and is neutral."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from messages.context import PLACEHOLDERS
from messages.library import Library, Message, Problem
from messages.neutrality import TermSet, check_text, guard_for
from messages.render import RenderError, placeholders, render
from messages.telegram_html import utf16_length, validate_html, visible_text

if TYPE_CHECKING:
    from election.profile import ElectionProfile

__all__ = ["Problem", "check_library", "check_message", "sample_nows"]


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
    if reasons:
        return [Problem(message.key, r) for r in reasons]

    for finding in check_text(message.title, terms):
        add(f"judul tidak netral: {finding.reason}")
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
