"""The check catches each kind of break, naming the key and the reason."""

from __future__ import annotations

import pytest

from messages import check_library, load_library
from messages.check import check_message
from messages.library import LibraryError


def problems_for(write_library, profile, *specs) -> list[str]:
    library = load_library(write_library({"uji.toml": list(specs)}))
    return [str(p) for p in check_library(library, profile)]


def test_a_clean_message_passes(write_library, profile) -> None:
    assert (
        problems_for(
            write_library, profile, {"key": "uji.baik", "text": "<b>Halo</b> {region_name}"}
        )
        == []
    )


def test_unknown_placeholder(write_library, profile) -> None:
    problems = problems_for(write_library, profile, {"key": "uji.ph", "text": "Halo {nama_calon}"})
    assert problems == ["uji.ph: placeholder {nama_calon} tidak dikenal"]


def test_declared_params_are_filled_with_samples(write_library, profile) -> None:
    spec = {"key": "uji.params", "text": "Grup {nama_grup} terdaftar.", "params": ["nama_grup"]}
    assert problems_for(write_library, profile, spec) == []


def test_param_that_shadows_the_profile(write_library, profile) -> None:
    spec = {"key": "uji.params", "text": "{region_name}", "params": ["region_name"]}
    (problem,) = problems_for(write_library, profile, spec)
    assert problem.startswith("uji.params: params 'region_name' sudah disediakan profil")


def test_bad_placeholder_syntax(write_library, profile) -> None:
    (problem,) = problems_for(
        write_library, profile, {"key": "uji.ph", "text": "Jam {tps_open:>9}"}
    )
    assert problem.startswith("uji.ph: placeholder {tps_open:>9} tidak sah")


def test_too_long_counts_visible_utf16_units(write_library, profile) -> None:
    # 2049 emoji are 2049 Python characters but 4098 UTF-16 units: too long for Telegram.
    (problem,) = problems_for(write_library, profile, {"key": "uji.emoji", "text": "🙂" * 2049})
    assert problem == (
        "uji.emoji: terlalu panjang: 4098 karakter (UTF-16) setelah dirender, batas 4096"
    )
    # Tags are free and an entity counts once: 4096 visible characters fit.
    fits = {"key": "uji.pas", "text": "<b>" + "&amp;" * 4000 + "</b>" + "x" * 96}
    assert problems_for(write_library, profile, fits) == []


def test_too_long_after_rendering(write_library, profile) -> None:
    # {bawaslu_report} is 120+ characters: the template is short, the rendering is not.
    spec = {"key": "uji.render", "text": "x" * 4000 + "{bawaslu_report}"}
    (problem,) = problems_for(write_library, profile, spec)
    assert problem.startswith("uji.render: terlalu panjang: ")


def test_max_length_for_buttons(write_library, profile) -> None:
    spec = {
        "key": "uji.tombol",
        "format": "plain",
        "max_length": 10,
        "text": "✅ Sudah dibaca semua",
    }
    (problem,) = problems_for(write_library, profile, spec)
    assert problem == "uji.tombol: terlalu panjang: 20 karakter (UTF-16) setelah dirender, batas 10"


def test_empty_after_tags(write_library, profile) -> None:
    (problem,) = problems_for(write_library, profile, {"key": "uji.kosong", "text": "<b> </b>"})
    assert problem == "uji.kosong: teks kosong setelah tag dibuang"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<div>Halo</div>", "HTML tidak sah: tag <div> tidak didukung Telegram"),
        ("<b>Halo", "HTML tidak sah: tag <b> tidak ditutup"),
        ("Halo</b>", "HTML tidak sah: tag </b> ditutup tanpa pernah dibuka"),
        ("<b><i>Halo</b></i>", "HTML tidak sah: tag <i> harus ditutup sebelum </b>"),
        ("1 < 2", "HTML tidak sah: karakter < tidak di-escape (tulis &lt;) (dekat '< 2')"),
        ("RT & RW", "HTML tidak sah: karakter & tidak di-escape (tulis &amp;) (dekat '& RW')"),
        ("RT&nbsp;RW", "HTML tidak sah: entitas &nbsp; tidak dikenal Telegram"),
        ("<span>Halo</span>", 'HTML tidak sah: tag <span> hanya boleh dengan class="tg-spoiler"'),
        ("<br/>Halo", "HTML tidak sah: tag <br/> tidak boleh ditutup sendiri"),
        ("<a href=x/y>KPU</a>", "HTML tidak sah: nilai atribut pada <a> harus diapit tanda kutip"),
    ],
)
def test_bad_html(write_library, profile, text: str, reason: str) -> None:
    problems = problems_for(write_library, profile, {"key": "uji.html", "text": text})
    assert any(p.startswith(f"uji.html: {reason}") for p in problems), problems


