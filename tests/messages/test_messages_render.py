"""Rendering: Indonesian dates through Babel, "07.00 WIB", escaping, relative day phrases."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from election.profile import Results
from messages import PLACEHOLDERS, RenderError, Safe, build_context, relative_day_phrase, render
from messages.context import format_day, format_hours, format_range, format_time, join_words
from messages.library import Audience, Message, TextFormat
from scheduler.clock import FixedClock

WIB = ZoneInfo("Asia/Jakarta")


def msg(text: str, *, fmt: TextFormat = TextFormat.HTML, params: tuple[str, ...] = ()) -> Message:
    return Message(
        key="uji.pesan",
        title="Uji",
        audience=Audience.ALL_GROUPS,
        text=text,
        format=fmt,
        params=params,
    )


def wib(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    """A wall-clock time in Malang, handed over as UTC like a Clock does."""
    return datetime(y, m, d, hh, mm, tzinfo=WIB).astimezone(UTC)


def test_babel_indonesian_dates_and_wib_times(profile) -> None:
    assert format_day(date(2024, 11, 27)) == "Rabu, 27 November 2024"
    assert format_day(date(2024, 12, 15)) == "Minggu, 15 Desember 2024"
    assert format_time(time(7, 0), "WIB") == "07.00 WIB"
    assert format_hours(time(7, 0), time(13, 0), "WIB") == "07.00–13.00 WIB"
    text = render("h1.persiapan", profile, now=wib(2024, 11, 26, 9))
    assert "Rabu, 27 November 2024" in text
    assert "07.00–13.00 WIB" in text
    assert "(hari libur nasional)" in text
    assert "Pilgub Jatim dan Pilwali Kota Malang" in text


def test_context_values_from_the_profile(profile) -> None:
    context = build_context(profile, wib(2024, 11, 25, 8))
    assert set(context) == set(PLACEHOLDERS)
    assert context["election_day"] == "Rabu, 27 November 2024"
    assert context["tps_open"] == "07.00 WIB"
    assert context["tps_close"] == "13.00 WIB"
    assert context["dpk_start"] == "12.00 WIB"
    assert context["dpk_end"] == "13.00 WIB"
    assert context["dpk_hours"] == "12.00–13.00 WIB"
    assert context["dptb_from"] == "11.00 WIB"
    assert context["masa_tenang_start"] == "Minggu, 24 November 2024"
    assert context["masa_tenang_end"] == "Selasa, 26 November 2024"
    assert context["masa_tenang_range"] == "24–26 November 2024"
    assert context["results_announcement"] == "Minggu, 15 Desember 2024"
    assert context["recap_start"] == "Kamis, 28 November 2024"
    assert context["pindah_deadline"] == "Rabu, 20 November 2024"
    assert context["eve_day"] == "Selasa, 26 November 2024"
    assert context["contests"] == "Pilgub Jatim dan Pilwali Kota Malang"
    assert context["ballots"] == "Pilgub Jatim (merah) dan Pilwali Kota Malang (hijau toska)"
    assert context["ballot_count"] == "dua"
    assert context["dpt_check_host"] == "cekdptonline.kpu.go.id"
    assert context["voter_report_host"] == "laporpemilih.kpu.go.id"
    assert context["kpu_name"] == "KPU Kota Malang"
    assert context["kpu_province_name"] == "KPU Provinsi Jawa Timur"
    assert context["province_name"] == "Jawa Timur"
    assert context["province_contest"] == "Pilgub Jatim"
    assert context["recap_plenary"] == "Selasa, 3 Desember 2024"
    assert context["government_name"] == "Pemkot Malang"
    assert context["today"] == "Senin, 25 November 2024"
    assert context["relative_day"] == "2 hari lagi"


def test_optional_profile_values_have_safe_fallbacks(profile) -> None:
    bare = profile.model_copy(
        update={
            "holiday": False,
            "results": Results(),
            "voting": profile.voting.model_copy(update={"dptb_from": None}),
            "references": profile.references.model_copy(
                update={"voter_report_url": "", "government_name": ""}
            ),
        }
    )
    context = build_context(bare, wib(2024, 11, 25, 8))
    assert context["holiday_note"] == ""
    assert context["results_announcement"] == "sesuai jadwal resmi KPU"
    assert context["recap_start"] == "setelah penghitungan di TPS"
    assert context["recap_plenary"] == "sesuai jadwal resmi KPU"
    assert context["government_name"] == "Pemerintah Kota Malang"
    assert context["dptb_from"] == "07.00 WIB"
    assert context["voter_report_url"] == "https://cekdptonline.kpu.go.id"


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2024, 11, 24), date(2024, 11, 26), "24–26 November 2024"),
        (date(2024, 11, 30), date(2024, 12, 2), "30 November – 2 Desember 2024"),
        (date(2024, 12, 31), date(2025, 1, 1), "31 Desember 2024 – 1 Januari 2025"),
        (date(2024, 11, 24), date(2024, 11, 24), "24 November 2024"),
    ],
)
def test_format_range(start: date, end: date, expected: str) -> None:
    assert format_range(start, end) == expected


def test_join_words() -> None:
    assert join_words(["A"]) == "A"
    assert join_words(["A", "B"]) == "A dan B"
    assert join_words(["A", "B", "C"]) == "A, B, dan C"


# --- relative_day_phrase --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (wib(2024, 11, 24, 9), "3 hari lagi"),  # H-3
        (wib(2024, 11, 26, 9), "besok"),  # H-1
        (wib(2024, 11, 26, 23, 59), "besok"),  # 16.59 UTC on the 26th
        (wib(2024, 11, 27, 0, 30), "hari ini, TPS buka pukul 07.00–13.00 WIB"),  # 17.30 UTC, 26th
        (wib(2024, 11, 27, 6, 59), "hari ini, TPS buka pukul 07.00–13.00 WIB"),
        (wib(2024, 11, 27, 7, 0), "hari ini, TPS buka sampai 13.00 WIB"),
        (wib(2024, 11, 27, 10), "hari ini, TPS buka sampai 13.00 WIB"),
        (wib(2024, 11, 27, 13, 0), "hari ini, TPS sudah tutup pukul 13.00 WIB"),
        (wib(2024, 11, 27, 14), "hari ini, TPS sudah tutup pukul 13.00 WIB"),
        (wib(2024, 11, 28, 9), "sudah dilaksanakan pada Rabu, 27 November 2024"),  # H+1
        (wib(2024, 10, 28, 9), "30 hari lagi"),
    ],
)
def test_relative_day_phrase(profile, now: datetime, expected: str) -> None:
    assert relative_day_phrase(profile, FixedClock(now).now()) == expected


def test_relative_day_compares_dates_in_the_election_zone(profile) -> None:
    # 26 Nov 18.00 UTC is already 27 Nov 01.00 in Malang.
    assert relative_day_phrase(profile, datetime(2024, 11, 26, 18, tzinfo=UTC)).startswith(
        "hari ini"
    )


def test_relative_day_needs_an_aware_time(profile) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        relative_day_phrase(profile, datetime(2024, 11, 26, 9))


def test_jawab_kapan_speaks_relative_to_now(profile) -> None:
    before = render("jawab.kapan", profile, now=wib(2024, 11, 24, 9))
    during = render("jawab.kapan", profile, now=wib(2024, 11, 27, 10))
    after = render("jawab.kapan", profile, now=wib(2024, 11, 28, 9))
    assert "Pemungutan suara 3 hari lagi." in before
    assert "Pemungutan suara hari ini, TPS buka sampai 13.00 WIB." in during
    assert "Pemungutan suara sudah dilaksanakan pada Rabu, 27 November 2024." in after


# --- escaping and errors --------------------------------------------------------------------------


def test_values_are_html_escaped(profile) -> None:
    tricky = profile.model_copy(update={"region_name": 'Kota <Malang> & "Batu"'})
    text = render(msg("<b>{region_name}</b>"), tricky, now=wib(2024, 11, 25, 8))
    assert text == "<b>Kota &lt;Malang&gt; &amp; &quot;Batu&quot;</b>"


def test_extra_values_are_escaped_unless_safe(profile) -> None:
    now = wib(2024, 11, 25, 8)
    message = msg("RW {nama_rw}: {catatan}", params=("nama_rw", "catatan"))
    text = render(
        message, profile, now=now, extra={"nama_rw": "05 <Sukun>", "catatan": Safe("<b>ok</b>")}
    )
    assert text == "RW 05 &lt;Sukun&gt;: <b>ok</b>"


def test_plain_messages_are_not_escaped(profile) -> None:
    text = render(
        msg("{region_name} & <x>", fmt=TextFormat.PLAIN), profile, now=wib(2024, 11, 25, 8)
    )
    assert text == "Kota Malang & <x>"


def test_missing_placeholder_is_a_clear_error(profile) -> None:
    with pytest.raises(RenderError, match=r"uji\.pesan: placeholder \{nama_grup\} tidak dikenal"):
        render(msg("Halo {nama_grup}"), profile, now=wib(2024, 11, 25, 8))
    with pytest.raises(RenderError, match="isi lewat extra"):
        render(msg("Halo {nama_grup}", params=("nama_grup",)), profile, now=wib(2024, 11, 25, 8))


@pytest.mark.parametrize("text", ["{region_name:>10}", "{region_name!r}", "{a.b}", "{0}", "{ x}"])
def test_only_plain_placeholders(profile, text: str) -> None:
    with pytest.raises(RenderError, match="tidak sah"):
        render(msg(text), profile, now=wib(2024, 11, 25, 8))


def test_unbalanced_braces(profile) -> None:
    with pytest.raises(RenderError, match="kurung kurawal"):
        render(msg("Halo {region_name"), profile, now=wib(2024, 11, 25, 8))


def test_literal_braces(profile) -> None:
    assert render(msg("{{contoh}} {tz_label}"), profile, now=wib(2024, 11, 25, 8)) == "{contoh} WIB"


def test_extra_can_override_and_default_now_is_the_system_clock(profile) -> None:
    text = render(msg("{region_name}"), profile, extra={"region_name": "Kelurahan Sukun"})
    assert text == "Kelurahan Sukun"


def test_naive_now_is_refused(profile) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        render(msg("x"), profile, now=datetime(2024, 11, 25, 8))
