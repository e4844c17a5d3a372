"""The TPS registry: reading the CSV, importing all-or-nothing, looking a TPS up; the CLI."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.tps_cli import main as tps_cli
from db.engine import SessionFactory
from db.models import AuditEntry, Tps, TpsArea
from domain.places import load_regions
from domain.regions import read_regions
from domain.tps import find_tps, has_registry, rts_of, rws_of
from domain.tps_registry import RegistryRejected, import_registry, parse_numbers, parse_registry

DATA = Path(__file__).parent / "data"
NOW = datetime(2024, 11, 20, 3, 0, tzinfo=UTC)
SUMBERSARI = "35.73.05.1005"
ORO_ORO_DOWO = "35.73.02.1008"
TLOGOMAS = "35.73.05.1003"


def test_number_lists() -> None:
    assert parse_numbers("5") == [5]
    assert parse_numbers("1-4;7") == [1, 2, 3, 4, 7]
    assert parse_numbers("01 - 03, 05/06") == [1, 2, 3, 5, 6]
    assert parse_numbers("") == []
    for bad in ("1-", "a", "0", "100", "5-3"):
        with pytest.raises(ValueError):
            parse_numbers(bad)


def test_a_good_file_reads_into_tps_with_their_areas() -> None:
    parsed = parse_registry((DATA / "tps-sumbersari.csv").read_text(), read_regions())
    assert parsed.problems == []
    by_key = {(e.kelurahan_code, e.number): e for e in parsed.entries}
    assert set(by_key) == {(SUMBERSARI, n) for n in (1, 2, 3, 4)} | {(ORO_ORO_DOWO, 1)}
    assert by_key[(SUMBERSARI, 1)].areas == {(1, None)}
    assert by_key[(SUMBERSARI, 1)].map_url == "https://maps.example.org/?q=tps1"
    assert by_key[(SUMBERSARI, 3)].areas == {(2, 5), (2, 6), (2, 7), (2, 8), (2, 10)}
    # Two rows of TPS 4 (one by name, one by code) merge into one TPS.
    assert by_key[(SUMBERSARI, 4)].areas == {(3, None), (4, None), (5, 1), (5, 2)}


def test_an_excel_file_with_semicolons_a_bom_and_other_headers_reads_too() -> None:
    parsed = parse_registry(
        (DATA / "tps-excel.csv").read_bytes().decode("utf-8-sig"), read_regions()
    )
    assert parsed.problems == []
    by_number = {e.number: e for e in parsed.entries}
    assert {e.kelurahan_code for e in parsed.entries} == {TLOGOMAS}  # "tlogomass" is a typo
    assert by_number[1].areas == {(1, 1), (1, 2), (1, 3), (1, 5)}
    assert by_number[3].areas == {(2, None)}


def test_every_bad_row_is_reported_with_its_line_number() -> None:
    parsed = parse_registry((DATA / "tps-bad.csv").read_text(), read_regions())
    lines = {p.line: p.reason for p in parsed.problems}
    assert sorted(lines) == [3, 4, 5, 6, 7, 8, 9]
    assert "tidak dikenal" in lines[3]
    assert "nomor TPS" in lines[4]
    assert "alamat kosong" in lines[5]
    assert "rw harus satu" in lines[6]
    assert lines[7].startswith("rt:")
    assert "baris 2" in lines[8] and "alamat lain" in lines[8]
    assert "peta" in lines[9]


def test_a_missing_column_is_reported_on_the_header_line() -> None:
    parsed = parse_registry("kelurahan,nomor,rt\nSumbersari,1,2\n", read_regions())
    assert [(p.line, "alamat" in p.reason and "rw" in p.reason) for p in parsed.problems] == [
        (1, True)
    ]
    assert parse_registry("", read_regions()).problems[0].line == 1
    assert parse_registry("kelurahan,tps,alamat,rw\n", read_regions()).problems


async def _counts(sessions: SessionFactory) -> tuple[int, int]:
    async with sessions() as session:
        tps = await session.scalar(select(func.count()).select_from(Tps))
        areas = await session.scalar(select(func.count()).select_from(TpsArea))
    return int(tps or 0), int(areas or 0)


async def test_import_is_all_or_nothing_and_replaces_only_the_kelurahan_in_the_file(
    sessions: SessionFactory,
) -> None:
    async with sessions.begin() as session:
        regions = await load_regions(session)
        report = await import_registry(
            session, (DATA / "tps-sumbersari.csv").read_bytes(), regions, 42, NOW, source="a.csv"
        )
    assert (report.kelurahan, report.tps, report.replaced) == (2, 5, 0)
    before = await _counts(sessions)
    assert before[0] == 5

    # A bad file changes nothing at all.
    with pytest.raises(RegistryRejected) as rejected:
        async with sessions.begin() as session:
            await import_registry(
                session, (DATA / "tps-bad.csv").read_bytes(), regions, 42, NOW, source="bad.csv"
            )
    assert len(rejected.value.problems) == 7
    assert await _counts(sessions) == before

    # A file for Sumbersari alone replaces Sumbersari and leaves Oro-oro Dowo.
    new = b"kelurahan,tps,alamat,rw,rt\nSumbersari,9,Balai Baru,1,,\n"
    async with sessions.begin() as session:
        report = await import_registry(session, new, regions, 43, NOW, source="b.csv")
    assert (report.kelurahan, report.tps, report.replaced) == (1, 1, 4)
    async with sessions() as session:
        numbers = sorted(
            (code, n) for code, n in await session.execute(select(Tps.kelurahan_code, Tps.number))
        )
        audits = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "tps.import"))
        ).all()
    assert numbers == [(ORO_ORO_DOWO, 1), (SUMBERSARI, 9)]
    assert [(a.actor_id, a.target) for a in audits] == [(42, "a.csv"), (43, "b.csv")]


async def test_lookup_by_rw_and_rt(sessions: SessionFactory) -> None:
    async with sessions() as session:
        assert not await has_registry(session)
    async with sessions.begin() as session:
        await import_registry(
            session,
            (DATA / "tps-sumbersari.csv").read_bytes(),
            await load_regions(session),
            None,
            NOW,
        )
    async with sessions() as session:
        assert await has_registry(session)
        assert await rws_of(session, SUMBERSARI) == [1, 2, 3, 4, 5]
        assert await rts_of(session, SUMBERSARI, 2) == [1, 2, 3, 4, 5, 6, 7, 8, 10]
        assert await rts_of(session, SUMBERSARI, 1) == []

        async def numbers(rw: int, rt: int | None) -> list[int]:
            return [t.number for t in await find_tps(session, SUMBERSARI, rw, rt)]

        assert await numbers(2, 3) == [2]
        assert await numbers(2, 7) == [3]
        assert await numbers(2, 9) == [2, 3]  # an RT the registry does not name: candidates
        assert await numbers(2, None) == [2, 3]
        assert await numbers(1, 4) == [1]  # the whole RW
        assert await numbers(5, 1) == [4]
        assert await numbers(7, 1) == []
        [tps4] = await find_tps(session, SUMBERSARI, 3, None)
        assert tps4.serves == "RW 03; RW 04; RT 01–02 / RW 05"
        [tps3] = await find_tps(session, SUMBERSARI, 2, 6)
        assert tps3.serves == "RT 05–08, 10 / RW 02"


def test_cli_imports_and_reports_bad_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.chdir(tmp_path)  # no .env from the project
    assert tps_cli([str(DATA / "tps-bad.csv")]) == 1
    err = capsys.readouterr().err
    assert "TIDAK dimuat" in err and "baris 3:" in err and "baris 9:" in err
    assert tps_cli(["import-tps", str(DATA / "tps-sumbersari.csv"), "--by", "7"]) == 0
    assert "5 TPS di 2 kelurahan" in capsys.readouterr().out
    assert tps_cli([str(tmp_path / "missing.csv")]) == 2
