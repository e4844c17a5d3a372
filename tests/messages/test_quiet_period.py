"""Masa tenang's stricter rules (issue 16): campaign material in any framing and survey results
are refused inside it; the ordinary guard alone lets these through."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from election.profile import load_profile
from election.resources import shipped_agendas, shipped_timeline
from messages.neutrality import Category, guard_for
from messages.quiet_period import check_text_at, quiet_findings
from messages.render import render
from scheduler.agenda import election_agenda, materialise
from scheduler.agenda_file import parse_agenda
from scheduler.timeline import load_timeline

PROFILE = load_profile()
GUARD = guard_for(PROFILE)

# Neutral by the ordinary guard (no voting call, no name), campaign material in masa tenang.
REFUSED_IN_MASA_TENANG = [
    ("Simak debat publik calon wali kota malam ini di TV lokal.", "materi kampanye"),
    ("Kenali rekam jejak calon sebelum Rabu.", "materi kampanye"),
    ("Visi misi para calon bisa dibaca di situs kpu.go.id.", "materi kampanye"),
    ("Hasil survei terbaru: 45% warga Malang sudah menentukan pilihan.", "hasil survei"),
    ("Elektabilitas semua pasangan naik minggu ini.", "hasil survei"),
    ("Quick count kemarin menunjukkan partisipasi tinggi.", "hasil survei"),
    ("Jajak pendapat warga RW 5 sudah ditutup.", "hasil survei"),
    ("Petahana sudah cuti, warga tetap tenang.", "petahana"),
    ("Mantan wali kota ikut kerja bakti Minggu pagi.", "jabatan lama calon"),
]
# Technical information and the city's own appeals stay allowed.
ALLOWED_IN_MASA_TENANG = [
    "Masa tenang 24–26 November. Jangan sebarkan hasil survei atau materi kampanye di grup.",
    "Mari jaga grup tetap netral: tidak mengirim materi kampanye, foto/nomor paslon, atau hasil "
    "survei.",
    "TPS buka Rabu 27 November pukul 07.00–13.00 WIB. Bawa KTP-el dan surat undangan.",
    "Kerja bakti di bawah pohon beringin balai RW, Minggu pukul 07.00.",
    "Tolak politik uang: pemberi dan penerima sama-sama bisa dipidana.",
    "Jumantik memeriksa jentik nyamuk di rumah warga hari Jumat.",
]


@pytest.mark.parametrize(("text", "rule"), REFUSED_IN_MASA_TENANG)
def test_refused_inside_masa_tenang_only(text: str, rule: str) -> None:
    assert GUARD.check(text) == []  # the ordinary guard lets it through
    findings = check_text_at(text, GUARD, in_masa_tenang=True)
    assert findings and all(f.category is Category.QUIET for f in findings)
    assert any(rule in f.term for f in findings), findings
    assert check_text_at(text, GUARD, in_masa_tenang=False) == []


@pytest.mark.parametrize("text", ALLOWED_IN_MASA_TENANG)
def test_technical_information_and_appeals_pass(text: str) -> None:
    assert check_text_at(text, GUARD, in_masa_tenang=True) == []


def test_everything_the_shipped_agendas_send_in_masa_tenang_passes() -> None:
    """The library messages the election timeline and the example agendas send inside masa
    tenang meet its rules too: everything the city sends."""
    agendas = [election_agenda(load_timeline(shipped_timeline(), PROFILE), PROFILE)]
    agendas += [
        parse_agenda(p.read_text(encoding="utf-8"), PROFILE)
        for p in sorted(shipped_agendas().glob("*.toml"))
    ]
    before = datetime.combine(PROFILE.masa_tenang.start, time(0, 0), PROFILE.tz) - timedelta(days=5)
    checked = 0
    for agenda in agendas:
        for planned in materialise(agenda, before, timedelta(days=40)):
            if not PROFILE.in_masa_tenang(planned.scheduled_at):
                continue
            html = planned.text or render(planned.message_key or "", PROFILE, planned.scheduled_at)
            assert quiet_findings(html, GUARD) == [], (agenda.name, planned.key)
            checked += 1
    assert checked >= 3  # masa tenang's own reminders at least
