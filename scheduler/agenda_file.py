"""Reading an agenda file: TOML in, an ``Agenda`` out, or every problem with its line.

An agenda file (TOML, see ``election/data/agendas/``)::

    name = "kerja-bakti-bulanan"          # short id: lower case, digits and "-"
    title = "Kerja bakti bulanan"         # what officials read
    topic = "lingkungan"                  # scheduler.topics.TOPICS
    sources = ["…"]                       # where the facts come from (never sent)

    [anchors]                             # dates steps are counted from (optional)
    H = "pemilihan"                       # the election profile's voting day
    hujan = { date = 2026-11-02, label = "awal musim hujan" }   # or just H = 2026-12-15

    [[step]]
    key = "h14-3m-plus"                   # unique in the agenda
    anchor = "hujan"                      # needed only when there are several anchors
    at = "H-14 07.00"                     # the H-n grammar, against the anchor
    expires = "H-14 21.00"                # or a duration: "12 jam", "2 hari"
    message = "dbd.3m_plus"               # a library key … or: text = "…" (guard-checked)
    audience = "all"                      # as for broadcasts (scheduler.audience)
    priority = 1

    [[step]]
    key = "jumat-bersih"
    every = "jumat 07.00"                 # or "senin pertama 08.00", "tanggal 1 08.00",
                                          # "minggu terakhir 16.00", "hari 07.00"
    from = 2026-12-01                     # optional bounds (dates, inclusive)
    until = 2027-03-31
    expires = "12 jam"                    # default 12 jam for a recurring step
    message = "kerja_bakti.jumat_bersih"

A step with ``answers`` is a check-in (a question answered with buttons; ``deadline`` and
``category`` go with it): the format is in ``scheduler.checkin``.

Times are wall-clock in the city's zone (``scheduler.recurrence``). An official's own ``text``
follows the rules of /siaran (length, neutrality, Telegram HTML).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from election.profile import ElectionProfile
from messages.library import Library, default_library
from messages.neutrality import explain, guard_for
from messages.quiet_period import quiet_findings
from messages.telegram_html import telegram_length, validate_html
from scheduler.agenda import DEFAULT_RECURRING_VALIDITY, ELECTION_ANCHOR, Agenda, AnchorDate, Step
from scheduler.audience import Audience, AudienceError
from scheduler.checkin import CHECKIN_FIELDS, CheckIn, label_check, parse_checkin, resolve
from scheduler.recurrence import Recurrence, parse_duration, parse_every, relative_at
from scheduler.topics import TOPICS

MAX_STEPS = 200

# Short enough for callback data ("ag:p:<name>" within 64 bytes).
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,46}[a-z0-9]$")
_STEP_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,38}$")
_TOP_FIELDS = {"name", "title", "topic", "description", "sources", "anchors", "step"}
_STEP_FIELDS = CHECKIN_FIELDS | {
    "key",
    "at",
    "anchor",
    "every",
    "from",
    "until",
    "expires",
    "message",
    "text",
    "audience",
    "priority",
    "notes",
}


@dataclass(frozen=True)
class AgendaProblem:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"baris {self.line}: {self.reason}"


class AgendaRejected(Exception):
    """The agenda file was not loaded; ``problems`` lists every reason with its line."""

    def __init__(self, problems: list[AgendaProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class _Lines:
    """Where things are in the file, so every problem names its line."""

    _HEADER = re.compile(r"^\s*\[")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers = [i + 1 for i, line in enumerate(self.lines) if self._HEADER.match(line)]
        self.steps = [
            i + 1 for i, line in enumerate(self.lines) if re.match(r"^\s*\[\[\s*step\s*\]\]", line)
        ]
        anchors = re.compile(r"^\s*\[\s*anchors\s*\]")
        self.anchors = next(
            (i + 1 for i, line in enumerate(self.lines) if anchors.match(line)), None
        )

    def _section(self, start: int | None) -> tuple[int, int]:
        if start is None:
            return 1, (self.headers[0] if self.headers else len(self.lines) + 1)
        end = next((h for h in self.headers if h > start), len(self.lines) + 1)
        return start, end

    def _find(self, bounds: tuple[int, int], name: str) -> int | None:
        pattern = re.compile(rf"^\s*[\"']?{re.escape(name)}[\"']?\s*=")
        for n in range(bounds[0], bounds[1]):
            if pattern.match(self.lines[n - 1]):
                return n
        return None

    def top(self, name: str) -> int:
        return self._find(self._section(None), name) or 1

    def anchor(self, name: str) -> int:
        if self.anchors is None:
            return self.top("anchors")
        return self._find(self._section(self.anchors), name) or self.anchors

    def step(self, index: int, name: str | None = None) -> int:
        start = self.steps[index] if index < len(self.steps) else 1
        if name is None:
            return start
        return self._find(self._section(start), name) or start


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _check_text(text: str, profile: ElectionProfile) -> str | None:
    """The rules for an official's own text (as for /siaran), or None when it may go out."""
    if not text.strip():
        return "text kosong"
    if telegram_length(text) > 4000:
        return f"text terlalu panjang ({telegram_length(text)} karakter; batasnya 4000)"
    findings = guard_for(profile).check(text)
    if findings:
        return "text tidak netral: " + explain(findings).replace("\n", " ")
    problems = validate_html(text)
    if problems:
        return "format text tidak valid: " + "; ".join(problems)
    return None


