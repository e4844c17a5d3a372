"""``messages.cli.main``: check, show, list; exit codes and output."""

from __future__ import annotations

from pathlib import Path

from election.profile import DEFAULT_PROFILE
from messages.cli import main
from messages.library import load_library


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_passes_on_the_shipped_library(capsys) -> None:
    code, out, _ = run(capsys, "check")
    assert code == 0
    assert out.strip() == f"OK: {len(load_library())} pesan"


def test_check_fails_with_key_and_reason(capsys, write_library) -> None:
    folder = write_library(
        {
            "uji.toml": [
                {"key": "uji.baik", "text": "Halo {region_name}"},
                {"key": "uji.placeholder", "text": "Halo {nama_calon}"},
                {"key": "uji.html", "text": "<b>Halo"},
                {"key": "uji.partisan", "text": "Ayo coblos nomor 3"},
            ]
        }
    )
    code, out, _ = run(capsys, "check", "--library", str(folder))
    assert code == 1
    lines = out.strip().splitlines()
    assert "uji.placeholder: placeholder {nama_calon} tidak dikenal" in lines
    assert "uji.html: HTML tidak sah: tag <b> tidak ditutup" in lines
    assert any(line.startswith("uji.partisan: tidak netral: Mengajak memilih") for line in lines)
    assert not any(line.startswith("uji.baik") for line in lines)
    assert lines[-1] == "GAGAL: 3 masalah"


def test_check_reports_load_problems_per_key(capsys, write_library) -> None:
    folder = write_library(
        {
            "a.toml": [{"key": "uji.sama"}],
            "b.toml": [{"key": "uji.sama"}, {"key": "uji.aud", "audience": "publik"}],
        }
    )
    code, out, _ = run(capsys, "check", "--library", str(folder))
    assert code == 1
    assert "uji.sama: kunci ganda: sudah dipakai di a.toml, dipakai lagi di b.toml" in out
    assert "uji.aud: audience 'publik' tidak dikenal" in out


def test_show_renders_one_message(capsys) -> None:
    code, out, _ = run(capsys, "show", "h1.persiapan")
    assert code == 0
    assert "<b>Rabu, 27 November 2024</b>" in out
    assert "07.00–13.00 WIB" in out


def test_show_at_a_given_time_and_plain(capsys) -> None:
    code, out, _ = run(capsys, "show", "jawab.kapan", "--now", "2024-11-27T10:00+07:00", "--plain")
    assert code == 0
    assert "Pemungutan suara hari ini, TPS buka sampai 13.00 WIB." in out
    assert "<b>" not in out


def test_show_with_params(capsys, write_library) -> None:
    folder = write_library(
        {"a.toml": [{"key": "uji.grup", "text": "Grup {nama_grup}", "params": ["nama_grup"]}]}
    )
    code, out, _ = run(
        capsys, "show", "uji.grup", "--library", str(folder), "--set", "nama_grup=RW 5"
    )
    assert (code, out.strip()) == (0, "Grup RW 5")
    code, _, err = run(capsys, "show", "uji.grup", "--library", str(folder))
    assert code == 2 and "placeholder {nama_grup} tidak dikenal" in err


def test_show_unknown_key(capsys) -> None:
    code, out, err = run(capsys, "show", "tidak.ada")
    assert code == 2
    assert out == ""
    assert "pesan 'tidak.ada' tidak ada" in err


def test_show_needs_an_aware_time(capsys) -> None:
    code, _, err = run(capsys, "show", "jawab.kapan", "--now", "2024-11-27T10:00")
    assert code == 2 and "berzona" in err


def test_bad_profile(capsys, tmp_path: Path) -> None:
    code, _, err = run(capsys, "check", "--profile", str(tmp_path / "tidak-ada.toml"))
    assert code == 2
    assert "profil pemilihan tidak dapat dibaca" in err


def test_custom_profile(capsys, tmp_path: Path) -> None:
    source = DEFAULT_PROFILE
    psu = tmp_path / "psu.toml"
    text = source.read_text(encoding="utf-8")
    psu.write_text(text.replace("election_day = 2024-11-27", "election_day = 2024-12-11"))
    code, out, _ = run(capsys, "show", "h1.persiapan", "--profile", str(psu))
    assert code == 0 and "Rabu, 11 Desember 2024" in out
    assert run(capsys, "check", "--profile", str(psu))[0] == 0


def test_list(capsys) -> None:
    code, out, _ = run(capsys, "list")
    assert code == 0
    assert "netralitas.rt_rw\trw_rt_groups\tGrup RT/RW ruang netral" in out.splitlines()


def test_usage_errors_return_2(capsys) -> None:
    assert main([]) == 2
    assert main(["terbang"]) == 2
    assert main(["show"]) == 2
    assert main(["--help"]) == 0
    capsys.readouterr()


def test_check_honours_election_profile(capsys, tmp_path: Path, monkeypatch) -> None:
    broken = tmp_path / "rusak.toml"
    broken.write_text('key = "x"\n', encoding="utf-8")
    monkeypatch.setenv("ELECTION_PROFILE", str(broken))
    code, _, err = run(capsys, "check")
    assert code == 2 and str(broken) in err
