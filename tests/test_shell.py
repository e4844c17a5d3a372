"""Officials' shell commands: the same rules as in Telegram."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'shell.db'}")
    monkeypatch.setenv("ADMIN_IDS", "4242")
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)  # no developer .env
    return tmp_path


def test_plan_prints_the_timeline_in_wib(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan"]) == 0
    out = capsys.readouterr().out
    assert "Rab 27/11/2024 07.00 WIB" in out and "h.tps_buka" in out
    assert out.count("terjadwal") >= 8
    # Every column stays apart, however long a message key is.
    assert "masa_tenang.berlangsung " in out and "serangan_fajarall" not in out
    # Re-reading the file never duplicates.
    assert main(["plan"]) == 0
    assert capsys.readouterr().out == out


def test_broadcast_create_list_cancel(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["broadcast", "create", "--message", "hoaks.saring", "--as", "4242"]) == 0
    created = capsys.readouterr().out
    assert "terjadwal" in created
    number = created.split("#")[1].split(":")[0]
    assert main(["broadcast", "list"]) == 0
    assert f"#{number}" in capsys.readouterr().out
    assert main(["broadcast", "cancel", number, "--as", "4242"]) == 0
    assert "dibatalkan" in capsys.readouterr().out


def test_shell_refusals(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["broadcast", "create", "--message", "hoaks.saring", "--as", "7"]) == 1
    assert "hanya untuk petugas" in capsys.readouterr().err
    assert main(["broadcast", "create", "--text", "Coblos nomor 3!", "--as", "4242"]) == 1
    err = capsys.readouterr().err
    assert "tidak netral" in err and "<code>" not in err
    assert (
        main(
            ["broadcast", "create", "--message", "hoaks.saring", "--at", "kemarin", "--as", "4242"]
        )
        == 1
    )
    assert "tidak dikenali" in capsys.readouterr().err
    assert main(["broadcast", "create", "--message", "hoaks.saring"]) == 2
