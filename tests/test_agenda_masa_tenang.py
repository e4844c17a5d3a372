"""Agenda texts inside an election's masa tenang get the stricter rules (issue 16): through
`python -m bot agenda add`, with the line of the refused text; outside masa tenang the same
text loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from election.profile import load_profile
from scheduler.agenda_file import AgendaRejected, parse_agenda

DEBATE = "Simak debat publik calon wali kota di TV lokal malam ini."


def _anchored(at: str, text: str = DEBATE) -> str:
    return f"""
name = "siaran-warga"
title = "Siaran warga"
topic = "umum"

[anchors]
H = "pemilihan"

[[step]]
key = "pengingat"
at = "{at}"
expires = "12 jam"
text = "{text}"
"""


def _recurring(until: str) -> str:
    return f"""
name = "ronda-malam"
title = "Ronda malam"
topic = "keamanan"

[[step]]
key = "malam"
every = "hari 19.00"
from = 2024-11-01
until = {until}
text = "Hasil survei warga: 80% setuju ronda malam diperpanjang."
"""


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'shell.db'}")
    monkeypatch.setenv("ADMIN_IDS", "4242")
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_agenda_add_refuses_campaign_material_in_masa_tenang(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = env / "siaran-warga.toml"
    path.write_text(_anchored("H-2 19.00"), encoding="utf-8")  # Senin 25 November: masa tenang
    assert main(["agenda", "add", str(path)]) == 1
    err = capsys.readouterr().err
    assert "tidak dimuat; tidak ada yang berubah" in err
    assert "baris 13: langkah pengingat: dikirim pada masa tenang" in err
    assert "debat publik" in err
    # A week earlier the ordinary guard applies, and the same text is neutral.
    path.write_text(_anchored("H-9 19.00"), encoding="utf-8")
    assert main(["agenda", "add", str(path)]) == 0
    assert "siaran-warga dimuat" in capsys.readouterr().out


def test_a_step_sent_late_into_masa_tenang_counts() -> None:
    """H-4 23.00 with 12 hours' validity may still go out on 24 November."""
    profile = load_profile()
    with pytest.raises(AgendaRejected) as refused:
        parse_agenda(_anchored("H-4 23.00"), profile)
    assert "masa tenang" in str(refused.value.problems[0].reason)
    parse_agenda(_anchored("H-4 08.00"), profile)  # expires before masa tenang begins


def test_recurring_steps_are_judged_by_their_occurrences() -> None:
    profile = load_profile()
    parse_agenda(_recurring("2024-11-20"), profile)  # ends before masa tenang
    with pytest.raises(AgendaRejected) as refused:
        parse_agenda(_recurring("2024-11-30"), profile)
    assert "hasil survei" in refused.value.problems[0].reason.lower()


def test_technical_text_loads_inside_masa_tenang() -> None:
    text = "Rabu 27 November TPS buka pukul 07.00-13.00 WIB. Bawa KTP-el dan undangan."
    parse_agenda(_anchored("H-1 19.00", text), load_profile())