@pytest.mark.parametrize(
    "text",
    # Telegram accepts these (a bare >, a link without href or with any scheme, unknown
    # attributes are ignored); the check follows Telegram, not a stricter list of its own.
    [
        "2 > 1",
        "<a>KPU</a>",
        '<a href="">KPU</a>',
        '<a href="javascript:x">KPU</a>',
        '<b class="x">Halo</b>',
    ],
)
def test_html_telegram_accepts(write_library, profile, text: str) -> None:
    assert problems_for(write_library, profile, {"key": "uji.html", "text": text}) == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Ayo coblos no. 2!", "tidak netral: Mengajak memilih nomor urut pasangan calon"),
        ("Salam dari Bu Khofifah", "tidak netral: Menyebut nama calon (Khofifah)."),
        ("Kader <b>PDI-P</b> hadir", "tidak netral: Menyebut partai politik (PDI Perjuangan)."),
        ("Malang Berkelas!", "tidak netral: Memakai jargon kampanye pasangan calon"),
        ("Didukung KIM Plus", "tidak netral: Menyebut koalisi partai pengusung (KIM Plus)."),
    ],
)
def test_partisan_terms(write_library, profile, text: str, reason: str) -> None:
    problems = problems_for(write_library, profile, {"key": "uji.partisan", "text": text})
    assert any(p.startswith(f"uji.partisan: {reason}") for p in problems), problems


def test_partisan_title(write_library, profile) -> None:
    spec = {"key": "uji.judul", "title": "Info Gerindra", "text": "Halo"}
    assert problems_for(write_library, profile, spec) == [
        "uji.judul: judul tidak netral: Menyebut partai politik (Gerindra)."
    ]


def test_escaped_profile_values_keep_html_valid(write_library, profile) -> None:
    tricky = profile.model_copy(update={"region_name": "Kota <Malang> & Batu"})
    library = load_library(
        write_library({"uji.toml": [{"key": "uji.esc", "text": "{region_name}"}]})
    )
    assert check_library(library, tricky) == []


def test_each_reason_is_reported_once(write_library, profile) -> None:
    library = load_library(
        write_library({"uji.toml": [{"key": "uji.dua", "text": "<b>{relative_day}"}]})
    )
    problems = check_message(library.get("uji.dua"), profile)
    assert [p.reason for p in problems] == ["HTML tidak sah: tag <b> tidak ditutup"]


def test_several_messages_each_named(write_library, profile) -> None:
    problems = problems_for(
        write_library,
        profile,
        {"key": "uji.a", "text": "{x}"},
        {"key": "uji.b", "text": "baik"},
        {"key": "uji.c", "text": "<u>"},
    )
    assert sorted({p.split(":")[0] for p in problems}) == ["uji.a", "uji.c"]


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"a.toml": [{"key": "uji.sama"}], "b.toml": [{"key": "uji.sama"}]},
            "uji.sama: kunci ganda: sudah dipakai di a.toml, dipakai lagi di b.toml",
        ),
        (
            {"a.toml": [{"key": "uji.aud", "audience": "semua"}]},
            "uji.aud: audience 'semua' tidak dikenal",
        ),
    ],
)
def test_duplicate_key_and_bad_audience_stop_the_load(write_library, files, expected) -> None:
    with pytest.raises(LibraryError) as info:
        load_library(write_library(files))
    assert str(info.value.problems[0]).startswith(expected)


