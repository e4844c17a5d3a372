"""The rehearsal runs the real bot over a (short) timeline against the local server."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from bot.rehearsal import RehearsalOptions, rehearse
from bot.settings import Settings

SHORT_TIMELINE = """
election = "pilkada-2024-kota-malang"

[[entry]]
key = "h1-persiapan"
at = "H-1 16.00"
message = "h1.persiapan"
expires = "H 07.00"

[[entry]]
key = "h1-cek-logistik"
at = "H-1 17.00"
message = "checkin.logistik_tiba"
expires = "H-1 21.00"
deadline = "H-1 21.00"
category = "logistik"
answers = [
  { key = "sudah", label = "Sudah tiba" },
  { key = "belum", label = "Belum", report = "after_deadline" },
  { key = "masalah", label = "Ada masalah", report = "now" },
]

[[entry]]
key = "h-tps-buka"
at = "H 07.00"
message = "h.tps_buka"
expires = "H 11.00"
priority = 9

[[entry]]
key = "h-cek-tps-buka"
at = "H 07.15"
message = "checkin.tps_dibuka"
expires = "H 10.00"
deadline = "H 08.00"
category = "tps"
answers = [
  { key = "sudah", label = "Sudah dibuka" },
  { key = "belum", label = "Belum", report = "after_deadline" },
  { key = "masalah", label = "Ada masalah", report = "now" },
]

[[entry]]
key = "h-dpk"
at = "H 11.30"
message = "h.dpk"
expires = "H 12.45"
"""


@pytest.mark.long
@pytest.mark.both_databases
async def test_short_rehearsal_delivers_everything(tmp_path: Path, database: str) -> None:
    timeline = tmp_path / "timeline.toml"
    timeline.write_text(SHORT_TIMELINE, encoding="utf-8")
    settings = Settings(_env_file=None, timeline_file=timeline)  # type: ignore[call-arg]
    out = io.StringIO()
    result = await rehearse(
        settings,
        RehearsalOptions(
            rt_every=57, members=2, speed=240, server_error_rate=0.02, database_url=database
        ),
        out=out,
    )
    printed = out.getvalue()
    assert result.ok, printed
    assert result.groups == 58  # one RW group per kelurahan and one RT group
    by_key = {line.key: line for line in result.lines}
    assert set(by_key) == {
        "h1-persiapan",
        "h1-cek-logistik",
        "h-tps-buka",
        "h-cek-tps-buka",
        "h-dpk",
    }
    assert by_key["h1-persiapan"].counts == {"sent": 58}
    assert by_key["h1-cek-logistik"].counts == {"sent": 58}
    assert by_key["h-tps-buka"].counts == {"sent": 58}
    # The bot is kicked from one group after "TPS sudah buka": the group is then inactive (the
    # bot saw the kick) or its send fails with 403 (the kick was not yet processed); no other.
    dpk = by_key["h-dpk"].counts
    assert dpk["sent"] == 57 and dpk.get("failed", 0) <= 1 and set(dpk) <= {"sent", "failed"}
    assert result.too_many_requests == 0
    assert "Gladi selesai" in printed and "h-tps-buka" in printed
    # Both check-ins were answered, their no-answer lists sent after the deadline.
    assert [line.split()[0] for line in result.checkins] == ["h1-cek-logistik", "h-cek-tps-buka"]
    # Every official's copy of each no-answer list was delivered (the outbox says so).
    for line in result.checkins:
        listed = re.search(r"daftar tanpa jawaban ke (\d+) petugas \(terkirim (\d+)\)", line)
        assert listed is not None and listed[1] == listed[2] and int(listed[1]) >= 1, line
    # The field scene: two /lapor reports (one with a photo, one from a private chat) of one RW
    # within minutes are one
    # case; the posko took and closed it and referred a check-in's case; each change reached
    # the reporters' chat. Every figure is read back from the database (and the server).
    field = result.field
    assert field is not None, printed
    assert "adegan lapangan gagal" not in printed, printed
    assert (field.from_lapor, field.with_photo, field.lapor_cases) == (2, 1, 1), field
    assert field.from_checkins >= 2  # the troubled group's "Ada masalah", at least, to each
    assert field.reports == field.from_lapor + field.from_checkins
    assert field.grouped >= 1 and field.cases < field.reports
    assert (field.done, field.referred) == (1, 1) and field.handled >= 1
    # ditangani and selesai to both reporters' chats (private, group), dirujuk to the other
    assert field.told == 5, printed
    assert f"laporan {field.reports} (2 lewat /lapor" in printed
    # The /lapangan board, from the same domain code: the still-open check-in cases.
    assert "Papan /lapangan" in printed and field.board[0] in printed
    assert (
        any("Kel." in line or "Kelurahan" in line for line in field.board) or len(field.board) > 2
    )
