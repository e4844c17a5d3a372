"""Answers to residents, without Telegram: the right library text, said relative to now.

Also the small pure pieces around them: the NIK detector and the per-user flood bucket.
"""

from __future__ import annotations

import ast
import re
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest

from domain import answers as answers_module
from domain.answers import MENU, Answer, answer, answer_key, looks_like_nik, note_for
from domain.flood import TokenBucket, Verdict
from domain.intents import Intent
from election.profile import ElectionProfile
from messages.check import invites_to_tps
from messages.render import render
from messages.telegram_html import visible_text


def _at(profile: ElectionProfile, days: int, hour: int, minute: int = 0) -> datetime:
    return profile.local(profile.election_day + timedelta(days=days), time(hour, minute))


def _text(html: str) -> str:
    return visible_text(html)


@pytest.mark.parametrize("intent", [i for i in Intent])
def test_every_intent_has_an_answer_from_the_library(
    intent: Intent, profile: ElectionProfile
) -> None:
    now = _at(profile, -2, 8)
    reply = answer(intent, profile, now, has_tps_registry=True)
    assert reply.key == f"jawab.{intent.value}"
    assert render(reply.key, profile, now) in reply.html
    assert reply.show_menu is (intent in (Intent.UNKNOWN, Intent.BANTUAN))


def test_tps_without_a_registry_says_how_to_check(profile: ElectionProfile) -> None:
    assert answer_key(Intent.TPS) == "jawab.tps_tanpa_registri"
    assert answer_key(Intent.TPS, has_tps_registry=True) == "jawab.tps"
    text = _text(answer(Intent.TPS, profile, _at(profile, -2, 8)).html)
    assert "cekdptonline.kpu.go.id" in text and "NIK" in text


def test_when_depends_on_now(profile: ElectionProfile) -> None:
    def kapan(now: datetime) -> str:
        return _text(answer(Intent.KAPAN, profile, now).html)

    assert "Pemungutan suara 3 hari lagi." in kapan(_at(profile, -3, 9))
    assert "Pemungutan suara besok." in kapan(_at(profile, -1, 20))
    assert "hari ini, TPS buka pukul 07.00–13.00 WIB" in kapan(_at(profile, 0, 6))
    assert "hari ini, TPS buka sampai 13.00 WIB" in kapan(_at(profile, 0, 10))
    assert "hari ini, TPS sudah tutup pukul 13.00 WIB" in kapan(_at(profile, 0, 14))
    assert "sudah dilaksanakan pada Rabu, 27 November 2024" in kapan(_at(profile, 2, 9))


def test_notes_put_an_answer_in_time(profile: ElectionProfile) -> None:
    two_days_before = _at(profile, -2, 8)  # in masa tenang, after the H-7 deadline
    assert note_for(Intent.JAM, profile, two_days_before) is None
    assert note_for(Intent.MASA_TENANG, profile, two_days_before) == "warga.catatan_masa_tenang"
    assert note_for(Intent.PINDAH, profile, two_days_before) == "warga.catatan_pindah_lewat"
    assert note_for(Intent.PINDAH, profile, _at(profile, -10, 8)) is None
    assert note_for(Intent.MASA_TENANG, profile, _at(profile, -5, 8)) is None

    jam_open = _text(answer(Intent.JAM, profile, _at(profile, 0, 9, 30)).html)
    assert jam_open.startswith("⏰ Pemungutan suara hari ini, TPS buka sampai 13.00 WIB.")
    syarat_after = _text(answer(Intent.SYARAT, profile, _at(profile, 1, 9)).html)
    assert syarat_after.startswith(
        "ℹ️ Pemungutan suara sudah dilaksanakan pada Rabu, 27 November 2024."
    )
    pindah = _text(answer(Intent.PINDAH, profile, two_days_before).html)
    assert "Rabu, 20 November 2024, sudah lewat" in pindah
    tenang = _text(answer(Intent.MASA_TENANG, profile, two_days_before).html)
    assert tenang.startswith("🤫 Hari ini, Senin, 25 November 2024, termasuk masa tenang.")
    # Results and reporting are never marked as past.
    assert note_for(Intent.HASIL, profile, _at(profile, 1, 9)) is None
    assert note_for(Intent.LAPOR, profile, _at(profile, 1, 9)) is None


def test_unknown_never_states_a_fact(profile: ElectionProfile) -> None:
    text = _text(answer(Intent.UNKNOWN, profile, _at(profile, -2, 8)).html)
    assert "belum bisa menjawab" in text
    assert not re.search(r"\d{1,2}\.\d{2}|November|TPS buka", text)


