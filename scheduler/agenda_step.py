"""One step of an agenda file (``[[step]]``): its fields checked and turned into a ``Step``.

The file format is documented in ``scheduler.agenda_file``; this module holds the per-step
rules (message or own text, audience, priority, time or recurrence, expiry, check-in fields,
acknowledgement, the stricter masa tenang rules for own text), each problem named by its field
so the file reader can give its line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from election.profile import ElectionProfile
from messages.library import Library
from messages.neutrality import explain, guard_for
from messages.quiet_period import quiet_findings
from messages.telegram_html import telegram_length, validate_html
from scheduler.agenda import DEFAULT_RECURRING_VALIDITY, AnchorDate, Step
from scheduler.audience import Audience, AudienceError
from scheduler.checkin import CHECKIN_FIELDS, CheckIn, label_check, parse_checkin, resolve
from scheduler.recurrence import Recurrence, parse_duration, parse_every, relative_at

_STEP_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,38}$")
STEP_FIELDS = CHECKIN_FIELDS | {
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
    "ack",
}


def as_date(value: object) -> date | None:
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


def parse_step(
    index: int,
    item: dict[str, Any],
    anchors: Mapping[str, AnchorDate],
    profile: ElectionProfile,
    library: Library,
    problem: Callable[[str | None, str], None],
) -> Step | None:
    """One ``[[step]]`` table (the ``index``-th) as a Step, or None after telling ``problem``
    every reason, each with the field it is about (None: the step itself)."""
    bad = False

    def fail(name: str | None, reason: str) -> None:
        nonlocal bad
        bad = True
        problem(name, reason)

    for name in sorted(set(item) - STEP_FIELDS):
        fail(
            name,
            f"kolom {name!r} tidak dikenal di langkah; yang boleh: "
            + ", ".join(sorted(STEP_FIELDS)),
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

    ack = item.get("ack", False)
    if not isinstance(ack, bool):
        fail("ack", f"langkah {key}: ack ditulis true atau false, tanpa tanda kutip")
        ack = False
    elif ack and checkin is not None:
        fail(
            "ack",
            f"langkah {key}: cek-in (answers) tidak memakai ack; grup yang tidak menjawab "
            "sudah dilaporkan setelah deadline",
        )
    elif ack and not profile.acknowledgement.chain:
        fail(
            "ack",
            f"langkah {key}: ack = true perlu rantai eskalasi di profil pemilihan "
            "([acknowledgement] chain), yang masih kosong; hapus ack atau isi rantainya",
        )

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
            if name in item and as_date(item[name]) is None:
                fail(name, f"langkah {key}: {name} bukan tanggal; tulis seperti 2026-12-01")
        first_day, last_day = as_date(item.get("from")), as_date(item.get("until"))
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
        ack=ack,
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
