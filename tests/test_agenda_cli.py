"""`python -m bot agenda …`, `plan --agenda` and `report --agenda` from the shell."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.agenda_cli import AGENDAS_DIR
from bot.cli import main
from db.engine import SessionFactory
from db.models import Broadcast, BroadcastSource, BroadcastStatus, Delivery, DeliveryStatus, Group
from domain.reports import broadcast_report, recent_broadcasts

GOOD = """
name = "siskamling"
title = "Ronda malam"
topic = "keamanan"

[[step]]
key = "sabtu"
every = "sabtu 19.00"
expires = "3 jam"
message = "kerja_bakti.bulanan"
"""


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'shell.db'}")
    monkeypatch.setenv("ADMIN_IDS", "4242")
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_plan_lists_the_election_and_the_example_agendas(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan"]) == 0
    out = capsys.readouterr().out
    for name in ("pilkada-2024-kota-malang", "kerja-bakti-bulanan", "dbd-3m-plus"):
        assert f"== {name}" in out
    assert "h.tps_buka" in out and "dbd.psn_jumat" in out
    assert main(["plan", "--agenda", "kerja-bakti-bulanan"]) == 0
    one = capsys.readouterr().out
    assert "kerja_bakti.bulanan" in one and "h.tps_buka" not in one and "dbd" not in one
    assert main(["plan", "--agenda", "tidak-ada"]) == 1
    assert "tidak ada" in capsys.readouterr().err
    # The shell report takes the same filter; nothing of this agenda went out yet.
    assert main(["report", "--agenda", "dbd-3m-plus"]) == 1
    assert "Belum ada siaran" in capsys.readouterr().err


def test_agenda_add_pause_resume_list(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = env / "siskamling.toml"
    path.write_text(GOOD, encoding="utf-8")
    assert main(["agenda", "add", str(path)]) == 0
    assert "siskamling dimuat" in capsys.readouterr().out
    assert main(["agenda", "add", str(path)]) == 0
    assert "diperbarui" in capsys.readouterr().out
    assert main(["agenda", "pause", "siskamling"]) == 0
    assert "dijeda" in capsys.readouterr().out
    assert main(["agenda", "list"]) == 0
    listed = capsys.readouterr().out
    assert "siskamling · Ronda malam · topik Keamanan lingkungan · DIJEDA" in listed
    assert "dbd-3m-plus" in listed and "kerja-bakti-bulanan" in listed
    assert main(["agenda", "resume", "siskamling"]) == 0
    assert "berjalan lagi" in capsys.readouterr().out
    assert main(["agenda", "pause", "tidak-ada"]) == 1
    assert "tidak ada" in capsys.readouterr().err


def test_a_bad_agenda_file_is_refused_whole(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = GOOD.replace('topic = "keamanan"', 'topic = "kampanye"').replace(
        'every = "sabtu 19.00"', 'every = "sabtu malam"'
    )
    path = env / "bad.toml"
    path.write_text(bad, encoding="utf-8")
    assert main(["agenda", "add", str(path)]) == 1
    err = capsys.readouterr().err
    assert "tidak dimuat; tidak ada yang berubah" in err
    assert "baris 4: topic 'kampanye' tidak dikenal" in err
    assert "baris 8: langkah sabtu: every 'sabtu malam' tidak dikenali" in err
    assert main(["agenda", "list"]) == 0
    assert "siskamling" not in capsys.readouterr().out


def test_the_bundled_agendas_load() -> None:
    assert {p.name for p in AGENDAS_DIR.glob("*.toml")} >= {
        "kerja-bakti-bulanan.toml",
        "dbd-3m-plus.toml",
    }


async def test_reports_filter_by_agenda(sessions: SessionFactory) -> None:
    now = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)
    async with sessions.begin() as session:
        group = Group(chat_id=-5, subscribed=True, created_at=now, updated_at=now)
        session.add(group)
        ids = []
        for agenda in ("dbd-3m-plus", None):
            b = Broadcast(
                source=BroadcastSource.TIMELINE if agenda else BroadcastSource.LIBRARY,
                message_key="dbd.psn_jumat" if agenda else "hoaks.saring",
                audience="all",
                scheduled_at=now,
                started_at=now,
                status=BroadcastStatus.DONE,
                created_at=now,
                agenda=agenda,
            )
            session.add(b)
            await session.flush()
            session.add(
                Delivery(
                    broadcast_id=b.id,
                    group_id=group.id,
                    status=DeliveryStatus.SENT,
                    created_at=now,
                    updated_at=now,
                )
            )
            ids.append(b.id)
    async with sessions() as session:
        assert [b.id for b in await recent_broadcasts(session, agenda="dbd-3m-plus")] == [ids[0]]
        assert [b.id for b in await recent_broadcasts(session, agenda="siaran-langsung")] == [
            ids[1]
        ]
        assert len(await recent_broadcasts(session)) == 2
        report = await broadcast_report(session, None, agenda="dbd-3m-plus")
        assert report.broadcast.id == ids[0]


def test_plan_marks_the_steps_groups_must_acknowledge(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = env / "siskamling.toml"
    path.write_text(GOOD + "ack = true\n", encoding="utf-8")
    assert main(["agenda", "add", str(path)]) == 0
    capsys.readouterr()
    assert main(["plan", "--agenda", "siskamling"]) == 0
    out = capsys.readouterr().out.splitlines()
    sends = [i for i, line in enumerate(out) if "kerja_bakti.bulanan" in line]
    assert sends  # the saturdays in the window
    for i in sends:
        assert out[i + 1].strip().startswith("↳ WAJIB KONFIRMASI · bila grup diam: ")
        assert "(+60 menit)" in out[i + 1] and "(+240 menit)" in out[i + 1]
    # The profile's own step (voting morning) is marked too; others are not.
    assert main(["plan"]) == 0
    lines = capsys.readouterr().out.splitlines()
    (opening,) = [i for i, line in enumerate(lines) if " h.tps_buka " in f" {line} "]
    assert "WAJIB KONFIRMASI" in lines[opening + 1]
    (closing,) = [i for i, line in enumerate(lines) if " h.tps_tutup " in f" {line} "]
    assert "WAJIB KONFIRMASI" not in lines[closing + 1]

    path.write_text(GOOD + 'ack = "ya"\n', encoding="utf-8")
    assert main(["agenda", "add", str(path)]) == 1
    assert "ack ditulis true atau false" in capsys.readouterr().err