def test_partisan_questions_get_the_neutral_answer(profile: ElectionProfile) -> None:
    text = _text(answer(Intent.NETRAL, profile, _at(profile, -2, 8)).html)
    assert "tidak menilai, tidak menyarankan" in text
    assert "07.00–13.00" in text


def test_the_neutral_answer_follows_the_clock(profile: ElectionProfile) -> None:
    def netral(now: datetime) -> Answer:
        return answer(Intent.NETRAL, profile, now)

    assert netral(_at(profile, -2, 8)).key == "jawab.netral"
    during = netral(_at(profile, 0, 10))
    assert during.key == "jawab.netral.hari_h"
    assert "hari ini, TPS buka sampai 13.00 WIB" in _text(during.html)
    for now in (_at(profile, 0, 13, 1), _at(profile, 0, 20), _at(profile, 3, 9)):
        after = netral(now)
        assert after.key == "jawab.netral.selesai", now
        text = _text(after.html)
        assert "07.00–13.00" not in text and invites_to_tps(text) == [], text
        assert "Hasil resmi" in text


@pytest.mark.parametrize("intent", [i for i in Intent])
def test_no_answer_after_the_polls_close_asks_anyone_to_go_to_the_tps(
    intent: Intent, profile: ElectionProfile
) -> None:
    for now in (profile.polls_close_at, _at(profile, 0, 15), _at(profile, 1, 9)):
        text = _text(answer(intent, profile, now, has_tps_registry=True).html)
        assert invites_to_tps(text) == [], (intent, now, text)


@pytest.mark.parametrize(
    ("intent", "days", "hour", "key", "needle"),
    [
        (Intent.ANTRE, -2, 8, "jawab.antre", "saran waktu kehadiran"),
        (Intent.ANTRE, 0, 13, "jawab.antre.selesai", "sudah hadir dan antre"),
        (Intent.ANTRE, 2, 9, "jawab.antre.lalu", "sudah dilaksanakan"),
        (Intent.HITUNG, 0, 14, "jawab.hitung", "terbuka untuk umum"),
        (Intent.HITUNG, 2, 9, "jawab.hitung.lalu", "3 Desember 2024"),
        (Intent.HP, 0, 9, "jawab.hp", "dilarang memotret"),
        (Intent.HP, 0, 14, "jawab.hp.selesai", "sudah tutup"),
        (Intent.GOLPUT, -2, 8, "jawab.golput", "tidak ada denda"),
        (Intent.TNI_POLRI, -2, 8, "jawab.tni_polri", "tidak menggunakan hak pilih"),
        (Intent.HAK_PILIH, -2, 8, "jawab.hak_pilih", "genap 17 tahun"),
        (Intent.PENDAMPING, -2, 8, "jawab.pendamping", "wajib merahasiakan pilihan"),
        (Intent.DIWAKILKAN, -2, 8, "jawab.diwakilkan", "tidak bisa diwakilkan"),
        (Intent.ATRIBUT, -2, 8, "jawab.atribut", "atribut kampanye"),
        (Intent.TERIMA_KASIH, -2, 8, "jawab.terima_kasih", "Sama-sama"),
        (Intent.HASIL, 1, 9, "jawab.hasil", "Selasa, 3 Desember 2024"),
        (Intent.PINDAH, -10, 9, "jawab.pindah", "hanya menerima surat suara Pilgub"),
    ],
)
def test_new_topics_have_specific_answers_in_time(
    profile: ElectionProfile, intent: Intent, days: int, hour: int, key: str, needle: str
) -> None:
    reply = answer(intent, profile, _at(profile, days, hour))
    assert reply.key == key
    assert needle in _text(reply.html)


def test_facts_the_fact_check_corrected(profile: ElectionProfile) -> None:
    before = _at(profile, -2, 8)
    dpk = _text(answer(Intent.DPK, profile, before).html)
    assert "laporpemilih" not in dpk and "12.00–13.00" in dpk
    lapor = _text(answer(Intent.LAPOR, profile, before).html)
    assert "laporpemilih" not in lapor
    for needle in ("Pengawas TPS", "Panwaslu Kelurahan", "7 hari", "bukti", "110"):
        assert needle in lapor, needle
    assert "Laporkan pelanggaran" not in lapor  # the profile sentence does not repeat it
    syarat = _text(answer(Intent.SYARAT, profile, before).html)
    assert "KTP-el, KTP digital (IKD), atau biodata penduduk" in syarat
    assert "bukan syarat" in syarat
    cara = _text(answer(Intent.CARA, profile, before).html)
    assert "hanya surat suara Pilgub" in cara


