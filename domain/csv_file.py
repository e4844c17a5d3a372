"""Reading an uploaded CSV the same way for every import: decoded, split into rows with their
line numbers, or refused at the first line that cannot be read, with an Indonesian reason.

The reasons people hit: a file that is not text (UTF-16, a spreadsheet saved as .xlsx and
renamed), a quote opened and never closed (which swallows the rest of the file), a cell far
too long, too many rows. Imports check all of it before they write anything.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from domain.errors import library_text

MAX_FIELD = 2_000  # characters in one cell; no kelurahan, address or link is longer
_BYTES_SAMPLE = 4096


@dataclass(frozen=True)
class CsvProblem:
    line: int  # 1-based, as a spreadsheet shows it
    reason: str


class CsvUnreadable(Exception):
    def __init__(self, problem: CsvProblem) -> None:
        self.problem = problem
        super().__init__(f"{problem.line}: {problem.reason}")


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252 as old spreadsheets save it; CsvUnreadable
    for anything that is not text at all."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:_BYTES_SAMPLE]:
        raise CsvUnreadable(CsvProblem(1, library_text("berkas.csv.pengodean")))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    text = data.decode("cp1252", errors="replace")
    if "\ufffd" in text or "\x00" in text:
        line = text[: text.find("\ufffd") if "\ufffd" in text else text.find("\x00")].count("\n")
        raise CsvUnreadable(CsvProblem(line + 1, library_text("berkas.csv.pengodean")))
    return text


def delimiter_of(text: str) -> str:
    """ ";" when the first non-empty line has more of them than "," (Excel in Indonesian)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    return ";" if first.count(";") > first.count(",") else ","


def read_rows(
    text: str, *, max_rows: int, delimiter: str | None = None
) -> list[tuple[int, list[str]]]:
    """(line, cells) of every row, the header first; CsvUnreadable at the first bad line.

    ``max_rows`` counts data rows (not the header, not empty lines)."""
    if "\x00" in text:
        raise CsvUnreadable(CsvProblem(1, library_text("berkas.csv.pengodean")))
    reader = csv.reader(io.StringIO(text), delimiter=delimiter or delimiter_of(text), strict=True)
    rows: list[tuple[int, list[str]]] = []
    data_rows = 0
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return rows
        except csv.Error as exc:
            raise CsvUnreadable(CsvProblem(start, _reason(str(exc)))) from None
        if any(len(cell) > MAX_FIELD for cell in row):
            raise CsvUnreadable(
                CsvProblem(start, library_text("berkas.csv.sel_terlalu_panjang", batas=MAX_FIELD))
            )
        if rows and any(cell.strip() for cell in row):
            data_rows += 1
            if data_rows > max_rows:
                raise CsvUnreadable(
                    CsvProblem(
                        start, library_text("berkas.csv.terlalu_banyak_baris", batas=max_rows)
                    )
                )
        rows.append((start, row))
        start = reader.line_num + 1


def _reason(error: str) -> str:
    """Python's csv message, said for an official."""
    if "field larger than field limit" in error:
        return library_text("berkas.csv.sel_terlalu_panjang", batas=MAX_FIELD)
    if "unexpected end of data" in error or "expected after" in error or "EOF" in error:
        return library_text("berkas.csv.kutip")
    if "NUL" in error:
        return library_text("berkas.csv.pengodean")
    return library_text("berkas.csv.rusak")
