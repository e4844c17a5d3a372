"""Settings and the election profile: bad input stops start-up with one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings
from election.profile import DEFAULT_PROFILE, ProfileError, load_profile

ROOT = Path(__file__).resolve().parents[1]


def _run_bot(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ADMIN_"))}
    clean.update(env)
    clean["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=clean,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_start_without_token_prints_one_line_and_fails(tmp_path: Path) -> None:
    result = _run_bot(["run"], {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db"}, tmp_path)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "TELEGRAM_BOT_TOKEN" in lines[0] and "Traceback" not in result.stderr


def test_malformed_admin_ids_names_the_setting(tmp_path: Path) -> None:
    result = _run_bot(["run"], {"ADMIN_IDS": "pak lurah"}, tmp_path)
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert "ADMIN_IDS" in result.stderr


def test_token_is_never_echoed(tmp_path: Path) -> None:
    secret = "not-a-token-but-secret"
    result = _run_bot(["run"], {"TELEGRAM_BOT_TOKEN": secret}, tmp_path)
    assert result.returncode != 0
    assert secret not in result.stderr + result.stdout
    assert "TELEGRAM_BOT_TOKEN" in result.stderr


def test_migrate_command_is_idempotent(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/m.db"}
    first = _run_bot(["migrate"], env, tmp_path)
    second = _run_bot(["migrate"], env, tmp_path)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert first.stdout == second.stdout
    assert "revision" in first.stdout


def test_settings_parse_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:ABCDEFGHIJKLMNOP")
    monkeypatch.setenv("ADMIN_IDS", "11, 22,33")
    monkeypatch.setenv("TELEGRAM_BASE_URL", "http://127.0.0.1:8081/bot/")
    settings = load_settings()
    assert settings.admin_ids == frozenset({11, 22, 33})
    assert settings.token == "123456:ABCDEFGHIJKLMNOP"
    assert settings.telegram_base_url == "http://127.0.0.1:8081/bot"
    assert settings.base_file_url == "http://127.0.0.1:8081/file/bot"
    assert "ABCDEFGHIJ" not in repr(settings)


def test_missing_token_raises_settings_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    with pytest.raises(SettingsError, match="TELEGRAM_BOT_TOKEN"):
        _ = load_settings(_env_file=None).token


def test_default_profile_is_pilkada_2024_kota_malang() -> None:
    profile = load_profile()
    assert profile.election_day == date(2024, 11, 27)
    assert profile.timezone == "Asia/Jakarta" and profile.region_code == "35.73"
    assert [c.key for c in profile.contests] == ["pilgub", "pilwali"]
    assert profile.provincial_contest is profile.contests[0]
    assert (profile.province_name, profile.references.kpu_province_name) == (
        "Jawa Timur",
        "KPU Provinsi Jawa Timur",
    )
    assert profile.results.plenary == date(2024, 12, 3)  # KPU Kota Malang's recap plenary
    assert profile.polls_open_at == datetime(2024, 11, 27, 0, 0, tzinfo=UTC)
    assert profile.polls_close_at == datetime(2024, 11, 27, 6, 0, tzinfo=UTC)
    assert profile.in_masa_tenang(datetime(2024, 11, 26, 16, 59, tzinfo=UTC))  # 23.59 WIB
    assert not profile.in_masa_tenang(datetime(2024, 11, 26, 17, 0, tzinfo=UTC))  # H 00.00


def _profile_variant(tmp_path: Path, old: str, new: str) -> Path:
    text = DEFAULT_PROFILE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "p.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_a_revote_is_a_file_not_code(tmp_path: Path) -> None:
    path = _profile_variant(tmp_path, "election_day = 2024-11-27", "election_day = 2025-04-19")
    path.write_text(
        path.read_text()
        .replace("start = 2024-11-24", "start = 2025-04-16")
        .replace("end = 2024-11-26", "end = 2025-04-18"),
        encoding="utf-8",
    )
    assert load_profile(path).election_day == date(2025, 4, 19)


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ('timezone = "Asia/Jakarta"', 'timezone = "Asia/Malang"', "unknown time zone"),
        ("tps_close = 13:00:00", "tps_close = 06:00:00", "tps_open must be before"),
        ("dpk_start = 12:00:00", "dpk_start = 14:00:00", "DPK hour"),
        ("end = 2024-11-26", "end = 2024-11-28", "masa_tenang must end before"),
        ('name = "Pilkada Serentak 2024"', 'nama = "x"', "name"),
        ("election_day = 2024-11-27", "election_day = 27-11-2024", "not valid TOML"),
        ('province_name = "Jawa Timur"\n', "", "'pilgub' is provincial: set province_name"),
        ('kpu_province_name = "KPU Provinsi Jawa Timur"', "", "references.kpu_province_name"),
    ],
)
def test_bad_profiles_are_refused_clearly(tmp_path: Path, old: str, new: str, needle: str) -> None:
    path = _profile_variant(tmp_path, old, new)
    with pytest.raises(ProfileError, match=needle) as info:
        load_profile(path)
    assert str(path) in str(info.value)


def test_missing_profile(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="not found"):
        load_profile(tmp_path / "none.toml")