def _may_go_out_in_masa_tenang(
    profile: ElectionProfile,
    sent: tuple[datetime, datetime] | None,
    every: Recurrence | None,
    expires: object,
    first_day: date | None,
    last_day: date | None,
) -> bool:
    """Whether a step with its own text can be sent inside the profile's masa tenang (then the
    stricter rules apply to it): an anchored step between its time and its expiry, a recurring
    one on any occurrence whose validity reaches into it."""
    quiet = profile.masa_tenang
    begins = datetime.combine(quiet.start, time(0, 0), profile.tz)
    ends = datetime.combine(quiet.end + timedelta(days=1), time(0, 0), profile.tz)
    if sent is not None:
        return sent[0] < ends and sent[1] >= begins
    if every is None:
        return False
    validity = parse_duration(str(expires)) if expires is not None else None
    validity = validity or DEFAULT_RECURRING_VALIDITY
    day = quiet.start - timedelta(days=validity.days + 1)
    while day <= quiet.end:
        inside = (first_day is None or day >= first_day) and (last_day is None or day <= last_day)
        start = datetime.combine(day, every.at, profile.tz)
        if inside and every.matches(day) and start < ends and start + validity >= begins:
            return True
        day += timedelta(days=1)
    return False


def parse_agenda(text: str, profile: ElectionProfile, library: Library | None = None) -> Agenda:
    """Validate a whole agenda file; AgendaRejected lists every problem with its line."""
    library = library or default_library()
    where = _Lines(text)
    problems: list[AgendaProblem] = []

    def problem(line: int, reason: str) -> None:
        problems.append(AgendaProblem(line, reason))

    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        raise AgendaRejected(
            [
                AgendaProblem(
                    int(found[1]) if found else 1,
                    f"bukan TOML yang sah ({exc}); periksa tanda kutip, tanda = dan [[step]]",
                )
            ]
        ) from None

    for unknown in sorted(set(raw) - _TOP_FIELDS):
        problem(
            where.top(unknown),
            f"kolom {unknown!r} tidak dikenal; yang boleh: " + ", ".join(sorted(_TOP_FIELDS)),
        )
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        problem(
            where.top("name"),
            "name wajib: nama pendek agenda dengan huruf kecil, angka dan tanda hubung "
            "(contoh: kerja-bakti-bulanan)",
        )
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > 120:
        problem(where.top("title"), "title wajib: judul agenda, paling panjang 120 karakter")
    topic = raw.get("topic")
    if topic not in TOPICS:
        problem(
            where.top("topic"),
            f"topic {topic!r} tidak dikenal; pilih salah satu: " + ", ".join(TOPICS),
        )

    anchors: dict[str, AnchorDate] = {}
    raw_anchors = raw.get("anchors", {})
    if not isinstance(raw_anchors, dict):
        problem(where.top("anchors"), "anchors harus berupa tabel [anchors]")
        raw_anchors = {}
    for anchor_name, value in raw_anchors.items():
        line = where.anchor(anchor_name)
        label = anchor_name
        if isinstance(value, dict):
            label = str(value.get("label", anchor_name))
            value = value.get("date")
        if value == ELECTION_ANCHOR:
            anchors[anchor_name] = AnchorDate(profile.election_day, "hari pemungutan suara")
        elif (day := _as_date(value)) is not None:
            anchors[anchor_name] = AnchorDate(day, label)
        else:
            problem(
                line,
                f"tanggal acuan {anchor_name!r} tidak dikenali; tulis tanggal seperti 2026-11-02 "
                f'atau "{ELECTION_ANCHOR}" untuk hari pemungutan suara',
            )

    steps: list[Step] = []
    raw_steps = raw.get("step", [])
    if not isinstance(raw_steps, list) or not raw_steps:
        problem(where.top("step"), "agenda tanpa langkah: tambahkan setidaknya satu [[step]]")
        raw_steps = []
    if len(raw_steps) > MAX_STEPS:
        problem(1, f"lebih dari {MAX_STEPS} langkah; bagi menjadi beberapa agenda")
    seen: set[str] = set()
    for index, item in enumerate(raw_steps):
        step = _parse_step(index, item, where, anchors, profile, library, problem)
        if step is None:
            continue
        if step.key in seen:
            problem(where.step(index, "key"), f"key {step.key!r} dipakai dua kali")
        seen.add(step.key)
        steps.append(step)

    if problems:
        raise AgendaRejected(sorted(problems, key=lambda p: p.line))
    assert isinstance(name, str) and isinstance(title, str) and isinstance(topic, str)
    return Agenda(
        name=name,
        title=title.strip(),
        topic=topic,
        tz=profile.tz,
        steps=tuple(steps),
        anchors=anchors,
        source=text,
    )


