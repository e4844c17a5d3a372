"""The time grammar of agenda files: 'jumat 07.00' and its kind, 'H-2 08.00', '12 jam'.

Wall-clock times in the agenda's zone; every error says in Bahasa Indonesia what to write.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_RELATIVE = re.compile(r"^H\s*(?P<offset>[+-]\s*\d{1,3})?\s+(?P<h>\d{1,2})[.:](?P<m>\d{2})$", re.I)
_DURATION = re.compile(r"^(?P<n>\d{1,3})\s*(?P<unit>menit|jam|hari)$")
_DAYS = {
    "senin": 0,
    "selasa": 1,
    "rabu": 2,
    "kamis": 3,
    "jumat": 4,
    "jum'at": 4,
    "sabtu": 5,
    "minggu": 6,
    "ahad": 6,
}
_NTH = {"pertama": 1, "kedua": 2, "ketiga": 3, "keempat": 4, "terakhir": -1}
_EVERY = re.compile(
    r"^(?:setiap\s+)?(?:(?P<daily>hari)|tanggal\s+(?P<dom>\d{1,2})|"
    r"(?P<dow>senin|selasa|rabu|kamis|jum'?at|sabtu|minggu|ahad)"
    r"(?:\s+(?P<nth>pertama|kedua|ketiga|keempat|terakhir))?)"
    r"\s+(?:(?:jam|pukul)\s+)?(?P<h>\d{1,2})[.:](?P<m>\d{2})$"
)
EVERY_HELP = "tulis seperti 'jumat 07.00', 'senin pertama 08.00', 'tanggal 1 08.00'"


@dataclass(frozen=True)
class Recurrence:
    """'jumat 07.00' (weekly), 'senin pertama 08.00' (monthly), 'tanggal 1 08.00', 'hari 07.00'."""

    at: time
    weekday: int | None = None
    nth: int | None = None  # 1-4, or -1 for the last one in the month
    day_of_month: int | None = None

    def matches(self, day: date) -> bool:
        if self.day_of_month is not None:
            last = calendar.monthrange(day.year, day.month)[1]
            return day.day == min(self.day_of_month, last)
        if self.weekday is None:
            return True
        if day.weekday() != self.weekday:
            return False
        if self.nth is None:
            return True
        if self.nth == -1:
            return day.day + 7 > calendar.monthrange(day.year, day.month)[1]
        return (day.day - 1) // 7 + 1 == self.nth


def parse_every(text: str) -> Recurrence:
    match = _EVERY.match(re.sub(r"\s+", " ", text.strip().lower()))
    if not match:
        raise ValueError(f"every {text!r} tidak dikenali; {EVERY_HELP}")
    at = clock_time(match["h"], match["m"])
    if match["dom"]:
        dom = int(match["dom"])
        if not 1 <= dom <= 31:
            raise ValueError(f"tanggal {dom} tidak ada; pakai 1 sampai 31")
        return Recurrence(at=at, day_of_month=dom)
    if match["daily"]:
        return Recurrence(at=at)
    return Recurrence(
        at=at,
        weekday=_DAYS[match["dow"]],
        nth=_NTH[match["nth"]] if match["nth"] else None,
    )


def clock_time(hour: str, minute: str) -> time:
    h, m = int(hour), int(minute)
    if h > 23 or m > 59:
        raise ValueError(f"jam {h:02d}.{m:02d} tidak ada")
    return time(h, m)


def relative_at(text: str, anchor: date, tz: ZoneInfo) -> datetime:
    match = _RELATIVE.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} tidak dikenali; tulis seperti 'H-2 08.00', 'H 07.00'")
    offset = int(match["offset"].replace(" ", "")) if match["offset"] else 0
    return datetime.combine(anchor + timedelta(days=offset), clock_time(match["h"], match["m"]), tz)


def parse_duration(text: str) -> timedelta | None:
    match = _DURATION.match(text.strip().lower())
    if not match:
        return None
    n = int(match["n"])
    return {"menit": timedelta(minutes=n), "jam": timedelta(hours=n), "hari": timedelta(days=n)}[
        match["unit"]
    ]
