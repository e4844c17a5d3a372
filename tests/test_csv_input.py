"""Uploaded CSV files read one way (domain.csv_file): bad files refused by line, in Indonesian;
an unreadable database at start said in one line."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.storage import StorageUnavailable, open_storage
from domain import csv_file
from domain.answers import looks_like_nik
from domain.coverage import ListRejected, decode, parse_list
from domain.regions import read_regions
from domain.tps_registry import MAX_ROWS, parse_registry

NOW = datetime(2024, 11, 25, 1, 0, tzinfo=UTC)


def _problem(data: bytes) -> csv_file.CsvProblem:
    with pytest.raises(csv_file.CsvUnreadable) as caught:
        csv_file.read_rows(csv_file.decode(data), max_rows=10)
    return caught.value.problem


@pytest.mark.parametrize(
    ("data", "line", "words"),
    [
        (b'a,b\n1,2\n3,"4\n5,6\n', 3, "tanda kutip"),
        (b'a,b\n1,"2"x\n', 2, "tanda kutip"),
        (b"a,b\n1,2\n3," + b"9" * 200_000 + b"\n", 3, "lebih dari 2000 karakter"),
        (b"a,b\n" + b"1,2\n" * 11, 12, "lebih dari 10 baris"),
    ],
)
def test_bad_files_are_refused_at_their_line(data: bytes, line: int, words: str) -> None:
    problem = _problem(data)
    assert (problem.line, words in problem.reason) == (line, True), problem


@pytest.mark.parametrize(
    "data",
    ["kelurahan,rw\n".encode("utf-16"), b"kelurahan,rw\n\x00\x00", b"kel\x81urahan,rw\n"],
)
def test_files_that_are_not_text_say_so(data: bytes) -> None:
    with pytest.raises(csv_file.CsvUnreadable) as caught:
        csv_file.decode(data)
    assert "pengodean salah" in caught.value.problem.reason


def test_windows_1252_still_reads() -> None:
    assert csv_file.decode("kelurahan,rw\nOro-oro Dowo – é,1\n".encode("cp1252")).endswith("1\n")


def test_line_numbers_count_lines_inside_quoted_cells() -> None:
    rows = csv_file.read_rows('a,b\n"x\ny",1\n2,3\n', max_rows=10)
    assert [line for line, _ in rows] == [1, 2, 4]


def test_coverage_and_tps_imports_use_the_same_reasons() -> None:
    with pytest.raises(ListRejected) as caught:
        parse_list(decode(b'kelurahan,rw,rt\nSumbersari,1,"1\n'), read_regions())
    assert [(p.line, "tanda kutip" in p.reason) for p in caught.value.problems] == [(2, True)]
    with pytest.raises(ListRejected) as caught:
        decode("kelurahan,rw\n".encode("utf-16"))
    assert "pengodean" in caught.value.problems[0].reason
    parsed = parse_registry(
        "kelurahan,tps,alamat,rw\n" + "Sumbersari,1,Jl. A,1\n" * (MAX_ROWS + 1), read_regions()
    )
    assert not parsed.entries and "baris data" in parsed.problems[0].reason


def test_nik_is_found_anywhere_in_a_long_message() -> None:
    assert looks_like_nik("a" * 3900 + " 3573 0512 3456 0001")
    assert not looks_like_nik("a" * 3900 + " 12345")


async def test_an_unreadable_database_is_said_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "kentongan.db"
    path.write_bytes(b"this is not a database " * 200)
    with pytest.raises(StorageUnavailable) as caught:
        await open_storage(f"sqlite+aiosqlite:///{path}", frozenset({1}), NOW)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message and "backup" in message
    assert caught.value.__cause__ is None and not isinstance(caught.value, sqlite3.Error)


def test_the_cli_says_it_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    path = tmp_path / "kentongan.db"
    path.write_bytes(b"\x00garbage" * 500)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("ADMIN_IDS", "1")
    assert main(["migrate"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(path) in err and "Traceback" not in err, err
