"""`python -m bot report …`: the officials' reports from the shell, on the same domain as the bot.

    python -m bot report [--broadcast ID] [--format text|csv|png] [--out FILE] [--kecamatan KODE]
    python -m bot report list [--kecamatan KODE] [--agenda NAMA]
    python -m bot report coverage [--format text|csv] [--out FILE] [--kecamatan KODE]
    python -m bot report coverage-import FILE [--kecamatan KODE]
    python -m bot report field [--format text|csv|png] [--out FILE] [--kecamatan KODE]

Without --broadcast the latest broadcast that went out; text and csv go to stdout unless --out;
png always goes to a file (default laporan-siaran-<ID>.png). --kecamatan limits every report
(and an import) to one kecamatan, as for an operator; --agenda limits the latest report and the
list to one agenda's broadcasts (`siaran-langsung`: officials' one-off broadcasts). `field`
is /lapangan's board of open field cases (png default: laporan-lapangan.png).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from bot.charts import report_chart
from bot.field_chart import field_chart
from bot.settings import SettingsError, load_settings
from bot.storage import run_job
from db.engine import SessionFactory
from db.models import Kecamatan
from domain.coverage import (
    ListRejected,
    coverage_csv,
    decode,
    import_list,
    neighbourhood_coverage,
    parse_list,
)
from domain.field.board import board_csv, board_text, field_board
from domain.places import scope_name
from domain.regions import read_regions
from domain.report_groups import group_lines, report_csv
from domain.report_text import coverage_text, recent_text, report_text
from domain.reports import ReportError, broadcast_report, recent_broadcasts
from election.profile import ElectionProfile
from messages.render import render
from messages.telegram_html import visible_text
from scheduler.clock import SystemClock

T = TypeVar("T")


class CliError(Exception):
    """A message for stderr; exit status 1."""


def _run(job: Callable[[SessionFactory, ElectionProfile], Awaitable[T]]) -> T:
    return run_job(load_settings(), job)


async def _check_kecamatan(sessions: SessionFactory, code: str | None) -> None:
    if code is None:
        return
    async with sessions() as session:
        if await session.get(Kecamatan, code) is None:
            raise CliError(f"kecamatan {code} tidak dikenal (contoh kode: 35.73.05)")


def _write(data: bytes, out: str | None) -> None:
    if out is None or out == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        Path(out).write_bytes(data)
        print(f"ditulis: {out} ({len(data)} bita)", file=sys.stderr)


def _text(html: str) -> bytes:
    return (visible_text(html) + "\n").encode()


def _report(args: argparse.Namespace) -> int:
    async def job(sessions: SessionFactory, profile: ElectionProfile) -> int:
        await _check_kecamatan(sessions, args.kecamatan)
        async with sessions() as session:
            try:
                report = await broadcast_report(
                    session, args.broadcast, args.kecamatan, args.agenda
                )
            except ReportError as exc:
                raise CliError(str(exc)) from None
            if args.format == "csv":
                lines = await group_lines(session, report.broadcast.id, args.kecamatan)
                _write(report_csv(lines, profile.tz, profile.timezone_label), args.out)
            elif args.format == "png":
                out = args.out or f"laporan-siaran-{report.broadcast.id}.png"
                _write(report_chart(report), out)
            else:
                _write(_text(report_text(report, profile)), args.out)
        return 0

    return _run(job)


def _list(args: argparse.Namespace) -> int:
    async def job(sessions: SessionFactory, profile: ElectionProfile) -> int:
        await _check_kecamatan(sessions, args.kecamatan)
        async with sessions() as session:
            recent = await recent_broadcasts(
                session, args.kecamatan, limit=args.limit, agenda=args.agenda
            )
        _write(_text(recent_text(recent, profile)), None)
        return 0

    return _run(job)


def _coverage(args: argparse.Namespace) -> int:
    async def job(sessions: SessionFactory, _profile: ElectionProfile) -> int:
        await _check_kecamatan(sessions, args.kecamatan)
        async with sessions() as session:
            report = await neighbourhood_coverage(session, args.kecamatan)
            scope = await scope_name(session, args.kecamatan)
        if args.format == "csv":
            _write(coverage_csv(report), args.out)
        else:
            _write(_text(coverage_text(report, scope)), args.out)
        return 0

    return _run(job)


def _coverage_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"berkas {path} tidak ada")
    data = path.read_bytes()

    async def job(sessions: SessionFactory, _profile: ElectionProfile) -> int:
        await _check_kecamatan(sessions, args.kecamatan)
        try:
            parsed = parse_list(decode(data), read_regions(), args.kecamatan)
        except ListRejected as exc:
            print("Daftar RW/RT tidak diimpor; tidak ada yang berubah:", file=sys.stderr)
            for problem in exc.problems:
                print(f"  {problem}", file=sys.stderr)
            return 1
        async with sessions.begin() as session:
            summary = await import_list(session, parsed, None, SystemClock().now())
        print(
            f"diimpor: {summary.kelurahan} kelurahan, {summary.rw} RW, {summary.rt} RT "
            f"(menggantikan {summary.replaced} baris lama)"
        )
        return 0

    return _run(job)


def _field(args: argparse.Namespace) -> int:
    async def job(sessions: SessionFactory, profile: ElectionProfile) -> int:
        await _check_kecamatan(sessions, args.kecamatan)
        now = SystemClock().now()
        async with sessions() as session:
            board = await field_board(session, args.kecamatan, now)
            scope = await scope_name(session, args.kecamatan)
        if args.format == "csv":
            _write(board_csv(board, profile), args.out)
        elif args.format == "png":
            title = render(
                "ui.lapangan.judul_grafik",
                profile,
                now,
                {"wilayah": scope, "jumlah": len(board.open_cases)},
            )
            _write(field_chart(board, profile, title), args.out or "laporan-lapangan.png")
        else:
            _write(_text(board_text(board, profile, scope, max_chars=10**9)), args.out)
        return 0

    return _run(job)


def build_parser(command: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot report", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--kecamatan", metavar="KODE", help="hanya satu kecamatan, mis. 35.73.05")
    parser.add_argument(
        "--agenda", metavar="NAMA", help="hanya siaran satu agenda (siaran-langsung: tanpa agenda)"
    )
    if command == "list":
        parser.add_argument("command")
        parser.add_argument("--limit", type=int, default=10)
    elif command == "coverage":
        parser.add_argument("command")
        parser.add_argument("--format", choices=("text", "csv"), default="text")
        parser.add_argument("--out", metavar="FILE")
    elif command == "field":
        parser.add_argument("command")
        parser.add_argument("--format", choices=("text", "csv", "png"), default="text")
        parser.add_argument("--out", metavar="FILE")
    elif command == "coverage-import":
        parser.add_argument("command")
        parser.add_argument("file", metavar="FILE")
    else:
        parser.add_argument("--broadcast", type=int, metavar="ID", help="default: the latest")
        parser.add_argument("--format", choices=("text", "csv", "png"), default="text")
        parser.add_argument("--out", metavar="FILE", help="default: stdout (png: a file)")
    return parser


COMMANDS: dict[str | None, Callable[[argparse.Namespace], int]] = {
    None: _report,
    "list": _list,
    "coverage": _coverage,
    "coverage-import": _coverage_import,
    "field": _field,
}


def main(argv: list[str]) -> int:
    command = argv[0] if argv and argv[0] in COMMANDS else None
    args = build_parser(command).parse_args(argv)
    try:
        return COMMANDS[command](args)
    except (CliError, SettingsError) as exc:
        print(f"kentongan report: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1:]))
