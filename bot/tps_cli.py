"""`python -m bot import-tps FILE`: load the TPS registry from a CSV (see domain/tps_registry.py).

Every kelurahan named in the file gets exactly the TPS the file lists; other kelurahan keep
theirs. A bad row stops the whole import, and every bad row is printed with its line number.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.settings import SettingsError, load_settings
from bot.storage import run_job
from db.engine import SessionFactory
from domain.places import load_regions
from domain.tps_registry import ImportReport, RegistryRejected, import_registry
from election.profile import ElectionProfile
from scheduler.clock import SystemClock


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot import-tps",
        description=(
            "Muat daftar TPS dari CSV (kolom: kelurahan,tps,alamat,rw,rt,peta). "
            "Daftar TPS tiap kelurahan yang ada di berkas diganti seluruhnya; "
            "kelurahan lain tidak berubah. Satu baris salah: tidak ada yang dimuat."
        ),
    )
    parser.add_argument("file", type=Path, help="berkas CSV")
    parser.add_argument(
        "--by", type=int, default=None, help="ID Telegram petugas yang memuat (untuk log audit)"
    )
    return parser


def _import(file: Path, data: bytes, actor: int | None) -> ImportReport:
    async def job(sessions: SessionFactory, _profile: ElectionProfile) -> ImportReport:
        now = SystemClock().now()
        async with sessions.begin() as session:
            regions = await load_regions(session)
            return await import_registry(session, data, regions, actor, now, source=file.name)

    return run_job(load_settings(), job)


def main(argv: list[str]) -> int:
    args = list(argv)
    if args[:1] == ["import-tps"]:  # tolerate being handed the sub-command's name too
        args = args[1:]
    options = _parser().parse_args(args)
    file: Path = options.file
    try:
        data = file.read_bytes()
    except OSError as exc:
        print(f"import-tps: berkas {file} tidak dapat dibaca: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        report = _import(file, data, options.by)
    except RegistryRejected as exc:
        print(
            f"import-tps: {file.name} TIDAK dimuat — {len(exc.problems)} baris bermasalah, "
            "tidak ada yang diubah:",
            file=sys.stderr,
        )
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except SettingsError as exc:
        print(f"import-tps: {exc}", file=sys.stderr)
        return 2
    print(
        f"{file.name}: {report.tps} TPS di {report.kelurahan} kelurahan dimuat "
        f"({report.areas} wilayah RW/RT; {report.replaced} TPS lama diganti)."
    )
    return 0
