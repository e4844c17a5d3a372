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
    ack = true                            # optional: groups must acknowledge (see below)

    [[step]]
    key = "jumat-bersih"
    every = "jumat 07.00"                 # or "senin pertama 08.00", "tanggal 1 08.00",
                                          # "minggu terakhir 16.00", "hari 07.00"
    from = 2026-12-01                     # optional bounds (dates, inclusive)
    until = 2027-03-31
    expires = "12 jam"                    # default 12 jam for a recurring step
    message = "kerja_bakti.jumat_bersih"

A step with ``ack = true`` must be acknowledged ("✅ Sudah dibaca"): the election profile's
escalation chain (``[acknowledgement] chain``: a reminder in the group, its admin, the lurah's
and the camat's officials) follows the groups that stay silent, as ``/eskalasi`` asks of one
broadcast. Not on a check-in, and only when the profile has a chain.

A step with ``answers`` is a check-in (a question answered with buttons; ``deadline`` and
``category`` go with it): the format is in ``scheduler.checkin``.

Times are wall-clock in the city's zone (``scheduler.recurrence``). An official's own ``text``
follows the rules of /siaran (length, neutrality, Telegram HTML).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass

from election.profile import ElectionProfile
from messages.library import Library, default_library
from scheduler.agenda import ELECTION_ANCHOR, Agenda, AnchorDate, Step
from scheduler.agenda_step import as_date, parse_step
from scheduler.topics import TOPICS

MAX_STEPS = 200

# Short enough for callback data ("ag:p:<name>" within 64 bytes).
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,46}[a-z0-9]$")
_TOP_FIELDS = {"name", "title", "topic", "description", "sources", "anchors", "step"}


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
        elif (day := as_date(value)) is not None:
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
        if not isinstance(item, dict):
            problem(where.step(index), "setiap langkah ditulis sebagai tabel [[step]]")
            continue

        def at_field(name: str | None, reason: str, index: int = index) -> None:
            problem(where.step(index, name), reason)

        step = parse_step(index, item, anchors, profile, library, at_field)
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