def test_unknown_offers_the_menu_and_an_official(profile: ElectionProfile) -> None:
    reply = answer(Intent.UNKNOWN, profile, _at(profile, -2, 8))
    assert reply.show_menu and reply.offer_officials
    assert "petugas" in _text(reply.html)
    assert not answer(Intent.KAPAN, profile, _at(profile, -2, 8)).offer_officials


def test_menu_covers_the_brief() -> None:
    assert [intent for _, intent in MENU] == [
        Intent.KAPAN,
        Intent.TPS,
        Intent.SYARAT,
        Intent.MASA_TENANG,
        Intent.LAPOR,
        Intent.BANTUAN,
    ]
    assert all(len(f"r:{intent.value}") <= 64 for _, intent in MENU)


def test_no_date_or_hour_is_written_in_the_answer_code() -> None:
    source = Path(answers_module.__file__).read_text(encoding="utf-8")
    strings = [
        node.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    for value in strings:
        assert not re.search(r"20\d\d|November|Desember|\d{1,2}\.\d{2}", value), value


@pytest.mark.parametrize(
    ("text", "nik"),
    [
        ("3573051234560001", True),
        ("nik saya 3573 0512 3456 0001 tolong cek", True),
        ("3573.0512.3456.0001", True),
        ("35730512345600011", False),  # 17 digits
        ("081234567890", False),  # a phone number
        ("rt 3 rw 5, tps 12", False),
        ("", False),
    ],
)
def test_nik_detection(text: str, nik: bool) -> None:
    assert looks_like_nik(text) is nik


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_default_flood_limit_fits_telegrams_private_chat_limit() -> None:
    clock = FakeTime()
    bucket = TokenBucket(clock=clock)
    assert [bucket.take() for _ in range(6)] == [Verdict.ALLOW] * 4 + [Verdict.WARN, Verdict.DROP]
    clock.now += 2
    assert bucket.take() is Verdict.ALLOW


def test_flood_bucket_allows_a_burst_warns_once_then_stays_silent_until_it_refills() -> None:
    clock = FakeTime()
    bucket = TokenBucket(capacity=8, refill_per_second=0.8, clock=clock)
    verdicts = [bucket.take() for _ in range(12)]
    assert verdicts == [Verdict.ALLOW] * 8 + [Verdict.WARN] + [Verdict.DROP] * 3
    assert bucket.seconds_to_next() == pytest.approx(1.25)
    clock.now += 1.0
    assert bucket.take() is Verdict.DROP  # not yet a whole token
    clock.now += 0.3
    assert bucket.take() is Verdict.ALLOW
    assert bucket.take() is Verdict.WARN  # a new episode gets a new notice
    clock.now += 60
    assert [bucket.take() for _ in range(8)] == [Verdict.ALLOW] * 8  # full again, not more
    assert bucket.take() is Verdict.WARN


def test_language_fixes_from_the_fact_check(profile: ElectionProfile) -> None:
    for now in (_at(profile, -3, 9), _at(profile, 0, 10), _at(profile, 0, 15), _at(profile, 2, 9)):
        greeting = _text(render("warga.sambutan", profile, now))
        assert greeting.count("27 November 2024") == 1, greeting
    assert "TPS sudah dibuka!" in _text(render("h.tps_buka", profile, _at(profile, 0, 7)))
    assert "Saring sebelum berbagi" in _text(render("hoaks.saring", profile, _at(profile, -2, 19)))
    assert "KPU Provinsi Jawa Timur" in _text(render("hoaks.saring", profile, _at(profile, -2, 19)))
    assert "pesan Anda masuk terlalu cepat" in render("warga.tunggu", profile, _at(profile, -2, 9))
    assert "tidak menyimpan daftar TPS" in render("jawab.tps_tanpa_registri", profile)
    tolak = render("politik_uang.tolak", profile, _at(profile, -2, 16))
    fajar = render("politik_uang.serangan_fajar", profile, _at(profile, -1, 20))
    assert tolak != fajar and "serangan fajar" in fajar
    for key in ("masa_tenang.mulai", "masa_tenang.berlangsung"):
        assert "UU 1/2015 jo. UU 10/2016, Pasal 187 ayat (1)" in render(key, profile)
    asn = _text(render("netralitas.asn", profile))
    assert "UU 1/2015 jo. UU 10/2016, Pasal 188" in asn and "Pasal 9 ayat (2)" in asn
    assert "Permendagri" not in render("netralitas.rt_rw", profile)
    closed = _text(render("h.tps_tutup", profile, _at(profile, 0, 13, 5)))
    assert "antre sebelum pukul itu tetap dilayani" in closed
