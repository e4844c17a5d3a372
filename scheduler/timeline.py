"""The timeline: reminders keyed to election day ("H-1 19.00"), read and checked; the election
agenda (``scheduler.agenda.election_agenda``) turns them into broadcast rows."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
from datetime import datetime, time
from pathlib import Path

from election.profile import ElectionProfile
from scheduler.audience import Audience, AudienceError
from scheduler.checkin import CHECKIN_FIELDS, CheckIn, label_check, parse_checkin, resolved_json

_RELATIVE = re.compile(r"^H\s*(?P<offset>[+-]\s*\d+)?\s+(?P<h>\d{1,2})[.:](?P<m>\d{2})$", re.I)


class TimelineError(Exception):
    """The timeline file is wrong; the message names the entry and what to fix."""


def parse_relative(text: str, profile: ElectionProfile) -> datetime:
    """'H-2 08.00' -> that wall-clock time two days before election day, in the election's zone."""
    match = _RELATIVE.match(text.strip())
    if not match:
        raise ValueError(f"{text!r}: write it like 'H-2 08.00', 'H 07.00' or 'H+1 09.00'")
    offset = int(match["offset"].replace(" ", "")) if match["offset"] else 0
    hour, minute = int(match["h"]), int(match["m"])
    if hour > 23 or minute > 59:
        raise ValueError(f"{text!r}: {hour:02d}.{minute:02d} is not a time of day")
    return profile.local(profile.day_offset(offset), time(hour, minute))


@dataclass(frozen=True)
class TimelineEntry:
    key: str
    at: str
    message_key: str
    audience: str
    expires: str | None
    priority: int
    checkin: CheckIn | None = None  # a question answered with buttons (scheduler.checkin)

    def broadcast_key(self, profile: ElectionProfile) -> str:
        return f"{profile.key}:{self.key}"


@dataclass(frozen=True)
class Timeline:
    election: str
    entries: tuple[TimelineEntry, ...]


def load_timeline(path: Path, profile: ElectionProfile) -> Timeline:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise TimelineError(f"timeline {path} not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise TimelineError(f"timeline {path} is not valid TOML: {exc}") from exc
    if raw.get("election") != profile.key:
        raise TimelineError(
            f"timeline {path} is for election {raw.get('election')!r}, "
            f"but the profile is {profile.key!r}"
        )
    entries: list[TimelineEntry] = []
    seen: set[str] = set()
    for index, item in enumerate(raw.get("entry", []), start=1):
        where = f"timeline {path}, entry {item.get('key', index)}"
        unknown = set(item) - {"key", "at", "message", "audience", "expires", "priority"}
        unknown -= CHECKIN_FIELDS
        if unknown:
            raise TimelineError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        try:
            entry = TimelineEntry(
                key=str(item["key"]),
                at=str(item["at"]),
                message_key=str(item["message"]),
                audience=str(item.get("audience", "all")),
                expires=str(item["expires"]) if "expires" in item else None,
                priority=int(item.get("priority", 0)),
            )
        except KeyError as exc:
            raise TimelineError(f"{where}: missing {exc.args[0]!r}") from None
        checkin, problems = parse_checkin(item, label_check(profile))
        if problems:
            raise TimelineError(f"{where}: " + "; ".join(f"{f}: {r}" for f, r in problems))
        entry = replace(entry, checkin=checkin)
        if entry.key in seen:
            raise TimelineError(f"{where}: the key is used twice")
        seen.add(entry.key)
        try:
            start = parse_relative(entry.at, profile)
            if entry.expires is not None and parse_relative(entry.expires, profile) <= start:
                raise ValueError("expires must be after at")
            Audience.parse(entry.audience)
            resolved_json(checkin, start, entry.expires, profile.election_day, profile.tz)
        except (ValueError, AudienceError) as exc:
            raise TimelineError(f"{where}: {exc}") from None
        entries.append(entry)
    if not entries:
        raise TimelineError(f"timeline {path} has no [[entry]]")
    return Timeline(election=str(raw["election"]), entries=tuple(entries))
