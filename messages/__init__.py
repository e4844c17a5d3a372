"""kentongan's message library and neutrality guard. Never imports ``telegram``.

Messages are data: TOML files in ``messages/library/`` (one per theme), each ``[[message]]``
with ``key``, ``title``, ``audience`` and ``text`` in Telegram HTML (see
``messages.library`` for the format). Placeholders ``{name}`` are filled from the election
profile and HTML-escaped:

===========================  =================================================================
placeholder                  value (Kota Malang profile)
===========================  =================================================================
``election_name``            Pilkada Serentak 2024
``election_short``           Pilkada
``region_name``              Kota Malang
``province_name``            Jawa Timur (only with a provincial contest)
``province_contest``         Pilgub Jatim (the provincial contest's short name)
``contests``                 Pilgub Jatim dan Pilwali Kota Malang
``contests_full``            Pemilihan Gubernur … Jawa Timur dan Pemilihan Wali Kota … Malang
``ballot_count``             dua
``ballots``                  Pilgub Jatim (merah) dan Pilwali Kota Malang (hijau toska)
``election_day``             Rabu, 27 November 2024
``election_date``            27 November 2024
``election_weekday``         Rabu
``eve_day``                  Selasa, 26 November 2024
``holiday_note``             " (hari libur nasional)" or empty
``tz_label``                 WIB
``tps_open`` / ``tps_close`` 07.00 WIB / 13.00 WIB
``tps_hours``                07.00–13.00 WIB
``dpk_start`` / ``dpk_end``  12.00 WIB / 13.00 WIB
``dpk_hours``                12.00–13.00 WIB
``dptb_from``                11.00 WIB
``pindah_deadline``          Rabu, 20 November 2024 (H-7)
``masa_tenang_start``        Minggu, 24 November 2024
``masa_tenang_end``          Selasa, 26 November 2024
``masa_tenang_range``        24–26 November 2024
``recap_start``              Kamis, 28 November 2024
``recap_plenary``            Selasa, 3 Desember 2024 (the city KPU's recapitulation plenary)
``results_announcement``     Minggu, 15 Desember 2024
``dpt_check_url`` / ``_host``    https://cekdptonline.kpu.go.id / cekdptonline.kpu.go.id
``voter_report_url`` / ``_host`` https://laporpemilih.kpu.go.id / laporpemilih.kpu.go.id
``kpu_name``                 KPU Kota Malang
``kpu_province_name``        KPU Provinsi Jawa Timur (only with a provincial contest)
``government_name``          Pemkot Malang (residents' questions are answered in this name)
``bawaslu_name``             Bawaslu Kota Malang
``bawaslu_report``           the profile's sentence on how to report to Bawaslu
``today``                    today in the election's zone, e.g. Senin, 25 November 2024
``relative_day``             3 hari lagi · besok · hari ini, TPS buka sampai 13.00 WIB ·
                             sudah dilaksanakan pada Rabu, 27 November 2024
===========================  =================================================================

The authoritative list is ``messages.context.PLACEHOLDERS``. A message may also declare
``params`` (values the caller passes in ``extra``).

Public API::

    load_library(path=None) -> Library          # .get(key), .keys(), .by_audience(a)
    render(message_or_key, profile, now=None, extra=None, *, library=None) -> str
    relative_day_phrase(profile, now_utc) -> str
    check_library(library, profile) -> list[Problem]      # Problem(key, reason)
    check_text(text) -> list[Finding]            # Finding(term, category, reason, match)
    guard_for(profile).check(text)               # the profile's terms and link allowlist
    approval_findings(text, guard) -> ApprovalFindings  # names, numbers, symbols, links
    messages.cli.main(argv) -> int               # check | show KEY | list
"""

from messages.check import check_library, check_message
from messages.context import PLACEHOLDERS, build_context, relative_day_phrase
from messages.library import (
    Audience,
    Library,
    LibraryError,
    Message,
    Problem,
    UnknownMessageError,
    default_library,
    load_library,
)
from messages.neutrality import Category, Finding, check_text, explain, is_neutral
from messages.render import RenderError, Safe, render

__all__ = [
    "PLACEHOLDERS",
    "Audience",
    "Category",
    "Finding",
    "Library",
    "LibraryError",
    "Message",
    "Problem",
    "RenderError",
    "Safe",
    "UnknownMessageError",
    "build_context",
    "check_library",
    "check_message",
    "check_text",
    "default_library",
    "explain",
    "is_neutral",
    "load_library",
    "relative_day_phrase",
    "render",
]
