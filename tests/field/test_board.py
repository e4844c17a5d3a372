"""The field board on real SQLite: counts by place, category and age; text, CSV, PNG; the
check-ins' hook; the shell's `report field`."""

from __future__ import annotations

import concurrent.futures
import csv
import io
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.field_chart import field_chart
from bot.report_cli import main as report_main
from db.engine import SessionFactory
from domain.field import board as board_module
from domain.field.board import age_bucket, age_label, board_csv, board_text, field_board
from domain.field.cases import Action, change
from domain.field.reports import open_report
from election.profile import ElectionProfile
from messages.telegram_html import visible_text
from tests.field.test_field_domain import (
    CITY_ADMIN,
    KLOJEN,
    LOWOKWARU,
    NOW,
    ORO_ORO_DOWO,
    SUMBERSARI,
    group,
)


async def scenario(sessions: SessionFactory) -> None:
    oro = await group(sessions, -1001, ORO_ORO_DOWO, rw=5)
    oro2 = await group(sessions, -1002, ORO_ORO_DOWO, rw=6)
    tunggul = await group(sessions, -1003, SUMBERSARI, rw=1)
    async with sessions.begin() as session:
        for gid, category, minutes in (
            (oro, "logistik", 150), (oro2, "logistik", 40), (oro, "keamanan", 10),
            (tunggul, "tps", 5), (tunggul, "cuaca", 20),
        ):  # fmt: skip
            await open_report(
                session, group_id=gid, reporter_id=71, category=category, description="x",
                source="lapor", now=NOW - timedelta(minutes=minutes),
            )  # fmt: skip
        await change(session, CITY_ADMIN, 5, Action.REFER, NOW)  # cuaca at Sumbersari


def test_ages() -> None:
    assert age_bucket(timedelta(minutes=29)) == "<30m"
    assert age_bucket(timedelta(minutes=90)) == "30m-2j"
    assert age_bucket(timedelta(hours=3)) == ">2j"
    assert age_label(timedelta(minutes=150)) == "2 jam 30 menit"
    assert age_label(timedelta(minutes=7)) == "7 menit"


async def test_board_by_place_category_and_age(
    sessions: SessionFactory, profile: ElectionProfile
) -> None:
    await scenario(sessions)
    async with sessions() as session:
        city = await field_board(session, None, NOW)
        klojen = await field_board(session, KLOJEN, NOW)
        lowokwaru = await field_board(session, LOWOKWARU, NOW)
    assert (len(city.open_cases), city.new, city.handling, city.closed) == (4, 4, 0, 1)
    assert [c.category for c in klojen.open_cases] == ["logistik", "logistik", "keamanan"]
    assert [c.category for c in lowokwaru.open_cases] == ["tps"] and lowokwaru.closed == 1
    assert city.by_category_and_age()["logistik"] == {">2j": 1, "30m-2j": 1}
    text = visible_text(board_text(city, profile, "se-Kota Malang"))
    assert "Jumlah kasus terbuka: 4 (baru 4, ditangani 0); sudah ditutup: 1." in text
    assert "Kec. Klojen: 3 terbuka" in text and "Kec. Lowokwaru: 1 terbuka" in text
    assert "• Oro-oro Dowo: 📦 Logistik pemilihan ×2, 🚨 Gangguan keamanan" in text
    assert "Umur: 2 jam 30 menit" in text
    rows = list(csv.reader(io.StringIO(board_csv(city, profile).decode("utf-8-sig"))))
    assert rows[0][:3] == ["kasus", "kecamatan", "kelurahan"] and len(rows) == 5
    assert rows[1][:7] == ["1", "Klojen", "Oro-oro Dowo", "5", "", "logistik", "baru"]
    assert rows[1][-4:] == ["150", ">2j", "1", ""]
    png = field_chart(city, profile, "uji")
    assert png.startswith(b"\x89PNG")


async def test_check_ins_add_their_counts_through_the_hook(
    sessions: SessionFactory, profile: ElectionProfile, monkeypatch: pytest.MonkeyPatch
) -> None:
    await scenario(sessions)

    async def answers(
        session: AsyncSession, scope: str | None, now: datetime
    ) -> dict[str, dict[str, int]]:
        return {ORO_ORO_DOWO: {"sudah": 3, "belum": 1}}

    monkeypatch.setattr(board_module, "CHECKIN_SOURCES", [answers])
    async with sessions() as session:
        city = await field_board(session, None, NOW)
    assert city.checkins == {ORO_ORO_DOWO: {"sudah": 3, "belum": 1}}
    assert "Check-in: sudah 3 · belum 1" in visible_text(board_text(city, profile, "kota"))
    assert b"checkin" in board_csv(city, profile)


@pytest.fixture
def shell_env(monkeypatch: pytest.MonkeyPatch, db_url: str, tmp_path: Path) -> Path:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("ADMIN_IDS", "")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run_cli(argv: list[str]) -> int:
    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # its own event loop, as the shell
        return pool.submit(report_main, argv).result()


async def test_report_field_from_the_shell(
    sessions: SessionFactory, shell_env: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    await scenario(sessions)
    assert _run_cli(["field"]) == 0
    out = capsysbinary.readouterr().out.decode()
    assert "Laporan lapangan yang masih terbuka — se-Kota Malang" in out and "<b>" not in out
    assert _run_cli(["field", "--format", "csv", "--kecamatan", LOWOKWARU]) == 0
    rows = list(csv.reader(io.StringIO(capsysbinary.readouterr().out.decode("utf-8-sig"))))
    assert [r[5] for r in rows[1:]] == ["tps"]
    assert _run_cli(["field", "--format", "png"]) == 0
    assert (shell_env / "laporan-lapangan.png").read_bytes().startswith(b"\x89PNG")
    assert _run_cli(["field", "--kecamatan", "35.73.99"]) == 1
