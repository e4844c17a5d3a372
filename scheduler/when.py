"""Times as officials write them: "sekarang", "26/11 19.00", "besok 07.00", "H-1 19.00"."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from election.profile import ElectionProfile
from scheduler.timeline import parse_relative

_TIME = r"(?P<h>\d{1,2})[.:](?P<m>\d{2})"
_DATE = re.compile(rf"^(?P<d>\d{{1,2}})[/-](?P<mo>\d{{1,2}})(?:[/-](?P<y>\d{{2,4}}))?\s+{_TIME}$")
_DAYWORD = re.compile(rf"^(?P<word>hari ini|nanti|besok|lusa)\s+(?:(?:jam|pukul)\s+)?{_TIME}$")
_ONLY_TIME = re.compile(rf"^(?:(?:jam|pukul)\s+)?{_TIME}$")
_NOW = {"sekarang", "kirim sekarang", "now", "langsung"}

HELP = (
    "Tulis waktunya seperti: <code>sekarang</code>, <code>26/11 19.00</code>, "
    "<code>besok 07.00</code>, <code>H-1 19.00</code> (WIB)."
)


class WhenError(ValueError):
    """Not a time we understand, or one in the past; the message is for the official."""


def _clock_time(hour: str, minute: str) -> time:
    h, m = int(hour), int(minute)
    if h > 23 or m > 59:
        raise WhenError(f"Jam {h:02d}.{m:02d} tidak ada. " + HELP)
    return time(h, m)


def parse_when(text: str, profile: ElectionProfile, now: datetime) -> datetime:
    """An aware UTC datetime; 'sekarang' is now. Refuses the past with a clear message."""
    raw = re.sub(r"\s+", " ", text.strip().lower().replace("wib", "")).strip()
    local_now = now.astimezone(profile.tz)
    if raw in _NOW:
        return now
    when: datetime
    if raw.startswith("h"):
        try:
            when = parse_relative(raw.upper(), profile)
        except ValueError:
            raise WhenError("Format H tidak dikenali. " + HELP) from None
    elif match := _DATE.match(raw):
        year = int(match["y"]) if match["y"] else local_now.year
        year = year + 2000 if year < 100 else year
        try:
            day = date(year, int(match["mo"]), int(match["d"]))
        except ValueError:
            raise WhenError("Tanggal itu tidak ada. " + HELP) from None
        when = profile.local(day, _clock_time(match["h"], match["m"]))
    elif match := _DAYWORD.match(raw):
        shift = {"hari ini": 0, "nanti": 0, "besok": 1, "lusa": 2}[match["word"]]
        day = local_now.date() + timedelta(days=shift)
        when = profile.local(day, _clock_time(match["h"], match["m"]))
    elif match := _ONLY_TIME.match(raw):
        when = profile.local(local_now.date(), _clock_time(match["h"], match["m"]))
    else:
        raise WhenError("Waktu tidak dikenali. " + HELP)
    if when < now - timedelta(minutes=1):
        raise WhenError("Waktu itu sudah lewat. " + HELP)
    return max(when, now)