@pytest.mark.parametrize(
    "text",
    [
        "Yang belum, ayo ke TPS sekarang.",
        "Silakan datang ke TPS pukul 07.00–13.00.",
        "Gunakan hak pilih Anda!",
        "Jangan golput!",
        "Ayo berangkat.",
    ],
)
def test_a_message_sent_after_voting_never_asks_people_to_go_to_the_tps(
    write_library, profile, text: str
) -> None:
    spec = {"key": "uji.sesudah", "text": text, "after_voting": True}
    (problem,) = problems_for(write_library, profile, spec)
    assert problem.startswith("uji.sesudah: dikirim setelah TPS tutup tetapi mengajak ke TPS")
    # The same text before voting is fine.
    assert problems_for(write_library, profile, {"key": "uji.sebelum", "text": text}) == []


@pytest.mark.parametrize(
    "text",
    [
        "Terima kasih kepada warga yang sudah datang ke TPS.",
        "Pemilih yang sudah antre sebelum 13.00 tetap dilayani.",
        "Penghitungan suara di TPS terbuka untuk umum.",
    ],
)
def test_past_tense_and_the_queue_rule_are_not_invitations(
    write_library, profile, text: str
) -> None:
    spec = {"key": "uji.sesudah", "text": text, "after_voting": True}
    assert problems_for(write_library, profile, spec) == []


def test_a_time_variant_after_voting_must_be_marked(write_library, profile) -> None:
    (problem,) = problems_for(write_library, profile, {"key": "jawab.x.selesai", "text": "Halo"})
    assert "after_voting = true" in problem


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "Pleno pada Selasa, 3 Desember 2024.",
            "menulis 'Selasa, 3 Desember 2024' langsung; pakai {recap_plenary} dari profil",
        ),
        (
            "Info resmi dari KPU Provinsi Jawa Timur.",
            "menulis 'KPU Provinsi Jawa Timur' langsung; pakai {kpu_province_name} dari profil",
        ),
        (
            "Hanya surat suara Pilgub Jatim.",
            "menulis 'Pilgub Jatim' langsung; pakai {province_contest} dari profil",
        ),
        ("Jadwal (WIB)", "menulis 'WIB' langsung; pakai {tz_label} dari profil"),
        (
            "Dijawab Petugas Pemkot Malang.",
            "menulis 'Pemkot Malang' langsung; pakai {government_name} dari profil",
        ),
    ],
)
def test_a_fact_of_the_profile_written_out_is_refused(
    write_library, profile, text: str, reason: str
) -> None:
    assert problems_for(write_library, profile, {"key": "uji.fakta", "text": text}) == [
        f"uji.fakta: {reason}"
    ]


def test_the_same_words_through_placeholders_pass(write_library, profile) -> None:
    text = (
        "Pleno {kpu_name} ({recap_plenary}); {province_contest} di {kpu_province_name}. "
        "Jadwal ({tz_label}). Petugas {government_name}. Wibawa tetap."
    )
    assert problems_for(write_library, profile, {"key": "uji.fakta", "text": text}) == []


def test_a_provincial_placeholder_needs_a_provincial_contest(write_library, profile) -> None:
    # A re-vote of the city's contest alone: its profile names no province.
    city_only = profile.model_copy(
        update={"contests": [c for c in profile.contests if not c.provincial]}
    )
    spec = {"key": "uji.prov", "text": "Pindahan dari {province_name}: {province_contest}."}
    assert problems_for(write_library, profile, spec) == []
    assert problems_for(write_library, city_only, spec) == [
        "uji.prov: placeholder {province_contest} menyebut pemilihan provinsi, tetapi profil "
        "pilkada-2024-kota-malang tidak punya pemilihan provinsi (provincial = true)"
    ]