def _parse_step(
    index: int,
    item: object,
    where: _Lines,
    anchors: Mapping[str, AnchorDate],
    profile: ElectionProfile,
    library: Library,
    problem: Callable[[int, str], None],
) -> Step | None:
    if not isinstance(item, dict):
        problem(where.step(index), "setiap langkah ditulis sebagai tabel [[step]]")
        return None
    bad = False

    def fail(name: str | None, reason: str) -> None:
        nonlocal bad
        bad = True
        problem(where.step(index, name), reason)

    for name in sorted(set(item) - _STEP_FIELDS):
        fail(
            name,
            f"kolom {name!r} tidak dikenal di langkah; yang boleh: "
            + ", ".join(sorted(_STEP_FIELDS)),
        )
    key = item.get("key")
    if not isinstance(key, str) or not _STEP_KEY.match(key):
        fail("key", "key wajib: nama pendek langkah (huruf kecil, angka, - atau _)")
        key = f"#{index + 1}"

    message_key = item.get("message")
    text = item.get("text")
    if (message_key is None) == (text is None):
        fail(None, f"langkah {key}: isi salah satu, message (kunci pustaka) atau text")
    elif message_key is not None:
        if not isinstance(message_key, str) or message_key not in library:
            fail("message", f"langkah {key}: pesan {message_key!r} tidak ada di pustaka pesan")
    elif not isinstance(text, str):
        fail("text", f"langkah {key}: text harus berupa teks")
    elif (reason := _check_text(text.strip(), profile)) is not None:
        fail("text", f"langkah {key}: {reason}")

    audience = item.get("audience", "all")
    spec = "all"
    try:
        spec = Audience.parse(str(audience)).spec()
        if Audience.parse(spec).unacked_of is not None:
            raise AudienceError("unacked")
    except AudienceError:
        fail(
            "audience",
            f"langkah {key}: sasaran {audience!r} tidak dikenali; pakai all, rw, rt, "
            "kecamatan:<kode> atau kelurahan:<kode>, boleh diikuti /rw atau /rt",
        )

    priority = item.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool) or not 0 <= priority <= 9:
        fail("priority", f"langkah {key}: priority harus angka 0 sampai 9")
        priority = 0

    checkin, checkin_problems = parse_checkin(item, label_check(profile))
    for name, reason in checkin_problems:
        fail(name, f"langkah {key}: {reason}")

    at, every, expires = item.get("at"), item.get("every"), item.get("expires")
    anchor_name = item.get("anchor")
    recurrence: Recurrence | None = None
    first_day = last_day = None
    sent: tuple[datetime, datetime] | None = None  # an anchored step: when it may go out
    if (at is None) == (every is None):
        fail(None, f"langkah {key}: isi salah satu, at (terhadap tanggal acuan) atau every")
    elif every is not None:
        try:
            recurrence = parse_every(str(every))
        except ValueError as exc:
            fail("every", f"langkah {key}: {exc}")
        for name in ("from", "until"):
            if name in item and _as_date(item[name]) is None:
                fail(name, f"langkah {key}: {name} bukan tanggal; tulis seperti 2026-12-01")
        first_day, last_day = _as_date(item.get("from")), _as_date(item.get("until"))
        if first_day and last_day and last_day < first_day:
            fail("until", f"langkah {key}: until sebelum from")
        if anchor_name is not None:
            fail("anchor", f"langkah {key}: langkah berulang tidak memakai anchor")
        if expires is not None and parse_duration(str(expires)) is None:
            fail("expires", f"langkah {key}: expires langkah berulang ditulis seperti '12 jam'")
        if checkin is not None and parse_duration(checkin.deadline or str(expires)) is None:
            fail("deadline", f"langkah {key}: deadline langkah berulang ditulis seperti '4 jam'")
    else:
        if anchor_name is None and len(anchors) == 1:
            anchor_name = next(iter(anchors))
        if anchor_name is None:
            fail(
                "anchor" if "anchor" in item else "at",
                f"langkah {key}: sebutkan anchor (tanggal acuan dari [anchors])"
                if anchors
                else f"langkah {key}: agenda tanpa [anchors]; tambahkan tanggal acuan "
                "atau pakai every",
            )
        elif anchor_name not in anchors:
            fail("anchor", f"langkah {key}: tanggal acuan {anchor_name!r} tidak ada di [anchors]")
        else:
            day = anchors[anchor_name].day
            try:
                start = relative_at(str(at), day, profile.tz)
            except ValueError as exc:
                fail("at", f"langkah {key}: at {exc}")
            else:
                sent = (start, start)
                if expires is not None:
                    duration = parse_duration(str(expires))
                    try:
                        end = (
                            start + duration
                            if duration
                            else relative_at(str(expires), day, profile.tz)
                        )
                    except ValueError:
                        fail(
                            "expires",
                            f"langkah {key}: expires tulis seperti 'H-2 21.00' atau '12 jam'",
                        )
                    else:
                        if end <= start:
                            fail("expires", f"langkah {key}: expires harus setelah waktu kirim")
                        sent = (start, end)
                _check_deadline(checkin, start, expires, day, profile, key, fail)
    if isinstance(text, str) and not bad:
        in_quiet = _may_go_out_in_masa_tenang(
            profile, sent, recurrence, expires, first_day, last_day
        )
        findings = quiet_findings(text.strip(), guard_for(profile)) if in_quiet else []
        if findings:
            fail(
                "text",
                f"langkah {key}: dikirim pada masa tenang, aturannya lebih ketat: "
                + explain(findings).replace("\n", " "),
            )
    if bad:
        return None
    assert isinstance(key, str)
    return Step(
        key=key,
        audience=spec,
        priority=priority,
        message_key=message_key if isinstance(message_key, str) else None,
        text=text.strip() if isinstance(text, str) else None,
        at=str(at) if at is not None else None,
        anchor=str(anchor_name) if anchor_name is not None and every is None else None,
        every=recurrence,
        expires=str(expires) if expires is not None else None,
        first_day=first_day,
        last_day=last_day,
        checkin=checkin,
    )


def _check_deadline(
    checkin: CheckIn | None,
    start: datetime,
    expires: object,
    day: date,
    profile: ElectionProfile,
    key: str,
    fail: Callable[[str | None, str], None],
) -> None:
    if checkin is None:
        return
    try:
        resolve(checkin, start, str(expires) if expires is not None else None, day, profile.tz)
    except ValueError as exc:
        fail("deadline", f"langkah {key}: {exc}")
