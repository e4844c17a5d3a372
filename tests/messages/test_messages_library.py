"""The shipped library and the loader's validation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from messages import (
    Audience,
    LibraryError,
    UnknownMessageError,
    check_library,
    default_library,
    load_library,
    render,
)
from messages.check import sample_nows
from messages.library import LIBRARY_DIR

BROADCAST_KEYS = {
    "netralitas.rt_rw": Audience.RW_RT_GROUPS,
    "netralitas.asn": Audience.OFFICIALS,
    "masa_tenang.mulai": Audience.ALL_GROUPS,
    "logistik.awasi": Audience.RW_RT_GROUPS,
    "politik_uang.tolak": Audience.ALL_GROUPS,
    "hoaks.saring": Audience.ALL_GROUPS,
    "h1.persiapan": Audience.ALL_GROUPS,
    "h.tps_buka": Audience.ALL_GROUPS,
    "h.dpk": Audience.ALL_GROUPS,
    "h.satu_jam_lagi": Audience.ALL_GROUPS,
    "h.tps_tutup": Audience.ALL_GROUPS,
    "h.terima_kasih": Audience.ALL_GROUPS,
    "hasil.resmi_kpu": Audience.ALL_GROUPS,
    "sistem.sapaan_grup": Audience.ALL_GROUPS,
    "sistem.tombol.sudah_dibaca": Audience.ALL_GROUPS,
}
INTENTS = [
    "kapan",
    "jam",
    "tps",
    "syarat",
    "undangan",
    "dpk",
    "pindah",
    "masa_tenang",
    "politik_uang",
    "lapor",
    "hasil",
    "cara",
    "bantuan",
    "unknown",
    "netral",
]


def test_shipped_library_has_every_required_message() -> None:
    library = load_library()
    for key, audience in BROADCAST_KEYS.items():
        assert library.get(key).audience is audience, key
    for intent in INTENTS:
        assert library.get(f"jawab.{intent}").audience is Audience.RESIDENTS
    assert library.get("jawab.tps_tanpa_registri").audience is Audience.RESIDENTS


def test_every_shipped_message_passes_the_check(profile) -> None:
    assert check_library(load_library(), profile) == []


@pytest.mark.parametrize("key", load_library().keys())
def test_every_shipped_message_renders_at_every_sample_time(profile, key: str) -> None:
    # Messages that declare params get them from their caller; the check fills samples too.
    extra = {p: f"[contoh {p}]" for p in load_library().get(key).params}
    for now in sample_nows(profile):
        text = render(key, profile, now=now, extra=extra)
        assert text.strip()
        assert "{" not in text and "}" not in text


def test_button_label_and_greeting(profile) -> None:
    library = load_library()
    assert render("sistem.tombol.sudah_dibaca", profile) == "✅ Sudah dibaca"
    greeting = render(library.get("sistem.sapaan_grup"), profile)
    assert "/daftar" in greeting and "admin" in greeting


def test_keys_are_in_file_order_and_unique() -> None:
    library = load_library()
    keys = library.keys()
    assert len(keys) == len(set(keys)) == len(library)
    assert all(m.source.endswith(".toml") for m in library)


def test_by_audience() -> None:
    residents = default_library().by_audience("residents")
    assert {m.key for m in residents} >= {f"jawab.{i}" for i in INTENTS}


def test_unknown_key_is_a_clear_error() -> None:
    with pytest.raises(UnknownMessageError, match=r"pesan .tidak\.ada. tidak ada"):
        load_library().get("tidak.ada")


def test_library_is_package_data() -> None:
    assert Path(__file__).resolve().parents[2] / "messages" / "library" == LIBRARY_DIR
    assert sorted(p.name for p in LIBRARY_DIR.glob("*.toml"))


def test_messages_package_never_imports_telegram() -> None:
    code = (
        "import sys, messages, messages.cli, messages.check, messages.neutrality;"
        "from messages import check_library, load_library;"
        "from election.profile import load_profile;"
        "assert check_library(load_library(), load_profile()) == [];"
        "bad = [m for m in sys.modules if m == 'telegram' or m.startswith('telegram.')];"
        "assert not bad, bad"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


# --- the loader rejects broken libraries, naming file and key ------------------------------------


def _problems(folder: Path) -> list[str]:
    with pytest.raises(LibraryError) as info:
        load_library(folder)
    return [str(p) for p in info.value.problems]


def test_duplicate_key_names_both_files(write_library) -> None:
    folder = write_library(
        {"a.toml": [{"key": "uji.sama"}], "b.toml": [{"key": "uji.sama"}, {"key": "uji.lain"}]}
    )
    problems = _problems(folder)
    assert problems == ["uji.sama: kunci ganda: sudah dipakai di a.toml, dipakai lagi di b.toml"]


def test_bad_audience(write_library) -> None:
    folder = write_library({"a.toml": [{"key": "uji.aud", "audience": "warga"}]})
    (problem,) = _problems(folder)
    assert problem.startswith("uji.aud: audience 'warga' tidak dikenal")
    assert "rw_rt_groups" in problem and "a.toml" in problem


def test_missing_and_empty_fields(write_library) -> None:
    folder = write_library(
        {"a.toml": [{"key": "uji.tanpa_judul", "title": None}, {"key": "uji.kosong", "text": " "}]}
    )
    problems = _problems(folder)
    assert any(p.startswith("uji.tanpa_judul: kolom wajib 'title' tidak ada") for p in problems)
    assert any(p.startswith("uji.kosong: kolom 'text' harus teks") for p in problems)


def test_missing_key_is_named_by_file_and_position(write_library) -> None:
    folder = write_library({"a.toml": [{"key": "uji.satu"}, {"title": "Tanpa kunci"}]})
    (problem,) = _problems(folder)
    assert problem.startswith("a.toml#2: kolom wajib 'key' tidak ada")


def test_unknown_field_bad_key_format_and_bad_options(write_library) -> None:
    folder = write_library(
        {
            "a.toml": [
                {"key": "uji.typo", "txet": "x"},
                {"key": "TanpaTitik"},
                {"key": "uji.format", "format": "markdown"},
                {"key": "uji.panjang", "max_length": 5000},
                {"key": "uji.params", "params": ["Bukan Nama"]},
            ]
        }
    )
    problems = "\n".join(_problems(folder))
    assert "uji.typo: kolom tidak dikenal: txet" in problems
    assert "TanpaTitik: kunci harus huruf kecil bertitik" in problems
    assert "uji.format: format 'markdown' tidak dikenal" in problems
    assert "uji.panjang: max_length harus bilangan 1..4096" in problems
    assert "uji.params: params harus daftar nama" in problems


def test_invalid_toml_names_the_file(write_library) -> None:
    folder = write_library({"rusak.toml": "[[message]]\nkey = \n"})
    (problem,) = _problems(folder)
    assert problem.startswith("rusak.toml: bukan TOML yang sah")


def test_file_without_messages_and_stray_tables(write_library) -> None:
    folder = write_library({"a.toml": "[pesan]\nkey = 'x'\n"})
    problems = _problems(folder)
    assert any("hanya [[message]]" in p for p in problems)
    assert any("tidak berisi [[message]]" in p for p in problems)


def test_missing_or_empty_folder(tmp_path: Path) -> None:
    assert _problems(tmp_path / "tidak-ada")[0].endswith("pustaka pesan tidak ditemukan")
    assert _problems(tmp_path)[0].endswith("tidak ada berkas *.toml di folder ini")


def test_single_file_can_be_loaded(write_library) -> None:
    folder = write_library({"a.toml": [{"key": "uji.satu"}]})
    assert load_library(folder / "a.toml").keys() == ["uji.satu"]
