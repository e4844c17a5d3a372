"""The values a message can use, all taken from the election profile (and the clock).

Every placeholder is listed in ``PLACEHOLDERS`` with what it holds; the values are plain text
here and HTML-escaped by the renderer. Dates are Indonesian through Babel ("Rabu, 27 November
2024"), times are "07.00 WIB" with the zone label from the profile.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from babel.dates import format_date

if TYPE_CHECKING:
    from election.profile import ElectionProfile

LOCALE = "id"
DAY_FORMAT = "EEEE, d MMMM y"

#: The placeholders that speak of a provincial contest: empty, and refused by the message
#: check, for an election that has none (a re-vote of the city's contest alone).
PROVINCIAL_PLACEHOLDERS = frozenset({"province_name", "province_contest", "kpu_province_name"})

#: Every placeholder the profile provides, with what it holds (example from the Kota Malang
#: profile). Messages may also declare ``params``: values the caller passes in ``extra``.
PLACEHOLDERS: dict[str, str] = {
    "election_name": "nama pemilihan — 'Pilkada Serentak 2024'",
    "election_short": "nama singkat — 'Pilkada'",
    "region_name": "wilayah — 'Kota Malang'",
    "province_name": "provinsi — 'Jawa Timur' (hanya bila ada pemilihan provinsi)",
    "province_contest": "pemilihan provinsi, nama singkat — 'Pilgub Jatim' (hanya bila ada)",
    "contests": "daftar pemilihan, nama singkat — 'Pilgub Jatim dan Pilwali Kota Malang'",
    "contests_full": "daftar pemilihan, nama lengkap — 'Pemilihan Gubernur … dan Pemilihan …'",
    "ballot_count": "jumlah surat suara, dengan huruf — 'dua'",
    "ballots": "surat suara dan warnanya — 'Pilgub Jatim (merah) dan Pilwali Kota Malang "
    "(hijau toska)'",
    "election_day": "hari pemungutan suara — 'Rabu, 27 November 2024'",
    "election_date": "tanggal tanpa nama hari — '27 November 2024'",
    "election_weekday": "nama hari — 'Rabu'",
    "eve_day": "H-1 — 'Selasa, 26 November 2024'",
    "holiday_note": "' (hari libur nasional)' bila hari-H libur, selain itu kosong",
    "tz_label": "label zona waktu — 'WIB'",
    "tps_open": "TPS buka — '07.00 WIB'",
    "tps_close": "TPS tutup — '13.00 WIB'",
    "tps_hours": "jam TPS — '07.00–13.00 WIB'",
    "dpk_start": "awal jam pemilih DPK — '12.00 WIB'",
    "dpk_end": "akhir jam pemilih DPK — '13.00 WIB'",
    "dpk_hours": "jam pemilih DPK — '12.00–13.00 WIB'",
    "dptb_from": "pemilih DPTb dianjurkan datang mulai — '11.00 WIB' (tanpa nilai: jam buka TPS)",
    "pindah_deadline": "batas pindah memilih kategori khusus, H-7 — 'Rabu, 20 November 2024'",
    "masa_tenang_start": "awal masa tenang — 'Minggu, 24 November 2024'",
    "masa_tenang_end": "akhir masa tenang — 'Selasa, 26 November 2024'",
    "masa_tenang_range": "rentang masa tenang — '24–26 November 2024'",
    "recap_start": "awal rekapitulasi — 'Kamis, 28 November 2024' (tanpa nilai: "
    "'setelah penghitungan di TPS')",
    "recap_plenary": "rapat pleno rekapitulasi KPU kota — 'Selasa, 3 Desember 2024' (tanpa "
    "nilai: 'sesuai jadwal resmi KPU')",
    "results_announcement": "pengumuman hasil resmi — 'Minggu, 15 Desember 2024' (tanpa nilai: "
    "'sesuai jadwal resmi KPU')",
    "dpt_check_url": "situs cek DPT — 'https://cekdptonline.kpu.go.id'",
    "dpt_check_host": "situs cek DPT tanpa https:// — 'cekdptonline.kpu.go.id'",
    "voter_report_url": "situs lapor pemilih — 'https://laporpemilih.kpu.go.id' (tanpa nilai: "
    "situs cek DPT)",
    "voter_report_host": "situs lapor pemilih tanpa https:// — 'laporpemilih.kpu.go.id'",
    "kpu_name": "'KPU Kota Malang'",
    "kpu_province_name": "'KPU Provinsi Jawa Timur' (hanya bila ada pemilihan provinsi)",
    "government_name": "yang menjawab warga atas nama bot — 'Pemkot Malang' (tanpa nilai: "
    "'Pemerintah Kota Malang', dari wilayah)",
    "bawaslu_name": "'Bawaslu Kota Malang'",
    "bawaslu_report": "kalimat cara melapor ke Bawaslu, dari profil",
    "today": "hari ini menurut jam (zona pemilihan) — 'Senin, 25 November 2024'",
    "voting_when": "hari-H dan jam TPS dilihat dari sekarang, tanggal disebut sekali — '3 hari "
    "lagi: Rabu, 27 November 2024, pukul 07.00–13.00 WIB', 'hari ini, Rabu, 27 November 2024, "
    "TPS buka sampai 13.00 WIB', 'sudah dilaksanakan pada Rabu, 27 November 2024'",
    "relative_day": "hari-H dilihat dari sekarang — '3 hari lagi', 'besok', 'hari ini, TPS buka "
    "sampai 13.00 WIB', 'sudah dilaksanakan pada Rabu, 27 November 2024'",
}

_NUMBER_WORDS = {
    1: "satu",
    2: "dua",
    3: "tiga",
    4: "empat",
    5: "lima",
    6: "enam",
    7: "tujuh",
    8: "delapan",
    9: "sembilan",
    10: "sepuluh",
}


def format_day(day: date) -> str:
    """'Rabu, 27 November 2024'."""
    return format_date(day, DAY_FORMAT, locale=LOCALE)


def format_date_only(day: date) -> str:
    """'27 November 2024'."""
    return format_date(day, "d MMMM y", locale=LOCALE)


def format_time(at: time, label: str) -> str:
    """'07.00 WIB'."""
    return f"{at:%H.%M} {label}".strip()


def format_hours(start: time, end: time, label: str) -> str:
    """'07.00–13.00 WIB'."""
    return f"{start:%H.%M}–{end:%H.%M} {label}".strip()


def format_range(start: date, end: date) -> str:
    """'24–26 November 2024', '30 November – 2 Desember 2024', or one day."""
    if start == end:
        return format_date_only(start)
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{format_date_only(end)}"
    if start.year == end.year:
        return f"{format_date(start, 'd MMMM', locale=LOCALE)} – {format_date_only(end)}"
    return f"{format_date_only(start)} – {format_date_only(end)}"


def join_words(items: Iterable[str]) -> str:
    """'A', 'A dan B', 'A, B, dan C'."""
    parts = [item for item in items if item]
    if len(parts) <= 1:
        return "".join(parts)
    if len(parts) == 2:
        return f"{parts[0]} dan {parts[1]}"
    return f"{', '.join(parts[:-1])}, dan {parts[-1]}"


def number_word(n: int) -> str:
    return _NUMBER_WORDS.get(n, str(n))


def _host(url: str) -> str:
    parts = urlsplit(url)
    return (parts.netloc + parts.path.rstrip("/")) if parts.netloc else url


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime (use a Clock)")


def relative_day_phrase(profile: ElectionProfile, now_utc: datetime) -> str:
    """Election day as seen from ``now_utc``, compared in the election's own zone.

    '3 hari lagi', 'besok', on the day itself 'hari ini, TPS buka pukul 07.00–13.00 WIB'
    (before opening), 'hari ini, TPS buka sampai 13.00 WIB' (open), 'hari ini, TPS sudah
    tutup pukul 13.00 WIB' (closed), and afterwards 'sudah dilaksanakan pada Rabu, 27
    November 2024'. Reads after "Pemungutan suara …".
    """
    _require_aware(now_utc)
    label = profile.timezone_label
    local = now_utc.astimezone(profile.tz)
    days = (profile.election_day - local.date()).days
    if days > 1:
        return f"{days} hari lagi"
    if days == 1:
        return "besok"
    if days == 0:
        voting = profile.voting
        if local < profile.polls_open_at:
            return (
                f"hari ini, TPS buka pukul {format_hours(voting.tps_open, voting.tps_close, label)}"
            )
        if local < profile.polls_close_at:
            return f"hari ini, TPS buka sampai {format_time(voting.tps_close, label)}"
        return f"hari ini, TPS sudah tutup pukul {format_time(voting.tps_close, label)}"
    return f"sudah dilaksanakan pada {format_day(profile.election_day)}"


def voting_when_phrase(profile: ElectionProfile, now_utc: datetime) -> str:
    """Election day, its date and the TPS hours as seen from ``now_utc``, the date said once.

    Reads after "Pemungutan suara …": '3 hari lagi: Rabu, 27 November 2024, pukul 07.00–13.00
    WIB', on the day 'hari ini, Rabu, 27 November 2024, TPS buka sampai 13.00 WIB', afterwards
    'sudah dilaksanakan pada Rabu, 27 November 2024'.
    """
    _require_aware(now_utc)
    label = profile.timezone_label
    voting = profile.voting
    day = format_day(profile.election_day)
    days = (profile.election_day - now_utc.astimezone(profile.tz).date()).days
    hours = format_hours(voting.tps_open, voting.tps_close, label)
    if days > 1:
        return f"{days} hari lagi: {day}, pukul {hours}"
    if days == 1:
        return f"besok, {day}, pukul {hours}"
    if days == 0:
        if now_utc < profile.polls_open_at:
            return f"hari ini, {day}, pukul {hours}"
        if now_utc < profile.polls_close_at:
            return f"hari ini, {day}, TPS buka sampai {format_time(voting.tps_close, label)}"
        return f"hari ini, {day}; TPS sudah tutup pukul {format_time(voting.tps_close, label)}"
    return f"sudah dilaksanakan pada {day}"


def build_context(profile: ElectionProfile, now: datetime) -> dict[str, str]:
    """Every placeholder in ``PLACEHOLDERS`` with its plain-text (not yet escaped) value."""
    _require_aware(now)
    label = profile.timezone_label
    voting = profile.voting
    refs = profile.references
    results = profile.results
    voter_report_url = refs.voter_report_url or refs.dpt_check_url
    provincial = profile.provincial_contest
    context = {
        "election_name": profile.name,
        "election_short": profile.short_name,
        "region_name": profile.region_name,
        "province_name": profile.province_name,
        "province_contest": provincial.short_name if provincial else "",
        "contests": join_words(c.short_name for c in profile.contests),
        "contests_full": join_words(c.name for c in profile.contests),
        "ballot_count": number_word(len(profile.contests)),
        "ballots": join_words(
            f"{c.short_name} ({c.ballot_colour})" if c.ballot_colour else c.short_name
            for c in profile.contests
        ),
        "election_day": format_day(profile.election_day),
        "election_date": format_date_only(profile.election_day),
        "election_weekday": format_date(profile.election_day, "EEEE", locale=LOCALE),
        "eve_day": format_day(profile.election_day - timedelta(days=1)),
        "holiday_note": " (hari libur nasional)" if profile.holiday else "",
        "tz_label": label,
        "tps_open": format_time(voting.tps_open, label),
        "tps_close": format_time(voting.tps_close, label),
        "tps_hours": format_hours(voting.tps_open, voting.tps_close, label),
        "dpk_start": format_time(voting.dpk_start, label),
        "dpk_end": format_time(voting.dpk_end, label),
        "dpk_hours": format_hours(voting.dpk_start, voting.dpk_end, label),
        "dptb_from": format_time(voting.dptb_from or voting.tps_open, label),
        "pindah_deadline": format_day(profile.election_day - timedelta(days=7)),
        "masa_tenang_start": format_day(profile.masa_tenang.start),
        "masa_tenang_end": format_day(profile.masa_tenang.end),
        "masa_tenang_range": format_range(profile.masa_tenang.start, profile.masa_tenang.end),
        "recap_start": (
            format_day(results.recap_start)
            if results.recap_start
            else "setelah penghitungan di TPS"
        ),
        "recap_plenary": (
            format_day(results.plenary) if results.plenary else "sesuai jadwal resmi KPU"
        ),
        "results_announcement": (
            format_day(results.announcement) if results.announcement else "sesuai jadwal resmi KPU"
        ),
        "dpt_check_url": refs.dpt_check_url,
        "dpt_check_host": _host(refs.dpt_check_url),
        "voter_report_url": voter_report_url,
        "voter_report_host": _host(voter_report_url),
        "kpu_name": refs.kpu_name,
        "kpu_province_name": refs.kpu_province_name,
        "government_name": refs.government_name or f"Pemerintah {profile.region_name}",
        "bawaslu_name": refs.bawaslu_name,
        "bawaslu_report": refs.bawaslu_report,
        "today": format_day(now.astimezone(profile.tz).date()),
        "relative_day": relative_day_phrase(profile, now),
        "voting_when": voting_when_phrase(profile, now),
    }
    missing = set(PLACEHOLDERS) ^ set(context)
    if missing:  # pragma: no cover - a programming error caught by the tests
        raise AssertionError(f"PLACEHOLDERS and build_context disagree on {sorted(missing)}")
    return context
