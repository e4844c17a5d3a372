"""Check-ins: an agenda step that asks the groups a question answered with one press.

In an agenda file (``[[step]]``) or the election timeline (``[[entry]]``) a step with
``answers`` is a check-in; its ``message`` is the question::

    answers = [
      { key = "sudah", label = "Sudah tiba" },
      { key = "belum", label = "Belum", report = "after_deadline" },
      { key = "masalah", label = "Ada masalah", report = "now" },
    ]
    deadline = "H-1 21.00"        # or a duration after sending: "4 jam"; default: the expiry
    category = "logistik"         # the category of the reports its answers open

``report``: ``never`` (the default), ``now`` (this answer opens a report at once) or
``after_deadline`` (it opens one when pressed after the deadline: "Belum" at 21.00 is news).
After the deadline the groups whose leaders gave no answer are a signal of their own.

On the broadcast row the check-in is stored resolved (``Broadcast.checkin``, plain JSON): the
answers and the deadline as a UTC time, so sending and answering never re-read the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from election.profile import ElectionProfile
from messages.neutrality import guard_for
from scheduler.recurrence import parse_duration, relative_at

REPORT_NEVER = "never"
REPORT_NOW = "now"
REPORT_AFTER_DEADLINE = "after_deadline"
REPORT_WHEN = (REPORT_NEVER, REPORT_NOW, REPORT_AFTER_DEADLINE)
MIN_ANSWERS, MAX_ANSWERS = 2, 5
MAX_LABEL = 30  # a button's text on a phone
DEFAULT_CATEGORY = "lainnya"
# The fields a step may have because it is a check-in.
CHECKIN_FIELDS = {"answers", "deadline", "category"}

_ANSWER_KEY = re.compile(r"^[a-z][a-z0-9_]{0,11}$")  # inside callback data "ci:<id>:<key>"
_CATEGORY = re.compile(r"^[a-z][a-z0-9_]{0,29}$")


@dataclass(frozen=True)
class CheckInAnswer:
    key: str
    label: str
    report: str = REPORT_NEVER  # REPORT_WHEN

    def opens_report(self, *, after_deadline: bool) -> bool:
        return self.report == REPORT_NOW or (
            self.report == REPORT_AFTER_DEADLINE and after_deadline
        )


@dataclass(frozen=True)
class CheckIn:
    """A step's check-in as written: the deadline still in the H-n grammar or a duration."""

    answers: tuple[CheckInAnswer, ...]
    deadline: str | None = None  # None: the step's expiry
    category: str = DEFAULT_CATEGORY


@dataclass(frozen=True)
class ResolvedCheckIn:
    """A check-in on its broadcast: answers and the deadline (UTC)."""

    answers: tuple[CheckInAnswer, ...]
    deadline: datetime
    category: str

    def answer(self, key: str) -> CheckInAnswer | None:
        return next((a for a in self.answers if a.key == key), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "answers": [{"key": a.key, "label": a.label, "report": a.report} for a in self.answers],
            "deadline": self.deadline.astimezone(UTC).isoformat(),
            "category": self.category,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ResolvedCheckIn | None:
        if not data:
            return None
        return cls(
            answers=tuple(
                CheckInAnswer(str(a["key"]), str(a["label"]), str(a.get("report", REPORT_NEVER)))
                for a in data["answers"]
            ),
            deadline=datetime.fromisoformat(str(data["deadline"])),
            category=str(data.get("category", DEFAULT_CATEGORY)),
        )


def label_check(profile: ElectionProfile) -> Callable[[str], str | None]:
    """An answer's label goes out on a button: neutral, and plain text."""
    guard = guard_for(profile)

    def check(label: str) -> str | None:
        if guard.check(label):
            return "tidak netral"
        if "<" in label or ">" in label:
            return "tidak boleh berisi tanda < atau >"
        return None

    return check


def parse_checkin(
    item: dict[str, Any], check_label: Callable[[str], str | None] | None = None
) -> tuple[CheckIn | None, list[tuple[str, str]]]:
    """The check-in of a step (None when it has no `answers`) and its problems as (field,
    Indonesian reason). `check_label(text)` returns a reason a label may not go out, or None."""
    problems: list[tuple[str, str]] = []
    if "answers" not in item:
        for name in sorted(CHECKIN_FIELDS & set(item)):
            problems.append((name, f"{name} hanya untuk langkah cek-in (yang punya answers)"))
        return None, problems
    raw = item["answers"]
    answers: list[CheckInAnswer] = []
    if not isinstance(raw, list) or not MIN_ANSWERS <= len(raw) <= MAX_ANSWERS:
        problems.append(
            (
                "answers",
                f"answers harus daftar {MIN_ANSWERS} sampai {MAX_ANSWERS} jawaban, "
                'seperti { key = "sudah", label = "Sudah tiba" }',
            )
        )
        raw = []
    seen: set[str] = set()
    for number, answer in enumerate(raw, start=1):
        if not isinstance(answer, dict) or set(answer) - {"key", "label", "report"}:
            problems.append(
                ("answers", f"jawaban ke-{number}: tulis {{ key = …, label = …, report = … }}")
            )
            continue
        key, label = answer.get("key"), answer.get("label")
        report = answer.get("report", REPORT_NEVER)
        if not isinstance(key, str) or not _ANSWER_KEY.match(key):
            problems.append(
                (
                    "answers",
                    f"jawaban ke-{number}: key wajib, huruf kecil/angka/_ paling panjang 12 "
                    "(contoh: sudah)",
                )
            )
            continue
        if key in seen:
            problems.append(("answers", f"jawaban {key!r} ditulis dua kali"))
        seen.add(key)
        if not isinstance(label, str) or not label.strip() or len(label.strip()) > MAX_LABEL:
            problems.append(
                ("answers", f"jawaban {key}: label wajib, paling panjang {MAX_LABEL} karakter")
            )
            continue
        if check_label is not None and (reason := check_label(label.strip())) is not None:
            problems.append(("answers", f"jawaban {key}: label {reason}"))
            continue
        if report not in REPORT_WHEN:
            problems.append(
                (
                    "answers",
                    f"jawaban {key}: report {report!r} tidak dikenal; pilih "
                    + ", ".join(REPORT_WHEN),
                )
            )
            continue
        answers.append(CheckInAnswer(key, label.strip(), str(report)))
    deadline = item.get("deadline")
    if deadline is not None and not isinstance(deadline, str):
        problems.append(("deadline", "deadline ditulis seperti 'H-1 21.00' atau '4 jam'"))
    elif deadline is None and item.get("expires") is None:
        problems.append(
            ("answers", "langkah cek-in perlu deadline (atau expires): kapan jawaban ditunggu")
        )
    category = item.get("category", DEFAULT_CATEGORY)
    if not isinstance(category, str) or not _CATEGORY.match(category):
        problems.append(("category", "category ditulis huruf kecil, seperti logistik"))
        category = DEFAULT_CATEGORY
    if problems:
        return None, problems
    return CheckIn(tuple(answers), deadline, category), []


def resolve(
    checkin: CheckIn,
    start: datetime,
    expires: str | None,
    anchor: date | None,
    tz: ZoneInfo,
) -> ResolvedCheckIn:
    """The check-in of one broadcast sent at `start` (the deadline as a time; ValueError when
    it cannot be read or is not after `start`)."""
    text = checkin.deadline or expires
    if text is None:
        raise ValueError("deadline wajib")
    duration = parse_duration(text)
    if duration is not None:
        deadline = start + duration
    elif anchor is not None:
        deadline = relative_at(text, anchor, tz)
    else:
        raise ValueError("deadline langkah berulang ditulis seperti '4 jam'")
    if deadline <= start:
        raise ValueError("deadline harus setelah waktu kirim")
    return ResolvedCheckIn(checkin.answers, deadline, checkin.category)


def resolved_json(
    checkin: CheckIn | None,
    start: datetime,
    expires: str | None,
    anchor: date | None,
    tz: ZoneInfo,
) -> dict[str, Any] | None:
    """What `Broadcast.checkin` holds for a step sent at `start` (None: not a check-in)."""
    if checkin is None:
        return None
    return resolve(checkin, start, expires, anchor, tz).to_json()
